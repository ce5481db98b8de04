"""Chat sessions of the sandbox: lifecycle (active → waiting_agent → agent → ended) and messages.

Shared by the user-facing chat API, the back office (human agents) and Val AI.
"""

from __future__ import annotations

from typing import Any

from sandbox.state import SandboxState
from sandbox.validation import ApiError

STATUSES = ("active", "waiting_agent", "agent", "ended")
SYSTEM_NAME = "System"
TRANSFER_TEXT = "Transferring you to a human agent. Please wait."
ENDED_TEXT = "The chat has ended"


def message_json(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "message_id": row["message_id"],
        "chat_id": row["chat_id"],
        "sender_type": row["sender_type"],
        "sender_name": row["sender_name"],
        "message": row["message"],
        "created_at": row["created_at"],
    }


def chat_row(state: SandboxState, chat_id: int) -> dict[str, Any] | None:
    return state.db.one("SELECT * FROM chats WHERE chat_id = ?", (chat_id,))


def messages_of(
    state: SandboxState, chat_id: int, *, since: str | None = None
) -> list[dict[str, Any]]:
    """Messages oldest first; with `since`, only those strictly after it."""
    sql = "SELECT * FROM chat_messages WHERE chat_id = ?"
    params: list[Any] = [chat_id]
    if since is not None:
        sql += " AND created_at > ?"
        params.append(since)
    rows = state.db.all(sql + " ORDER BY created_at, message_id", params)
    return [message_json(row) for row in rows]


def add_message(
    state: SandboxState, chat_id: int, *, sender_type: str, sender_name: str, text: str
) -> dict[str, Any]:
    row = {
        "chat_id": chat_id,
        "sender_type": sender_type,
        "sender_name": sender_name,
        "message": text,
        "created_at": state.clock.now_iso(),
    }
    row["message_id"] = state.db.insert("chat_messages", row)
    return message_json(row)


def start_or_resume(
    state: SandboxState, *, company_number: int, employee_number: int
) -> dict[str, Any]:
    """The seed's /chat/start body: the caller's newest chat that has not ended, or a new one."""
    row = state.db.one(
        "SELECT * FROM chats WHERE company_number = ? AND employee_number = ? "
        "AND status != 'ended' ORDER BY started_at DESC, chat_id DESC LIMIT 1",
        (company_number, employee_number),
    )
    resumed = row is not None
    if row is None:
        row = {
            "company_number": company_number,
            "employee_number": employee_number,
            "status": "active",
            "started_at": state.clock.now_iso(),
        }
        row["chat_id"] = state.db.insert("chats", row)
        row.update(ticket_id=None, agent_name=None)
    return {
        "chat_id": row["chat_id"],
        "status": row["status"],
        "ticket_id": row["ticket_id"],
        "agent_name": row["agent_name"],
        "started_at": row["started_at"],
        "resumed": resumed,
        "messages": messages_of(state, row["chat_id"]) if resumed else [],
    }


def _set_status(state: SandboxState, chat_id: int, **fields: Any) -> None:
    state.db.update("chats", "chat_id", chat_id, fields)


def transfer(state: SandboxState, chat: dict[str, Any], *, reason: str | None) -> str:
    """Queue the chat for a human; idempotent while waiting or with an agent."""
    if chat["status"] == "ended":
        raise ApiError(409, "Chat has ended")
    if chat["status"] == "active":
        _set_status(state, chat["chat_id"], status="waiting_agent", transfer_reason=reason)
        add_message(
            state,
            chat["chat_id"],
            sender_type="system",
            sender_name=SYSTEM_NAME,
            text=TRANSFER_TEXT,
        )
        return "waiting_agent"
    return str(chat["status"])


def post_agent_message(
    state: SandboxState, chat: dict[str, Any], *, agent_name: str, text: str
) -> dict[str, Any]:
    """A human agent's message; the agent joins first unless already in the chat."""
    if chat["status"] == "ended":
        raise ApiError(409, "Chat has ended")
    if chat["status"] != "agent" or chat["agent_name"] != agent_name:
        _set_status(state, chat["chat_id"], status="agent", agent_name=agent_name)
        add_message(
            state,
            chat["chat_id"],
            sender_type="system",
            sender_name=SYSTEM_NAME,
            text=f"{agent_name} joined the chat",
        )
    return add_message(
        state, chat["chat_id"], sender_type="agent", sender_name=agent_name, text=text
    )


def end(state: SandboxState, chat: dict[str, Any]) -> None:
    """End the chat; idempotent."""
    if chat["status"] == "ended":
        return
    _set_status(state, chat["chat_id"], status="ended", ended_at=state.clock.now_iso())
    add_message(
        state, chat["chat_id"], sender_type="system", sender_name=SYSTEM_NAME, text=ENDED_TEXT
    )


def transcript(state: SandboxState, chat_id: int) -> str:
    lines = [f"{m['sender_name']}: {m['message']}" for m in messages_of(state, chat_id)]
    return "\n".join(lines)
