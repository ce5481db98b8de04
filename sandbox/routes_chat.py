"""Sandbox API handlers for chat sessions: start/resume, messages, transfer, ticket, end."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from sandbox import chats, valai
from sandbox.auth import User, require_user
from sandbox.routes_tickets import DESCRIPTION_MAX, SUBJECT_MAX, create_ticket
from sandbox.state import public_base, state_of
from sandbox.validation import (
    ApiError,
    int_field,
    page_params,
    path_id,
    query_since,
    read_json_object,
    required_text,
    text_field,
)

MESSAGE_MAX = 10000
_CHAT = r"/chat/{chat_id:[0-9]+}"

routes = web.RouteTableDef()


def _own_chat(request: web.Request, user: User) -> dict[str, Any]:
    """The caller's chat; other users' and other companies' chats are 404."""
    chat = chats.chat_row(state_of(request), path_id(request, "chat_id"))
    if (
        chat is None
        or chat["company_number"] != user.company_number
        or chat["employee_number"] != user.employee_number
    ):
        raise ApiError(404, "Chat not found")
    return chat


@routes.post("/chat/start")
async def start(request: web.Request) -> web.Response:
    user = require_user(request)
    await read_json_object(request, optional=True)  # accepted and ignored, but must be JSON
    body = chats.start_or_resume(
        state_of(request),
        company_number=user.company_number,
        employee_number=user.employee_number,
    )
    return web.json_response(body)


@routes.get(_CHAT + "/messages")
async def list_messages(request: web.Request) -> web.Response:
    user = require_user(request)
    chat = _own_chat(request, user)
    since = query_since(request)
    page = page_params(request, size_name="per_page")
    messages = chats.messages_of(state_of(request), chat["chat_id"], since=since)
    return web.json_response(
        {
            "chat_id": chat["chat_id"],
            "status": chat["status"],
            "agent_name": chat["agent_name"],
            "messages": page.slice(messages),
            "pagination": page.meta(len(messages)),
        }
    )


@routes.post(_CHAT + "/messages")
async def post_message(request: web.Request) -> web.Response:
    user = require_user(request)
    chat = _own_chat(request, user)
    data = await read_json_object(request)
    text = required_text(data, "message", max_len=MESSAGE_MAX)
    if chat["status"] == "ended":
        raise ApiError(409, "Chat has ended")
    state = state_of(request)
    message = chats.add_message(
        state, chat["chat_id"], sender_type="user", sender_name=user.full_name, text=text
    )
    if chat["status"] == "active":
        valai.reply(state, chat=chat, text=text, base_url=public_base(request))
    return web.json_response(message)


@routes.post(_CHAT + "/transfer")
async def transfer(request: web.Request) -> web.Response:
    user = require_user(request)
    chat = _own_chat(request, user)
    data = await read_json_object(request, optional=True)
    reason = text_field(data, "reason", required=False, max_len=2000)
    status = chats.transfer(state_of(request), chat, reason=reason)
    return web.json_response({"success": True, "chat_id": chat["chat_id"], "status": status})


@routes.post(_CHAT + "/ticket")
async def ticket(request: web.Request) -> web.Response:
    user = require_user(request)
    chat = _own_chat(request, user)
    if not user.can_create_tickets:
        raise ApiError(403, "You do not have permission to create tickets")
    data = await read_json_object(request, optional=True)
    subject = text_field(data, "subject", required=False, max_len=SUBJECT_MAX)
    description = text_field(data, "description", required=False, max_len=DESCRIPTION_MAX)
    priority = int_field(data, "priority", low=1, high=5) or 3
    job_type = text_field(data, "job_type", required=False, max_len=100) or "General"
    state = state_of(request)
    if chat["ticket_id"] is not None:
        existing = state.db.one(
            "SELECT ticket_id, ticket_number FROM tickets WHERE ticket_id = ?", (chat["ticket_id"],)
        )
        raise ApiError(409, "A ticket was already created from this chat", extra=existing or {})
    history = chats.messages_of(state, chat["chat_id"])
    first_user = next((m["message"] for m in history if m["sender_type"] == "user"), None)
    if subject is None:
        subject = _shorten(first_user or f"Chat #{chat['chat_id']}", 80)
    if description is None:
        description = chats.transcript(state, chat["chat_id"]) or "Created from a chat session."
    body = create_ticket(
        state,
        user,
        subject=subject,
        description=description[-DESCRIPTION_MAX:],
        priority=priority,
        job_type=job_type,
    )
    state.db.update("chats", "chat_id", chat["chat_id"], {"ticket_id": body["ticket_id"]})
    return web.json_response(body, status=201)


@routes.post(_CHAT + "/end")
async def end(request: web.Request) -> web.Response:
    user = require_user(request)
    chat = _own_chat(request, user)
    await read_json_object(request, optional=True)
    chats.end(state_of(request), chat)
    return web.json_response({"success": True, "chat_id": chat["chat_id"], "status": "ended"})


def _shorten(text: str, limit: int) -> str:
    single_line = " ".join(text.split())
    return single_line if len(single_line) <= limit else single_line[: limit - 1] + "…"
