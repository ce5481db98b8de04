"""Channel-neutral value types: what arrives from a channel and what the engine replies.

An adapter translates its platform's event into an `Inbound` and renders each `Reply` event
for its channel. The reply is addressed by the inbound it answers, so the engine never builds
a channel address. Text is Markdown; each channel renders it (Block Kit, Adaptive Card,
sanitized HTML, terminal).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

ActionKind = Literal[
    "confirm",  # execute a pending write
    "cancel",  # drop a pending write
    "comment_instead",  # comment on a similar open ticket instead of creating one
    "create_ticket",  # offer: turn the problem into a ticket
    "talk_to_human",  # offer: escalate
    "cancel_handoff",  # leave the agent queue
    "feedback",  # 👍/👎 on an answer (value "up" | "down")
    "rating",  # 1-5 satisfaction after a handoff
    "link",  # open the account-link page (url)
]


@dataclass(frozen=True, slots=True)
class Action:
    """A button the user can press; `id` comes back in `ActionInvoke.action_id`."""

    id: str
    kind: ActionKind
    label: str
    value: str | None = None
    url: str | None = None
    style: Literal["primary", "danger"] | None = None


@dataclass(frozen=True, slots=True)
class ActionInvoke:
    """A press of an `Action`, as the channel delivered it."""

    action_id: str
    value: str | None = None


@dataclass(frozen=True, slots=True)
class Inbound:
    """One user event from any channel."""

    channel: str  # "web" | "slack" | "teams" | "cli"
    conversation_key: str  # stable per conversation within the channel (e.g. a Slack thread)
    user_key: str  # the channel user, e.g. "slack:T01:U02"
    text: str | None = None
    action: ActionInvoke | None = None
    event_id: str | None = None  # the platform's id, for exactly-once handling of redeliveries
    display_name: str | None = None
    address: Mapping[str, Any] = field(default_factory=dict)  # for proactive sends later


@dataclass(frozen=True, slots=True)
class Source:
    """A knowledge-base article an answer drew on."""

    article_id: int
    title: str
    url: str


@dataclass(frozen=True, slots=True)
class Typing:
    """The assistant is working; `status` is a short human-readable step, if any."""

    status: str | None = None


@dataclass(frozen=True, slots=True)
class TextDelta:
    """Streamed assistant text; the final `Message` repeats the whole text."""

    text: str


@dataclass(frozen=True, slots=True)
class Message:
    """A complete assistant message."""

    text: str
    sources: tuple[Source, ...] = ()
    actions: tuple[Action, ...] = ()
    message_id: int | None = None
    degraded: bool = False  # the model failed; this is a fallback answer
    notice: bool = False  # a short system notice rather than an answer (render it quietly)


@dataclass(frozen=True, slots=True)
class ConfirmField:
    label: str
    value: str


@dataclass(frozen=True, slots=True)
class ConfirmRequest:
    """A proposed write, shown exactly as it will be written, awaiting Confirm or Cancel."""

    pending_action_id: str
    title: str
    fields: tuple[ConfirmField, ...]
    notices: tuple[str, ...] = ()  # e.g. an active outage or a similar open ticket
    actions: tuple[Action, ...] = ()
    message_id: int | None = None


@dataclass(frozen=True, slots=True)
class HandoffStatus:
    state: Literal["queued", "joined", "ended", "cancelled", "unavailable"]
    text: str
    agent_name: str | None = None
    message_id: int | None = None


@dataclass(frozen=True, slots=True)
class AgentMessage:
    """A human agent's message relayed from the helpdesk chat."""

    agent_name: str
    text: str
    message_id: int | None = None


@dataclass(frozen=True, slots=True)
class LinkRequired:
    """The channel user has no helpdesk account linked yet."""

    url: str
    text: str
    message_id: int | None = None


@dataclass(frozen=True, slots=True)
class ErrorReply:
    """Something failed; `text` is safe to show, `actions` offer a way forward."""

    text: str
    actions: tuple[Action, ...] = ()
    message_id: int | None = None


Reply = (
    Typing
    | TextDelta
    | Message
    | ConfirmRequest
    | HandoffStatus
    | AgentMessage
    | LinkRequired
    | ErrorReply
)
