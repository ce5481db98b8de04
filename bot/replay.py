"""Replies as stored transcript rows and back, so a replay looks like the live reply.

Every reply the engine or the relay persists carries `meta` (sources, the confirm card and
its pending action, buttons, the handoff state). A channel that redraws history after a
reconnect, or the engine answering a redelivered event, rebuilds the same Reply from the
row instead of guessing from its text.
"""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

from bot import confirmations
from bot.messages import (
    Action,
    AgentMessage,
    ConfirmField,
    ConfirmRequest,
    ErrorReply,
    HandoffStatus,
    LinkRequired,
    Message,
    Reply,
    Source,
)
from bot.store.records import Message as StoredMessage
from bot.store.records import MessageStatus, NewMessage, Role, TokenUsage
from bot.store.store import Store

ReplyT = TypeVar("ReplyT", bound=Reply)


def meta_for(reply: Reply) -> dict[str, Any]:
    """What must be stored beside a reply's text to rebuild it."""
    if isinstance(reply, Message):
        return {
            "kind": "message",
            "sources": [
                {"article_id": s.article_id, "title": s.title, "url": s.url} for s in reply.sources
            ],
            "actions": [_action(a) for a in reply.actions],
            "degraded": reply.degraded,
            "notice": reply.notice,
        }
    if isinstance(reply, ConfirmRequest):
        return {
            "kind": "confirm",
            "pending_action_id": reply.pending_action_id,
            "title": reply.title,
            "fields": [{"label": f.label, "value": f.value} for f in reply.fields],
            "notices": list(reply.notices),
            "actions": [_action(a) for a in reply.actions],
        }
    if isinstance(reply, HandoffStatus):
        return {"kind": "handoff", "state": reply.state, "agent_name": reply.agent_name}
    if isinstance(reply, AgentMessage):
        return {"kind": "agent", "agent_name": reply.agent_name}
    if isinstance(reply, LinkRequired):
        return {"kind": "link", "url": reply.url}
    if isinstance(reply, ErrorReply):
        return {"kind": "error", "actions": [_action(a) for a in reply.actions]}
    return {}


def reply_from_stored(row: StoredMessage) -> Reply | None:
    """The reply a stored row shows the user; None for rows only the model sees."""
    meta = row.meta or {}
    kind = meta.get("kind")
    if kind == "confirm":
        return ConfirmRequest(
            pending_action_id=str(meta.get("pending_action_id", "")),
            title=str(meta.get("title", "")),
            fields=tuple(
                ConfirmField(str(f.get("label", "")), str(f.get("value", "")))
                for f in meta.get("fields", [])
            ),
            notices=tuple(str(n) for n in meta.get("notices", [])),
            actions=_actions(meta),
            message_id=row.id,
        )
    if kind == "handoff":
        return HandoffStatus(
            state=meta.get("state", "queued"),
            text=row.content,
            agent_name=meta.get("agent_name"),
            message_id=row.id,
        )
    if kind == "link":
        return LinkRequired(url=str(meta.get("url", "")), text=row.content, message_id=row.id)
    if kind == "error":
        return ErrorReply(text=row.content, actions=_actions(meta), message_id=row.id)
    if row.role == "agent":
        name = str(meta.get("agent_name") or row.author or "Agent")
        return AgentMessage(agent_name=name, text=row.content, message_id=row.id)
    if row.role in ("assistant", "notice") and not row.tool_calls and row.content.strip():
        return Message(
            text=row.content,
            sources=tuple(
                Source(int(s["article_id"]), str(s["title"]), str(s["url"]))
                for s in meta.get("sources", [])
            ),
            actions=_actions(meta) + (feedback_actions(row.id) if meta.get("feedback") else ()),
            message_id=row.id,
            degraded=bool(meta.get("degraded", False)),
            notice=bool(meta.get("notice", row.role == "notice")),
        )
    return None


def _action(action: Action) -> dict[str, Any]:
    return {
        "id": action.id,
        "kind": action.kind,
        "label": action.label,
        "value": action.value,
        "url": action.url,
        "style": action.style,
    }


def _actions(meta: dict[str, Any]) -> tuple[Action, ...]:
    return tuple(
        Action(
            id=str(a["id"]),
            kind=a["kind"],
            label=str(a["label"]),
            value=a.get("value"),
            url=a.get("url"),
            style=a.get("style"),
        )
        for a in meta.get("actions", [])
    )


def feedback_actions(message_id: int) -> tuple[Action, ...]:
    """👍/👎 on an answer; the id names the stored answer they rate."""
    return (
        Action(id=f"feedback:{message_id}", kind="feedback", label="👍", value="up"),
        Action(id=f"feedback:{message_id}", kind="feedback", label="👎", value="down"),
    )


def role_of(reply: Reply) -> Role:
    if isinstance(reply, AgentMessage):
        return "agent"
    if isinstance(reply, Message) and not reply.notice:
        return "assistant"
    return "notice"


def text_of(reply: Reply) -> str:
    if isinstance(reply, ConfirmRequest):
        return confirmations.render_confirm_text(reply)
    return str(getattr(reply, "text", ""))


def reply_row(
    reply: Reply,
    *,
    reply_to_id: int | None = None,
    status: MessageStatus = "done",
    feedback: bool = False,
    usage: TokenUsage | None = None,
) -> NewMessage:
    """A reply as the row that stores it (text + meta), to add with others in one go."""
    meta = meta_for(reply)
    if feedback:
        meta["feedback"] = True
    return NewMessage(
        role=role_of(reply),
        content=text_of(reply),
        reply_to_id=reply_to_id,
        status=status,
        author=reply.agent_name if isinstance(reply, AgentMessage) else None,
        meta=meta,
        usage=usage,
    )


def stored_reply(reply: ReplyT, saved: StoredMessage) -> ReplyT:
    """The reply carrying the id of the row that stores it (and 👍/👎 naming that row
    when it was stored with `feedback`)."""
    changes: dict[str, Any] = {"message_id": saved.id}
    if (saved.meta or {}).get("feedback") and isinstance(reply, Message):
        changes["actions"] = reply.actions + feedback_actions(saved.id)
    return dataclasses.replace(reply, **changes)


async def persist_reply(
    store: Store,
    conversation_id: int,
    reply: ReplyT,
    *,
    reply_to_id: int | None = None,
    event_id: str | None = None,
    status: MessageStatus = "done",
    feedback: bool = False,
    usage: TokenUsage | None = None,
) -> tuple[ReplyT, StoredMessage]:
    """Store a reply (text + meta) and return it carrying its `message_id`.

    With `feedback`, the stored answer gets 👍/👎 buttons naming its own id.
    """
    row = reply_row(reply, reply_to_id=reply_to_id, status=status, feedback=feedback, usage=usage)
    saved = await store.add_message(
        conversation_id,
        role=row.role,
        content=row.content,
        reply_to_id=row.reply_to_id,
        event_id=event_id,
        status=row.status,
        author=row.author,
        meta=row.meta,
        usage=row.usage,
    )
    return stored_reply(reply, saved), saved
