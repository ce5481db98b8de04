"""The sandbox back office under /sandbox: agents, faults, outages, KB authoring, reset, log.

Not part of the Helpdesk API: no auth, and the app's middleware refuses non-loopback clients.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiohttp import web

from sandbox import chats
from sandbox.auth import expire_user_tokens
from sandbox.db import dumps
from sandbox.kb import detail_json
from sandbox.routes_company import outage_json
from sandbox.seed import seed
from sandbox.state import API_PREFIX, Fault, SandboxState, public_base, state_of
from sandbox.validation import (
    ApiError,
    bool_field,
    choice_field,
    int_field,
    path_id,
    query_choice,
    query_text,
    read_json_object,
    required_text,
    text_field,
)

CONSOLE_PATH = Path(__file__).with_name("console.html")
FAULT_STATUSES = (429, 500, 502, 503, 504)
OUTAGE_STATUSES = ("degraded", "outage", "maintenance")
DEFAULT_AGENT = "Mike Tech"
_CONSOLE_CSP = "default-src 'self'; style-src 'unsafe-inline'; script-src 'unsafe-inline'"

routes = web.RouteTableDef()


def _chat_summary(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "chat_id": row["chat_id"],
        "status": row["status"],
        "user_email": row["email"],
        "user_name": f"{row['first_name']} {row['last_name']}",
        "company_name": row["company_name"],
        "agent_name": row["agent_name"],
        "ticket_id": row["ticket_id"],
        "created_at": row["started_at"],
        "transfer_reason": row["transfer_reason"],
        "last_message_at": row["last_message_at"],
    }


_CHATS_SQL = """
SELECT ch.*, u.email, u.first_name, u.last_name, co.name AS company_name,
       (SELECT MAX(created_at) FROM chat_messages m WHERE m.chat_id = ch.chat_id)
         AS last_message_at
FROM chats ch JOIN users u ON u.employee_number = ch.employee_number
JOIN companies co ON co.company_number = ch.company_number
"""


def _chat(state: SandboxState, request: web.Request) -> dict[str, Any]:
    row = state.db.one(_CHATS_SQL + " WHERE ch.chat_id = ?", (path_id(request, "chat_id"),))
    if row is None:
        raise ApiError(404, "Chat not found")
    return row


@routes.get("/sandbox/chats")
async def list_chats(request: web.Request) -> web.Response:
    status = query_choice(request, "status", chats.STATUSES)
    sql, params = _CHATS_SQL, []
    if status is not None:
        sql += " WHERE ch.status = ?"
        params.append(status)
    rows = state_of(request).db.all(sql + " ORDER BY ch.started_at DESC, ch.chat_id DESC", params)
    return web.json_response({"chats": [_chat_summary(row) for row in rows]})


@routes.get(r"/sandbox/chats/{chat_id:[0-9]+}")
async def get_chat(request: web.Request) -> web.Response:
    state = state_of(request)
    row = _chat(state, request)
    body = _chat_summary(row)
    body["messages"] = chats.messages_of(state, row["chat_id"])
    return web.json_response(body)


@routes.post(r"/sandbox/chats/{chat_id:[0-9]+}/agent-messages")
async def agent_message(request: web.Request) -> web.Response:
    state = state_of(request)
    row = _chat(state, request)
    data = await read_json_object(request)
    text = required_text(data, "message", max_len=10000)
    agent = text_field(data, "agent_name", required=False, max_len=100) or DEFAULT_AGENT
    message = chats.post_agent_message(state, row, agent_name=agent, text=text)
    return web.json_response(message, status=201)


@routes.post(r"/sandbox/chats/{chat_id:[0-9]+}/end")
async def end_chat(request: web.Request) -> web.Response:
    state = state_of(request)
    row = _chat(state, request)
    chats.end(state, row)
    return web.json_response({"success": True, "chat_id": row["chat_id"], "status": "ended"})


def _normalise_prefix(prefix: str) -> str:
    if prefix.startswith(API_PREFIX):
        prefix = prefix[len(API_PREFIX) :]
    return prefix if prefix.startswith("/") or not prefix else "/" + prefix


@routes.post("/sandbox/faults")
async def add_fault(request: web.Request) -> web.Response:
    data = await read_json_object(request)
    status = int_field(data, "status", low=100, high=599)
    if status is not None and status not in FAULT_STATUSES:
        raise ApiError(400, "status must be one of: 429, 500, 502, 503, 504")
    rate = data.get("rate", 1)
    if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 <= rate <= 1:
        raise ApiError(400, "rate must be a number between 0 and 1")
    latency = int_field(data, "latency_ms", low=0, high=120_000) or 0
    if status is None and not latency:
        raise ApiError(400, "Give a status, a latency_ms, or both")
    state = state_of(request)
    fault = Fault(
        fault_id=state.next_fault_id,
        status=status,
        rate=float(rate),
        latency_ms=latency,
        path_prefix=_normalise_prefix(
            text_field(data, "path_prefix", required=False, max_len=500) or ""
        ),
        count=int_field(data, "count", low=1, high=1_000_000),
        retry_after=int_field(data, "retry_after", low=0, high=86_400),
        method=(text_field(data, "method", required=False, max_len=10) or "").upper() or None,
    )
    state.next_fault_id += 1
    state.faults.append(fault)
    return web.json_response(fault.as_json(), status=201)


@routes.get("/sandbox/faults")
async def list_faults(request: web.Request) -> web.Response:
    return web.json_response({"faults": [f.as_json() for f in state_of(request).faults]})


@routes.delete("/sandbox/faults")
async def clear_faults(request: web.Request) -> web.Response:
    state_of(request).faults.clear()
    return web.json_response({"success": True})


@routes.post("/sandbox/outages")
async def add_outage(request: web.Request) -> web.Response:
    data = await read_json_object(request)
    company = int_field(data, "company_number", low=1, high=2**31) or 1
    state = state_of(request)
    if state.db.one("SELECT 1 FROM companies WHERE company_number = ?", (company,)) is None:
        raise ApiError(400, "company_number is not a known company")
    now = state.clock.now_iso()
    row = {
        "company_number": company,
        "service": required_text(data, "service", max_len=100),
        "status": choice_field(data, "status", OUTAGE_STATUSES) or "degraded",
        "title": text_field(data, "title", required=False, max_len=255) or "Service disruption",
        "message": text_field(data, "message", required=False, max_len=2000)
        or "Engineers are investigating.",
        "site_name": text_field(data, "site_name", required=False, max_len=100),
        "started_at": now,
        "updated_at": now,
        "resolved_at": None,
    }
    row["outage_id"] = state.db.insert("outages", row)
    return web.json_response(outage_json(row), status=201)


@routes.post(r"/sandbox/outages/{outage_id:[0-9]+}/resolve")
async def resolve_outage(request: web.Request) -> web.Response:
    state = state_of(request)
    outage_id = path_id(request, "outage_id")
    if state.db.one("SELECT 1 FROM outages WHERE outage_id = ?", (outage_id,)) is None:
        raise ApiError(404, "Outage not found")
    now = state.clock.now_iso()
    state.db.update(
        "outages",
        "outage_id",
        outage_id,
        {"status": "resolved", "resolved_at": now, "updated_at": now},
    )
    row = state.db.one("SELECT * FROM outages WHERE outage_id = ?", (outage_id,))
    assert row is not None
    return web.json_response(outage_json(row))


@routes.post("/sandbox/kb/articles")
async def add_article(request: web.Request) -> web.Response:
    data = await read_json_object(request)
    company = int_field(data, "company_number", low=1, high=2**31) or 1
    state = state_of(request)
    if state.db.one("SELECT 1 FROM companies WHERE company_number = ?", (company,)) is None:
        raise ApiError(400, "company_number is not a known company")
    tags = data.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise ApiError(400, "tags must be a list of strings")
    body = required_text(data, "body", max_len=200_000)
    row: dict[str, Any] = {
        "company_number": company,
        "title": required_text(data, "title", max_len=255),
        "category": required_text(data, "category", max_len=100),
        "tags": dumps(tags),
        "summary": text_field(data, "summary", required=False, max_len=1000) or body[:200],
        "body": body,
        "updated_at": state.clock.now_iso(),
    }
    row["article_id"] = state.db.insert("articles", row)
    return web.json_response(detail_json(state, row, public_base(request)), status=201)


@routes.post("/sandbox/auth/expire")
async def expire(request: web.Request) -> web.Response:
    data = await read_json_object(request)
    email = required_text(data, "email", max_len=320)
    refresh = bool_field(data, "refresh") or False
    state = state_of(request)
    row = state.db.one("SELECT employee_number FROM users WHERE lower(email) = lower(?)", (email,))
    if row is None:
        raise ApiError(404, "No user with that email")
    expire_user_tokens(state, row["employee_number"], refresh=refresh)
    return web.json_response({"success": True, "email": email, "refresh": refresh})


@routes.post("/sandbox/reset")
async def reset(request: web.Request) -> web.Response:
    state = state_of(request)
    state.db.clear()
    state.faults.clear()
    seed(state.db, state.clock.now())
    return web.json_response({"success": True})


@routes.get("/sandbox/requests")
async def list_requests(request: web.Request) -> web.Response:
    prefix = _normalise_prefix(query_text(request, "path_prefix") or "")
    method = (query_text(request, "method", max_len=10) or "").upper()
    entries = [
        entry
        for entry in state_of(request).requests
        if entry["path"].startswith(prefix) and (not method or entry["method"] == method)
    ]
    return web.json_response({"requests": entries})


@routes.delete("/sandbox/requests")
async def clear_requests(request: web.Request) -> web.Response:
    state_of(request).requests.clear()
    return web.json_response({"success": True})


@routes.get("/sandbox/console")
async def console(request: web.Request) -> web.Response:
    return web.Response(
        text=CONSOLE_PATH.read_text(encoding="utf-8"),
        content_type="text/html",
        headers={"Content-Security-Policy": _CONSOLE_CSP},
    )
