"""Ticket write tools: create, comment, update, and turn the chat into a ticket.

Each write has a preview (what the user confirms) and, where the effect can be found again,
a `reconcile` that finds the effect of a write whose answer was lost. Writes run only after
the user confirmed the preview. Tools address tickets by ticket_number (what users see); the
API by ticket_id, so every handler looks the number up among the user's own tickets first.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from bot import prompts
from bot.helpdesk.errors import Conflict, HelpdeskError, NotFound, ReauthRequired
from bot.helpdesk.models import JobType
from bot.tooling import PreviewError, ToolContext, ToolOutcome, ToolSpec, WritePreview
from tools._common import (
    PRIORITY_HELP,
    TicketNumber,
    TicketStatus,
    concurrent_calls,
    done_reply,
    failed,
    find_ticket,
    may_create_from_chat,
    may_create_tickets,
    not_found,
    preview_failed,
    priority_label,
    status_label,
    ticket_field,
    ticket_for_preview,
    tickets_module,
)
from tools.related import duplicate_notices

DEFAULT_PRIORITY = 3  # what the API applies when none is sent
DEFAULT_JOB_TYPE = "General"
# `since` comes from our clock, `created_at` from the helpdesk's: allow a little skew.
CLOCK_SKEW = timedelta(seconds=5)


class CreateTicketArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    subject: str = Field(
        min_length=1, max_length=255, description="A short, specific title of the problem."
    )
    description: str = Field(
        min_length=1,
        max_length=5000,
        description="The symptoms, what the user already tried, and since when.",
    )
    priority: int | None = Field(
        default=None, ge=1, le=5, description=f"Urgency: {PRIORITY_HELP}; omit for 3."
    )
    job_type: str | None = Field(
        default=None,
        min_length=1,
        max_length=100,
        description="The helpdesk job type, e.g. Hardware, Software, Network, Email, "
        "'Account & Password', 'Access Request'; omit for General.",
    )


class AddTicketCommentArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ticket_number: TicketNumber
    comment: str = Field(
        min_length=1, max_length=5000, description="The comment, exactly as it is to be posted."
    )


class UpdateTicketArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ticket_number: TicketNumber
    status: TicketStatus | None = Field(
        default=None,
        description="The new status: 'closed' when the user says it is solved, 'open' to "
        "reopen it. Give status, priority or both.",
    )
    priority: int | None = Field(
        default=None, ge=1, le=5, description=f"The new priority: {PRIORITY_HELP}."
    )

    @model_validator(mode="after")
    def _changes_something(self) -> Self:
        if self.status is None and self.priority is None:
            raise ValueError("give status, priority or both")
        return self


class CreateTicketFromChatArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    subject: str | None = Field(
        default=None,
        min_length=1,
        max_length=255,
        description="A short title for the ticket; omit to let the helpdesk choose one.",
    )


# --- create_ticket ----------------------------------------------------------------------


async def _job_type(ctx: ToolContext, name: str) -> JobType | None:
    """The helpdesk's job type called `name` (any case); None if the list is unavailable."""
    try:
        kinds = await ctx.helpdesk.job_types(ctx.auth)
    except ReauthRequired:
        raise
    except HelpdeskError:
        return None  # the helpdesk validates it again when the ticket is created
    for kind in kinds:
        if kind.name.casefold() == name.casefold():
            return kind
    names = ", ".join(kind.name for kind in kinds)
    raise PreviewError(f"unknown job type '{name}'; use one of: {names}")


async def preview_create_ticket(ctx: ToolContext, args: CreateTicketArgs) -> WritePreview:
    # The job type and the duplicates are looked up at once: neither needs the other.
    async with concurrent_calls() as group:
        kind_task = group.create_task(_job_type(ctx, args.job_type)) if args.job_type else None
        related = group.create_task(duplicate_notices(ctx, f"{args.subject}\n{args.description}"))
    kind = kind_task.result() if kind_task is not None else None
    job_type = kind.name if kind else (args.job_type or DEFAULT_JOB_TYPE)
    notices, similar = related.result()
    if kind is not None and kind.requires_approval:
        notices = (f"{kind.name} tickets need your manager's approval first.", *notices)
    return WritePreview(
        title="Create a ticket",
        fields=(
            ("Subject", args.subject),
            ("Description", args.description),
            ("Priority", priority_label(args.priority or DEFAULT_PRIORITY)),
            ("Job type", job_type),
        ),
        notices=notices,
        similar_ticket_number=similar,
    )


def _created(number: int, subject: str, requires_approval: bool) -> ToolOutcome:
    data: dict[str, Any] = {
        "status": "done",
        "ticket_number": number,
        "subject": subject,
        "requires_approval": requires_approval,
    }
    if requires_approval:
        data["message"] = "It waits for the manager's approval before work starts."
    return ToolOutcome(data)


def created_text(data: Mapping[str, Any]) -> str:
    """What the user reads once a ticket is created (waiting for approval or not)."""
    name = "done_create_ticket" if data.get("subject") else "done_create_ticket_unnamed"
    if data.get("requires_approval"):
        name += "_for_approval"
    return prompts.reply(name, number=data.get("ticket_number"), subject=data.get("subject"))


def comment_instead(arguments: Mapping[str, Any], ticket_number: int) -> tuple[str, str]:
    """A proposed ticket that looks like an open one: comment on that one instead."""
    comment = str(arguments.get("description") or arguments.get("subject"))
    return "add_ticket_comment", json.dumps({"ticket_number": ticket_number, "comment": comment})


async def create_ticket(ctx: ToolContext, args: CreateTicketArgs) -> ToolOutcome:
    try:
        created = await ctx.helpdesk.create_ticket(
            ctx.auth,
            subject=args.subject,
            description=args.description,
            priority=args.priority,
            job_type=args.job_type,
        )
    except HelpdeskError as exc:
        return failed("could not create the ticket", exc)
    return _created(created.ticket_number, created.subject, created.requires_approval)


async def reconcile_create_ticket(
    ctx: ToolContext, args: CreateTicketArgs, since: datetime
) -> ToolOutcome | None:
    """The outcome if a ticket with this subject was created since `since`, else None.

    A failed lookup raises (HelpdeskError): None means "looked, and it did not happen".
    """
    page = await ctx.helpdesk.list_tickets(ctx.auth, status="all", limit=20)
    for t in page.tickets:  # newest first
        if t.created_at is not None and t.created_at < since - CLOCK_SKEW:
            break
        if t.subject.strip() == args.subject.strip():
            return _created(t.ticket_number, t.subject, t.approval_status == "pending")
    return None


# --- add_ticket_comment -----------------------------------------------------------------


async def preview_add_ticket_comment(ctx: ToolContext, args: AddTicketCommentArgs) -> WritePreview:
    ticket = await ticket_for_preview(ctx, args.ticket_number)
    closed = (f"Ticket {ticket.ticket_number} is closed.",) if ticket.status == "closed" else ()
    return WritePreview(
        title=f"Add a comment to ticket {ticket.ticket_number}",
        fields=(ticket_field(ticket), ("Comment", args.comment)),
        notices=closed,
    )


async def add_ticket_comment(ctx: ToolContext, args: AddTicketCommentArgs) -> ToolOutcome:
    number = args.ticket_number
    try:
        ticket = await find_ticket(ctx, number)
        if ticket is None:
            return not_found(number)
        await ctx.helpdesk.add_comment(ctx.auth, ticket.ticket_id, args.comment)
    except NotFound:
        return not_found(number)
    except HelpdeskError as exc:
        return failed(f"could not comment on ticket {number}", exc)
    return ToolOutcome({"status": "done", "ticket_number": number})


async def reconcile_add_ticket_comment(
    ctx: ToolContext, args: AddTicketCommentArgs, since: datetime
) -> ToolOutcome | None:
    """The outcome if this comment text was posted on the ticket since `since`, else None."""
    ticket = await find_ticket(ctx, args.ticket_number)
    if ticket is None:
        return None
    detail = await ctx.helpdesk.get_ticket(ctx.auth, ticket.ticket_id)
    for c in detail.public_comments:
        recent = c.created_at is None or c.created_at >= since - CLOCK_SKEW
        if recent and c.comment.strip() == args.comment.strip():
            return ToolOutcome({"status": "done", "ticket_number": args.ticket_number})
    return None


# --- update_ticket ----------------------------------------------------------------------


async def preview_update_ticket(ctx: ToolContext, args: UpdateTicketArgs) -> WritePreview:
    ticket = await ticket_for_preview(ctx, args.ticket_number)
    changes: list[tuple[str, str]] = []
    if args.status is not None and args.status != ticket.status:
        changes.append(("Status", f"{status_label(ticket.status)} → {status_label(args.status)}"))
    if args.priority is not None and args.priority != ticket.priority:
        changes.append(
            ("Priority", f"{priority_label(ticket.priority)} → {priority_label(args.priority)}")
        )
    if not changes:
        raise PreviewError(f"ticket {ticket.ticket_number} already has that status and priority")
    return WritePreview(
        title=f"Update ticket {ticket.ticket_number}", fields=(ticket_field(ticket), *changes)
    )


async def update_ticket(ctx: ToolContext, args: UpdateTicketArgs) -> ToolOutcome:
    number = args.ticket_number
    try:
        ticket = await find_ticket(ctx, number)
        if ticket is None:
            return not_found(number)
        updated = await ctx.helpdesk.update_ticket(
            ctx.auth, ticket.ticket_id, status=args.status, priority=args.priority
        )
    except NotFound:
        return not_found(number)
    except HelpdeskError as exc:
        return failed(f"could not update ticket {number}", exc)
    return ToolOutcome(
        {
            "status": "done",
            "ticket_number": number,
            "ticket_status": updated.status,
            "priority": updated.priority,
            "message": f"Ticket {number} is now {status_label(updated.status)}, "
            f"priority {priority_label(updated.priority)}.",
        }
    )


# --- create_ticket_from_chat ------------------------------------------------------------

NO_CHAT = "no helpdesk chat for this conversation"


async def preview_create_ticket_from_chat(
    ctx: ToolContext, args: CreateTicketFromChatArgs
) -> WritePreview:
    if ctx.chat_id is None:
        raise PreviewError(NO_CHAT)
    try:
        history = await ctx.helpdesk.chat_messages(ctx.auth, ctx.chat_id, per_page=1)
    except HelpdeskError as exc:
        preview_failed("could not read this chat", exc)
    count = history.pagination.total if history.pagination else len(history.messages)
    return WritePreview(
        title="Create a ticket from this chat",
        fields=(
            ("Subject", args.subject or "chosen by the helpdesk from the chat"),
            ("Description", f"the transcript of this chat ({count} messages so far)"),
        ),
    )


async def create_ticket_from_chat(ctx: ToolContext, args: CreateTicketFromChatArgs) -> ToolOutcome:
    if ctx.chat_id is None:
        return ToolOutcome({"error": NO_CHAT})
    try:
        created = await ctx.helpdesk.chat_create_ticket(ctx.auth, ctx.chat_id, subject=args.subject)
    except Conflict as exc:
        if exc.ticket_number is not None:
            return ToolOutcome({"error": f"this chat already has ticket {exc.ticket_number}"})
        return failed("could not create a ticket from this chat", exc)
    except HelpdeskError as exc:
        return failed("could not create a ticket from this chat", exc)
    return _created(created.ticket_number, created.subject, created.requires_approval)


def ticket_write_tools() -> list[ToolSpec[Any]]:
    """The write tools, in the order they are offered after the ticket reads."""
    return [
        ToolSpec(
            "create_ticket",
            CreateTicketArgs,
            create_ticket,
            needs_confirmation=True,
            allowed=may_create_tickets,
            preview=preview_create_ticket,
            reconcile=reconcile_create_ticket,
            done_text=created_text,
            instead_on_similar=comment_instead,
        ),
        ToolSpec(
            "add_ticket_comment",
            AddTicketCommentArgs,
            add_ticket_comment,
            needs_confirmation=True,
            allowed=tickets_module,
            preview=preview_add_ticket_comment,
            reconcile=reconcile_add_ticket_comment,
            done_text=done_reply("done_add_ticket_comment"),
            helpdesk_calls=2,  # find the ticket by number, then write
        ),
        ToolSpec(
            "update_ticket",
            UpdateTicketArgs,
            update_ticket,
            needs_confirmation=True,
            allowed=tickets_module,
            preview=preview_update_ticket,
            done_text=done_reply("done_update_ticket"),
            helpdesk_calls=2,  # find the ticket by number, then write
        ),
        ToolSpec(
            "create_ticket_from_chat",
            CreateTicketFromChatArgs,
            create_ticket_from_chat,
            needs_confirmation=True,
            allowed=may_create_from_chat,
            preview=preview_create_ticket_from_chat,
            done_text=done_reply("done_create_ticket_from_chat"),
            proposed_by="create_ticket",
            needs_chat=True,
        ),
    ]
