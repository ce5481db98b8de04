"""Manager tools: list tickets awaiting this manager's approval, approve or reject one."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from bot.helpdesk.errors import HelpdeskError, NotFound
from bot.helpdesk.models import Ticket
from bot.tooling import PreviewError, ToolContext, ToolOutcome, ToolSpec, WritePreview
from tools._common import (
    MAX_ITEMS,
    TicketNumber,
    done_reply,
    failed,
    iso,
    may_approve,
    preview_failed,
)

PAGE = 100  # the API's maximum `limit`
MAX_PAGES = 10


class ListPendingApprovalsArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ApproveTicketArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ticket_number: TicketNumber


class RejectTicketArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ticket_number: TicketNumber
    reason: str = Field(
        min_length=1,
        max_length=500,
        description="Why it is rejected, in a sentence the requester will read.",
    )


def not_pending(ticket_number: int) -> str:
    return f"ticket {ticket_number} is not waiting for your approval"


async def find_pending(ctx: ToolContext, ticket_number: int) -> Ticket | None:
    """The ticket with this number among those awaiting this manager (HelpdeskError raises)."""
    for page in range(1, MAX_PAGES + 1):
        result = await ctx.helpdesk.list_approvals(ctx.auth, page=page, limit=PAGE)
        for ticket in result.tickets:
            if ticket.ticket_number == ticket_number:
                return ticket
        if page >= result.pagination.total_pages:
            break
    return None


async def list_pending_approvals(ctx: ToolContext, args: ListPendingApprovalsArgs) -> ToolOutcome:
    try:
        page = await ctx.helpdesk.list_approvals(ctx.auth, limit=MAX_ITEMS)
    except HelpdeskError as exc:
        return failed("could not list the tickets awaiting your approval", exc)
    return ToolOutcome(
        {
            "tickets": [
                {
                    "ticket_number": t.ticket_number,
                    "subject": t.subject,
                    "requester_name": t.requester_name,
                    "job_type": t.job_type,
                    "created_at": iso(t.created_at),
                }
                for t in page.tickets[:MAX_ITEMS]
            ]
        }
    )


async def _pending_for_preview(ctx: ToolContext, ticket_number: int) -> Ticket:
    try:
        ticket = await find_pending(ctx, ticket_number)
    except HelpdeskError as exc:
        preview_failed(f"could not look up ticket {ticket_number}", exc)
    if ticket is None:
        raise PreviewError(not_pending(ticket_number))
    return ticket


def _described(ticket: Ticket) -> tuple[tuple[str, str], ...]:
    return (
        ("Ticket", f"{ticket.ticket_number} — {ticket.subject}"),
        ("Requester", ticket.requester_name or "unknown"),
        ("Job type", ticket.job_type or "General"),
    )


async def preview_approve_ticket(ctx: ToolContext, args: ApproveTicketArgs) -> WritePreview:
    ticket = await _pending_for_preview(ctx, args.ticket_number)
    return WritePreview(title=f"Approve ticket {ticket.ticket_number}", fields=_described(ticket))


async def preview_reject_ticket(ctx: ToolContext, args: RejectTicketArgs) -> WritePreview:
    ticket = await _pending_for_preview(ctx, args.ticket_number)
    return WritePreview(
        title=f"Reject ticket {ticket.ticket_number}",
        fields=(*_described(ticket), ("Reason", args.reason)),
        notices=("Rejecting closes the ticket; the requester sees the reason as a comment.",),
    )


async def _decide(ctx: ToolContext, ticket_number: int, reason: str | None) -> ToolOutcome:
    verb = "approve" if reason is None else "reject"
    try:
        ticket = await find_pending(ctx, ticket_number)
        if ticket is None:
            return ToolOutcome({"error": not_pending(ticket_number)})
        if reason is None:
            await ctx.helpdesk.approve_ticket(ctx.auth, ticket.ticket_id)
        else:
            await ctx.helpdesk.reject_ticket(ctx.auth, ticket.ticket_id, reason)
    except NotFound:
        return ToolOutcome({"error": not_pending(ticket_number)})
    except HelpdeskError as exc:
        return failed(f"could not {verb} ticket {ticket_number}", exc)
    outcome = "approved" if reason is None else "rejected"
    return ToolOutcome(
        {
            "status": "done",
            "ticket_number": ticket_number,
            "outcome": outcome,
            "message": f"Ticket {ticket_number} was {outcome}.",
        }
    )


async def approve_ticket(ctx: ToolContext, args: ApproveTicketArgs) -> ToolOutcome:
    return await _decide(ctx, args.ticket_number, None)


async def reject_ticket(ctx: ToolContext, args: RejectTicketArgs) -> ToolOutcome:
    return await _decide(ctx, args.ticket_number, args.reason)


def approval_tools() -> list[ToolSpec[Any]]:
    return [
        ToolSpec(
            "list_pending_approvals",
            ListPendingApprovalsArgs,
            list_pending_approvals,
            allowed=may_approve,
        ),
        ToolSpec(
            "approve_ticket",
            ApproveTicketArgs,
            approve_ticket,
            needs_confirmation=True,
            allowed=may_approve,
            preview=preview_approve_ticket,
            done_text=done_reply("done_approve_ticket"),
            helpdesk_calls=2,  # find the pending ticket, then decide
        ),
        ToolSpec(
            "reject_ticket",
            RejectTicketArgs,
            reject_ticket,
            needs_confirmation=True,
            allowed=may_approve,
            preview=preview_reject_ticket,
            done_text=done_reply("done_reject_ticket"),
            helpdesk_calls=2,  # find the pending ticket, then decide
        ),
    ]
