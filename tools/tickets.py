"""Ticket tools: list and read the user's own tickets; `ticket_tools()` lists every ticket tool.

Tools address tickets by ticket_number (what users see); the API by ticket_id, so every
handler looks the number up among the user's own tickets first. The write tools (create,
comment, update, ticket from chat), with their previews and reconciles, are in
`tools.ticket_writes`.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from bot.helpdesk.errors import HelpdeskError, NotFound
from bot.tooling import ToolContext, ToolOutcome, ToolSpec
from tools._common import (
    MAX_ITEMS,
    TicketNumber,
    failed,
    find_ticket,
    iso,
    not_found,
    tickets_module,
    truncate,
)
from tools.ticket_writes import ticket_write_tools

DESCRIPTION_CHARS = 2000
COMMENT_CHARS = 1000


class ListMyTicketsArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: Literal["open", "in_progress", "on_hold", "closed", "all"] = Field(
        default="all", description="Only tickets with this status; 'all' (default) for every one."
    )


class GetTicketArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ticket_number: TicketNumber


async def list_my_tickets(ctx: ToolContext, args: ListMyTicketsArgs) -> ToolOutcome:
    status = args.status
    try:
        page = await ctx.helpdesk.list_tickets(ctx.auth, status=status, limit=MAX_ITEMS)
    except HelpdeskError as exc:
        return failed("could not list your tickets", exc)
    tickets = [
        {
            "ticket_number": t.ticket_number,
            "subject": t.subject,
            "status": t.status,
            "priority": t.priority,
            "updated_at": iso(t.updated_at),
        }
        for t in page.tickets[:MAX_ITEMS]
    ]
    return ToolOutcome({"status": status, "total": page.pagination.total, "tickets": tickets})


async def get_ticket(ctx: ToolContext, args: GetTicketArgs) -> ToolOutcome:
    number = args.ticket_number
    try:
        found = await find_ticket(ctx, number)
        if found is None:
            return not_found(number)
        t = await ctx.helpdesk.get_ticket(ctx.auth, found.ticket_id)
    except NotFound:
        return not_found(number)
    except HelpdeskError as exc:
        return failed(f"could not read ticket {number}", exc)
    # Internal comments are for the helpdesk staff only: never shown to the user or model.
    comments = t.public_comments[-MAX_ITEMS:]
    ticket = {
        "ticket_number": t.ticket_number,
        "subject": t.subject,
        "status": t.status,
        "priority": t.priority,
        "job_type": t.job_type,
        "assigned_tech_name": t.assigned_tech_name,
        "created_at": iso(t.created_at),
        "updated_at": iso(t.updated_at),
        "description": truncate(t.description, DESCRIPTION_CHARS),
        "comments": [
            {
                "author_name": c.author_name,
                "comment": truncate(c.comment, COMMENT_CHARS),
                "created_at": iso(c.created_at),
            }
            for c in comments
        ],
    }
    return ToolOutcome({"ticket": ticket})


def ticket_tools() -> list[ToolSpec[Any]]:
    return [
        ToolSpec("list_my_tickets", ListMyTicketsArgs, list_my_tickets, allowed=tickets_module),
        # The number is looked up among the user's tickets first, then the ticket is read.
        ToolSpec("get_ticket", GetTicketArgs, get_ticket, allowed=tickets_module, helpdesk_calls=2),
        *ticket_write_tools(),
    ]
