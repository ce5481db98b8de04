"""Helpers every tool module shares: error results, ticket lookup, truncation, formatting.

Failure policy (issue 3): a Helpdesk error becomes a short model-visible result
`{"error": "<what failed>: <why>"}` — except `ReauthRequired`, which propagates so the engine
can ask the user to link their account again. Previews fail with `PreviewError` instead.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, NoReturn

from pydantic import Field

from bot import prompts
from bot.helpdesk.errors import HelpdeskError, NotFound, OutcomeUnknown, ReauthRequired
from bot.helpdesk.models import Ticket
from bot.tooling import (
    Capabilities,
    PreviewError,
    ToolContext,
    ToolOutcome,
    describe_helpdesk_error,
)

MAX_ITEMS = 10  # lists the model sees are capped at this many entries
ELLIPSIS = "…"

TicketNumber = Annotated[
    int, Field(gt=0, description="The ticket's number as the user knows it, e.g. 3012.")
]
TicketStatus = Literal["open", "in_progress", "on_hold", "closed"]
OPEN_STATUSES: frozenset[str] = frozenset({"open", "in_progress", "on_hold"})

PRIORITY_LABELS = {1: "critical", 2: "high", 3: "normal", 4: "low", 5: "lowest"}
PRIORITY_HELP = "1 critical, 2 high, 3 normal, 4 low, 5 lowest"


def done_reply(name: str) -> Callable[[Mapping[str, Any]], str]:
    """A write's done text: `prompts/replies/<name>.md` with the outcome's ticket number."""

    def text(data: Mapping[str, Any]) -> str:
        return prompts.reply(name, number=data.get("ticket_number"))

    return text


def truncate(text: str | None, limit: int) -> str:
    """`text` cut to at most `limit` characters, ending in "…" when something was cut."""
    if text is None:
        return ""
    text = text.strip()
    if len(text) <= limit:
        return text
    return text[: limit - 1].rstrip() + ELLIPSIS


def iso(moment: datetime | None) -> str | None:
    """UTC ISO-8601 to the second with "Z" (compact, and what the API itself speaks)."""
    if moment is None:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.replace(microsecond=0, tzinfo=None).isoformat() + "Z"


def priority_label(priority: int | None) -> str:
    """ "3 — normal" (how priorities are shown to the user)."""
    if priority is None:
        return "not set"
    return f"{priority} — {PRIORITY_LABELS.get(priority, 'unknown')}"


def status_label(status: str) -> str:
    return status.replace("_", " ")


def failed(what: str, exc: HelpdeskError) -> ToolOutcome:
    """The model-visible result for a failed helpdesk call; ReauthRequired is re-raised."""
    if isinstance(exc, ReauthRequired):
        raise exc
    return ToolOutcome(
        {"error": f"{what}: {describe_helpdesk_error(exc)}"},
        outcome_unknown=isinstance(exc, OutcomeUnknown),
    )


@asynccontextmanager
async def concurrent_calls() -> AsyncIterator[asyncio.TaskGroup]:
    """A task group for helpdesk calls that do not depend on each other, so a slow helpdesk
    costs one round trip, not one per call. The first failure is raised as it is
    (ReauthRequired, PreviewError, ...), not wrapped in an ExceptionGroup; the others are
    cancelled."""
    try:
        async with asyncio.TaskGroup() as group:
            yield group
    except BaseExceptionGroup as failures:
        raise failures.exceptions[0]  # noqa: B904 - the group is only the wrapping


def not_found(ticket_number: int) -> ToolOutcome:
    return ToolOutcome({"error": f"ticket {ticket_number} not found"})


def preview_failed(what: str, exc: HelpdeskError) -> NoReturn:
    """Raise the PreviewError for a failed lookup; ReauthRequired is re-raised as it is."""
    if isinstance(exc, ReauthRequired):
        raise exc
    if isinstance(exc, NotFound):
        raise PreviewError(f"{what}: not found") from exc
    raise PreviewError(f"{what}: {describe_helpdesk_error(exc)}") from exc


async def find_ticket(ctx: ToolContext, ticket_number: int) -> Ticket | None:
    """The requesting user's ticket with this number (HelpdeskError propagates)."""
    return await ctx.helpdesk.find_ticket_by_number(ctx.auth, ticket_number)


async def ticket_for_preview(ctx: ToolContext, ticket_number: int) -> Ticket:
    """The user's ticket for a write's preview, or PreviewError("ticket N not found")."""
    try:
        ticket = await find_ticket(ctx, ticket_number)
    except HelpdeskError as exc:
        preview_failed(f"could not look up ticket {ticket_number}", exc)
    if ticket is None:
        raise PreviewError(f"ticket {ticket_number} not found")
    return ticket


def ticket_field(ticket: Ticket) -> tuple[str, str]:
    """The preview line that names a ticket: ("Ticket", "3012 — VPN drops")."""
    return ("Ticket", f"{ticket.ticket_number} — {ticket.subject}")


# --- who may use what (ToolSpec.allowed) -----------------------------------------------


def needs_module(name: str) -> Callable[[Capabilities], bool]:
    def allowed(caps: Capabilities) -> bool:
        return caps.has_module(name)

    return allowed


def tickets_module(caps: Capabilities) -> bool:
    return caps.has_module("tickets")


def may_create_tickets(caps: Capabilities) -> bool:
    return caps.can_create_tickets and caps.has_module("tickets")


def may_create_from_chat(caps: Capabilities) -> bool:
    return may_create_tickets(caps) and caps.has_module("chat")


def may_view_assets(caps: Capabilities) -> bool:
    return caps.can_view_assets and caps.has_module("assets")


def may_approve(caps: Capabilities) -> bool:
    return caps.is_manager and caps.has_module("tickets")
