"""Sandbox API handlers for tickets, comments, manager approvals and the manager's team view."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from sandbox.auth import User, require_user
from sandbox.state import SandboxState, state_of
from sandbox.validation import (
    ApiError,
    choice_field,
    int_field,
    page_params,
    path_id,
    query_choice,
    read_json_object,
    required_text,
    text_field,
    wrapped,
)

STATUSES = ("open", "in_progress", "on_hold", "closed")
SUBJECT_MAX = 255
DESCRIPTION_MAX = 20000
COMMENT_MAX = 10000

_TICKET_SQL = """
SELECT t.*, u.first_name || ' ' || u.last_name AS requester_name,
       u.manager AS requester_manager, tech.name AS assigned_tech_name
FROM tickets t JOIN users u ON u.employee_number = t.requester
LEFT JOIN technicians tech ON tech.tech_id = t.assigned_tech
"""
_NEWEST_FIRST = " ORDER BY t.created_at DESC, t.ticket_id DESC"

routes = web.RouteTableDef()


def ticket_json(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "ticket_id": row["ticket_id"],
        "ticket_number": row["ticket_number"],
        "subject": row["subject"],
        "description": row["description"],
        "status": row["status"],
        "priority": row["priority"],
        "job_type": row["job_type"],
        "assigned_tech": row["assigned_tech"],
        "assigned_tech_name": row["assigned_tech_name"],
        "requester_name": row["requester_name"],
        "approval_status": row["approval_status"],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
        "closed_at": row["closed_at"],
    }


def _ticket_row(state: SandboxState, ticket_id: int) -> dict[str, Any] | None:
    return state.db.one(_TICKET_SQL + " WHERE t.ticket_id = ?", (ticket_id,))


def visible_ticket(state: SandboxState, user: User, ticket_id: int) -> dict[str, Any]:
    """The ticket if the caller may see it (theirs, or a report's for a manager), else 404."""
    row = _ticket_row(state, ticket_id)
    if row is None or row["company_number"] != user.company_number:
        raise ApiError(404, "Ticket not found")
    mine = row["requester"] == user.employee_number
    team = user.ismgr and row["requester_manager"] == user.employee_number
    if not (mine or team):
        raise ApiError(404, "Ticket not found")
    return row


def _paged_tickets(request: web.Request, where: str, params: tuple[Any, ...]) -> web.Response:
    page = page_params(request, size_name="limit")
    status = query_choice(request, "status", (*STATUSES, "all"), default="all")
    if status != "all":
        where += " AND t.status = ?"
        params = (*params, status)
    rows = state_of(request).db.all(_TICKET_SQL + " WHERE " + where + _NEWEST_FIRST, params)
    return web.json_response(
        {"tickets": [ticket_json(r) for r in page.slice(rows)], "pagination": page.meta(len(rows))}
    )


def job_type_named(state: SandboxState, name: str) -> dict[str, Any]:
    row = state.db.one("SELECT * FROM job_types WHERE lower(name) = lower(?)", (name,))
    if row is None:
        names = [r["name"] for r in state.db.all("SELECT name FROM job_types ORDER BY job_type_id")]
        raise ApiError(400, f"job_type must be one of: {', '.join(names)}")
    return row


def create_ticket(
    state: SandboxState,
    user: User,
    *,
    subject: str,
    description: str,
    priority: int,
    job_type: str,
) -> dict[str, Any]:
    """Insert a ticket for `user`; returns the 201 body of POST /tickets."""
    if not user.can_create_tickets:
        raise ApiError(403, "You do not have permission to create tickets")
    kind = job_type_named(state, job_type)
    needs_approval = bool(kind["requires_approval"])
    top = state.db.one(
        "SELECT MAX(ticket_number) AS top FROM tickets WHERE company_number = ?",
        (user.company_number,),
    )
    first = 3001 if user.company_number == 1 else 1001 + user.company_number * 2000
    number = int(top["top"]) + 1 if top and top["top"] is not None else first
    now = state.clock.now_iso()
    ticket_id = state.db.insert(
        "tickets",
        {
            "company_number": user.company_number,
            "ticket_number": number,
            "requester": user.employee_number,
            "subject": subject,
            "description": description,
            "status": "open",
            "priority": priority,
            "job_type": kind["name"],
            "approval_status": "pending" if needs_approval else None,
            "approver": user.manager if needs_approval else None,
            "created_at": now,
            "updated_at": now,
        },
    )
    return {
        "success": True,
        "ticket_id": ticket_id,
        "ticket_number": number,
        "subject": subject,
        "status": "open",
        "requires_approval": needs_approval,
    }


@routes.get("/tickets")
async def list_tickets(request: web.Request) -> web.Response:
    user = require_user(request)
    return _paged_tickets(
        request,
        "t.company_number = ? AND t.requester = ?",
        (user.company_number, user.employee_number),
    )


@routes.post("/tickets")
async def post_ticket(request: web.Request) -> web.Response:
    user = require_user(request)
    if not user.can_create_tickets:
        raise ApiError(403, "You do not have permission to create tickets")
    data = await read_json_object(request)
    subject = required_text(data, "subject", max_len=SUBJECT_MAX)
    description = required_text(data, "description", max_len=DESCRIPTION_MAX)
    priority = int_field(data, "priority", low=1, high=5) or 3
    job_type = text_field(data, "job_type", required=False, max_len=100) or "General"
    body = create_ticket(
        state_of(request),
        user,
        subject=subject,
        description=description,
        priority=priority,
        job_type=job_type,
    )
    return web.json_response(body, status=201)


@routes.get("/tickets/approvals")
async def list_approvals(request: web.Request) -> web.Response:
    user = require_user(request)
    if not user.ismgr:
        raise ApiError(403, "Manager role required")
    return _paged_tickets(
        request,
        "t.company_number = ? AND t.approval_status = 'pending' AND t.approver = ?",
        (user.company_number, user.employee_number),
    )


@routes.get("/tickets/approvals/count")
async def approvals_count(request: web.Request) -> web.Response:
    user = require_user(request)
    count = 0
    if user.ismgr:
        row = state_of(request).db.one(
            "SELECT COUNT(*) AS n FROM tickets WHERE company_number = ? "
            "AND approval_status = 'pending' AND approver = ?",
            (user.company_number, user.employee_number),
        )
        count = int(row["n"]) if row else 0
    return web.json_response({"is_manager": user.ismgr, "pending_count": count})


@routes.get("/tickets/team")
async def list_team(request: web.Request) -> web.Response:
    user = require_user(request)
    if not user.ismgr:
        raise ApiError(403, "Manager role required")
    return _paged_tickets(
        request,
        "t.company_number = ? AND u.manager = ?",
        (user.company_number, user.employee_number),
    )


@routes.get(r"/tickets/{ticket_id:[0-9]+}")
async def get_ticket(request: web.Request) -> web.Response:
    user = require_user(request)
    state = state_of(request)
    row = visible_ticket(state, user, path_id(request, "ticket_id"))
    comments = state.db.all(
        "SELECT comment_id, comment, author_name, is_internal, created_at FROM comments "
        "WHERE ticket_id = ? ORDER BY created_at, comment_id",
        (row["ticket_id"],),
    )
    asset = state.db.one(
        "SELECT asset_id, machine_name FROM assets WHERE asset_id = ? AND company_number = ?",
        (row["asset_id"], user.company_number),
    )
    detail = ticket_json(row)
    detail["comments"] = [{**c, "is_internal": bool(c["is_internal"])} for c in comments]
    detail["asset"] = asset
    detail["contracts"] = []
    return web.json_response(detail)


@routes.put(r"/tickets/{ticket_id:[0-9]+}")
async def put_ticket(request: web.Request) -> web.Response:
    user = require_user(request)
    state = state_of(request)
    row = visible_ticket(state, user, path_id(request, "ticket_id"))
    data = await read_json_object(request)
    fields: dict[str, Any] = {}
    status = choice_field(data, "status", STATUSES)
    if status is not None:
        fields["status"] = status
        if status == "closed" and row["status"] != "closed":
            fields["closed_at"] = state.clock.now_iso()
        elif status != "closed":
            fields["closed_at"] = None
    priority = int_field(data, "priority", low=1, high=5)
    if priority is not None:
        fields["priority"] = priority
    subject = text_field(data, "subject", required=False, max_len=SUBJECT_MAX)
    if subject is not None:
        fields["subject"] = subject
    job_type = text_field(data, "job_type", required=False, max_len=100)
    if job_type is not None:
        fields["job_type"] = job_type_named(state, job_type)["name"]
    if not fields:
        raise ApiError(400, "Provide at least one of status, priority, subject, job_type")
    fields["updated_at"] = state.clock.now_iso()
    state.db.update("tickets", "ticket_id", row["ticket_id"], fields)
    updated = _ticket_row(state, row["ticket_id"])
    assert updated is not None
    return wrapped(ticket_json(updated))


def add_comment(state: SandboxState, ticket_id: int, *, text: str, author: str) -> dict[str, Any]:
    now = state.clock.now_iso()
    comment_id = state.db.insert(
        "comments",
        {
            "ticket_id": ticket_id,
            "comment": text,
            "author_name": author,
            "is_internal": 0,
            "created_at": now,
        },
    )
    state.db.update("tickets", "ticket_id", ticket_id, {"updated_at": now})
    return {
        "comment_id": comment_id,
        "comment": text,
        "author_name": author,
        "is_internal": False,
        "created_at": now,
    }


@routes.post(r"/tickets/{ticket_id:[0-9]+}/comments")
async def post_comment(request: web.Request) -> web.Response:
    user = require_user(request)
    state = state_of(request)
    row = visible_ticket(state, user, path_id(request, "ticket_id"))
    data = await read_json_object(request)
    text = required_text(data, "comment", max_len=COMMENT_MAX)
    comment = add_comment(state, row["ticket_id"], text=text, author=user.full_name)
    return wrapped(comment, status=201)


def _pending_for(request: web.Request, user: User) -> dict[str, Any]:
    if not user.ismgr:
        raise ApiError(403, "Manager role required")
    state = state_of(request)
    row = _ticket_row(state, path_id(request, "ticket_id"))
    if (
        row is None
        or row["company_number"] != user.company_number
        or user.employee_number not in (row["approver"], row["requester_manager"])
    ):
        raise ApiError(404, "Ticket not found")
    if row["approval_status"] != "pending":
        raise ApiError(409, "Ticket is not pending approval")
    return row


@routes.post(r"/tickets/{ticket_id:[0-9]+}/approve")
async def approve(request: web.Request) -> web.Response:
    user = require_user(request)
    row = _pending_for(request, user)
    state = state_of(request)
    state.db.update(
        "tickets",
        "ticket_id",
        row["ticket_id"],
        {"approval_status": "approved", "updated_at": state.clock.now_iso()},
    )
    updated = _ticket_row(state, row["ticket_id"])
    assert updated is not None
    return wrapped(ticket_json(updated))


@routes.post(r"/tickets/{ticket_id:[0-9]+}/reject")
async def reject(request: web.Request) -> web.Response:
    user = require_user(request)
    row = _pending_for(request, user)
    data = await read_json_object(request)
    reason = required_text(data, "reason", max_len=COMMENT_MAX)
    state = state_of(request)
    add_comment(state, row["ticket_id"], text=f"Rejected: {reason}", author=user.full_name)
    now = state.clock.now_iso()
    state.db.update(
        "tickets",
        "ticket_id",
        row["ticket_id"],
        {"approval_status": "rejected", "status": "closed", "closed_at": now, "updated_at": now},
    )
    updated = _ticket_row(state, row["ticket_id"])
    assert updated is not None
    return wrapped(ticket_json(updated))
