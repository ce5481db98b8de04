"""Widget rendering: pure functions turning engine replies and stored messages into JSON frames.

Two sources feed the widget the same frame shapes:

* `render_reply` — a live `Reply` event from the engine (or the handoff relay), rich: sources,
  buttons, confirm fields, handoff state;
* `render_stored` — a transcript row from the store, for replay after a reconnect or a page
  reload. The store keeps text only, so replayed frames carry no sources, and a confirm
  request comes back as its Markdown text (with Confirm/Cancel buttons only while its
  pending action is still live).

Text stays Markdown (or plain text for the user's own messages); the browser renders it with
DOM nodes and `textContent`, never as HTML. URLs that are not http(s) are dropped here, so a
`javascript:` link from a model, a KB article or an agent never reaches the page.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from bot import confirmations, prompts
from bot.messages import (
    Action,
    AgentMessage,
    ConfirmRequest,
    ErrorReply,
    HandoffStatus,
    LinkRequired,
    Message,
    Reply,
    Source,
    TextDelta,
    Typing,
)
from bot.replay import feedback_actions, reply_from_stored
from bot.store.records import Message as StoredMessage
from bot.store.records import PendingAction

Frame = dict[str, Any]

#: The prefix of the engine's event id for a widget message: `web:<client id>`.
EVENT_PREFIX = "web:"

_PRESSED = re.compile(r"^\[pressed [a-z_]+\]$")  # the engine's transcript line for a button
_CONFIRM_TAIL = confirmations.render_confirm_text(
    ConfirmRequest(pending_action_id="", title="", fields=())
).splitlines()[-1]


def safe_url(url: str | None) -> str | None:
    """`url` if it is an absolute http(s) URL, else None (no javascript:, data:, relative)."""
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return url.strip()


def render_action(action: Action) -> Frame | None:
    """A button; a link button whose URL is unsafe is dropped."""
    url = safe_url(action.url)
    if action.kind == "link" and url is None:
        return None
    return {
        "id": action.id,
        "kind": action.kind,
        "label": action.label,
        "value": action.value,
        "url": url,
        "style": action.style,
    }


def render_actions(actions: tuple[Action, ...]) -> list[Frame]:
    return [frame for frame in map(render_action, actions) if frame is not None]


def render_source(source: Source) -> Frame:
    return {"title": source.title, "url": safe_url(source.url)}


def handoff_label(status: HandoffStatus) -> str:
    """The short status line the widget shows for a handoff state."""
    if status.state == "queued":
        return prompts.reply("web_handoff_waiting")
    if status.state == "joined":
        return prompts.reply(
            "handoff_joined", name=status.agent_name or prompts.reply("web_an_agent")
        )
    if status.state == "ended":
        return prompts.reply("web_handoff_ended")
    if status.state == "cancelled":
        return prompts.reply("web_handoff_left_queue")
    return prompts.reply("web_handoff_unavailable")


def is_final(reply: Reply) -> bool:
    """Replies the engine persists (so they have a transcript seq); not typing or deltas."""
    return not isinstance(reply, (Typing, TextDelta))


def render_reply(reply: Reply) -> Frame:
    """A live engine reply as a widget frame (without `seq`; the socket layer adds it)."""
    if isinstance(reply, Typing):
        return {"type": "typing", "status": reply.status}
    if isinstance(reply, TextDelta):
        return {"type": "delta", "text": reply.text}
    if isinstance(reply, Message) and reply.notice and not reply.actions:
        return {"type": "notice", "text": reply.text}
    if isinstance(reply, Message):
        return {
            "type": "message",
            "role": "assistant",
            "text": reply.text,
            "sources": [render_source(source) for source in reply.sources],
            "actions": render_actions(reply.actions),
            "degraded": reply.degraded,
            "feedback": None,
        }
    if isinstance(reply, ConfirmRequest):
        return {
            "type": "confirm",
            "title": reply.title,
            "fields": [{"label": f.label, "value": f.value} for f in reply.fields],
            "notices": list(reply.notices),
            "text": None,
            "actions": render_actions(reply.actions),
        }
    if isinstance(reply, HandoffStatus):
        return {
            "type": "handoff",
            "state": reply.state,
            "label": handoff_label(reply),
            "text": reply.text,
            "agent_name": reply.agent_name,
        }
    if isinstance(reply, AgentMessage):
        return {"type": "agent", "name": reply.agent_name, "text": reply.text}
    if isinstance(reply, LinkRequired):
        # The widget signs in where it is: the "link" is the panel's own sign-in form.
        return {"type": "signin_required", "text": reply.text}
    if isinstance(reply, ErrorReply):
        return {
            "type": "error",
            "code": "turn",
            "text": reply.text,
            "actions": render_actions(reply.actions),
        }
    raise TypeError(f"not a Reply: {type(reply).__name__}")


def reply_text(reply: Reply) -> str | None:
    """The text the engine or relay stored for this reply, used to find its transcript row."""
    if isinstance(reply, (Message, AgentMessage, HandoffStatus, LinkRequired, ErrorReply)):
        return reply.text
    if isinstance(reply, ConfirmRequest):
        return confirmations.render_confirm_text(reply)
    return None


def client_id_of(message: StoredMessage) -> str | None:
    if message.event_id and message.event_id.startswith(EVENT_PREFIX):
        return message.event_id[len(EVENT_PREFIX) :]
    return None


def is_confirm_text(text: str) -> bool:
    return text.rstrip().endswith(_CONFIRM_TAIL)


def render_stored(
    message: StoredMessage, *, live_confirm: PendingAction | None = None
) -> Frame | None:
    """A transcript row as a replay frame; None for rows users never see (tool calls, system
    notes, button presses). `live_confirm` is the pending action this row proposes, when the
    row is a confirm request whose action still awaits an answer."""
    frame = _stored_body(message, live_confirm)
    if frame is not None:
        frame["seq"] = message.seq
    return frame


def _stored_body(message: StoredMessage, live_confirm: PendingAction | None) -> Frame | None:
    if message.meta and message.meta.get("kind"):
        return _stored_from_meta(message, live_confirm)
    return _stored_from_text(message, live_confirm)


def _stored_from_meta(message: StoredMessage, live_confirm: PendingAction | None) -> Frame | None:
    """Rows written with `meta` (bot.replay) redraw exactly as they were shown live."""
    reply = reply_from_stored(message)
    if reply is None:
        return None
    frame = render_reply(reply)
    if isinstance(reply, ConfirmRequest):
        live = live_confirm is not None and live_confirm.id == reply.pending_action_id
        if not live:
            frame["actions"] = []  # answered, cancelled or expired: no buttons to press
    elif isinstance(reply, Message) and frame["type"] == "message":
        frame["feedback"] = {1: "up", -1: "down"}.get(message.feedback or 0)
    return frame


def _stored_from_text(message: StoredMessage, live_confirm: PendingAction | None) -> Frame | None:
    """Rows stored before replies carried `meta`: rebuilt from their text."""
    text = message.content
    if message.role == "user":
        if _PRESSED.match(text):
            return None
        return {"type": "user", "client_id": client_id_of(message), "text": text}
    if message.role == "assistant":
        if message.tool_calls or not text.strip():
            return None
        answered = message.input_tokens is not None or message.feedback is not None
        feedback = {1: "up", -1: "down"}.get(message.feedback or 0)
        return {
            "type": "message",
            "role": "assistant",
            "text": text,
            "sources": [],
            "actions": render_actions(feedback_actions(message.id)) if answered else [],
            "degraded": False,
            "feedback": feedback,
        }
    if message.role == "agent":
        return {
            "type": "agent",
            "name": message.author or prompts.reply("web_agent_name"),
            "text": text,
        }
    if message.role == "notice":
        if is_confirm_text(text):
            actions: list[Frame] = []
            if live_confirm is not None:
                confirm, cancel = prompts.reply("label_confirm"), prompts.reply("label_cancel")
                actions = [
                    {"id": f"confirm:{live_confirm.id}", "kind": "confirm", "label": confirm,
                     "value": None, "url": None, "style": "primary"},
                    {"id": f"cancel:{live_confirm.id}", "kind": "cancel", "label": cancel,
                     "value": None, "url": None, "style": None},
                ]  # fmt: skip
            return {
                "type": "confirm",
                "title": None,
                "fields": [],
                "notices": [],
                "text": text,
                "actions": actions,
            }
        return {"type": "notice", "text": text}
    return None  # tool results and system notes are for the model only
