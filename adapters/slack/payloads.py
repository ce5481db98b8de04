"""Pure parsing of Slack payloads: events, button presses, commands and modals → plain values.

No I/O here, so every rule (what is ignored, which thread is the conversation, how a
dedupe key is formed) is unit-tested without a server. Slack's payload shapes:
https://docs.slack.dev/reference/events and https://docs.slack.dev/reference/interaction-payloads
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

CHANNEL = "slack"

AddressKind = Literal["dm", "channel", "assistant", "home"]

# Message subtypes that are still a person writing. Everything else (bot_message,
# message_changed, message_deleted, channel_join, ...) is ignored:
# https://docs.slack.dev/reference/events/message#subtypes
_USER_SUBTYPES = frozenset({None, "file_share", "thread_broadcast"})

_LINK = re.compile(r"<(https?://[^|>]+)(?:\|([^>]+))?>")
_USER = re.compile(r"<@([A-Z0-9]+)(?:\|([^>]+))?>")
_CHANNEL_REF = re.compile(r"<#([A-Z0-9]+)(?:\|([^>]*))?>")
_SPECIAL = re.compile(r"<!(here|channel|everyone)(?:\|[^>]*)?>")
_SUFFIX = "#"  # action_id = engine action id + "#" + position (Slack wants them unique)


@dataclass(frozen=True, slots=True)
class SlackAddress:
    """Where a conversation lives in Slack; stored as the conversation's `address`."""

    team_id: str
    channel: str
    thread_ts: str
    user_id: str
    kind: AddressKind

    @property
    def conversation_key(self) -> str:
        """The thread is the conversation (DMs, channel threads and assistant threads)."""
        return conversation_key(self.team_id, self.channel, self.thread_ts)

    @property
    def user_key(self) -> str:
        return user_key(self.team_id, self.user_id)

    def to_dict(self) -> dict[str, str]:
        return {
            "team_id": self.team_id,
            "channel": self.channel,
            "thread_ts": self.thread_ts,
            "user_id": self.user_id,
            "kind": self.kind,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> SlackAddress | None:
        if not data:
            return None
        kind = data.get("kind")
        fields = [data.get(name) for name in ("team_id", "channel", "thread_ts", "user_id")]
        if kind not in ("dm", "channel", "assistant", "home") or not all(
            isinstance(value, str) for value in fields
        ):
            return None
        team, channel, thread_ts, user = (str(value) for value in fields)
        return cls(team, channel, thread_ts, user, kind)


def conversation_key(team_id: str, channel: str, thread_ts: str) -> str:
    return f"{team_id}:{channel}:{thread_ts}"


def user_key(team_id: str, user_id: str) -> str:
    return f"{CHANNEL}:{team_id}:{user_id}"


def split_user_key(key: str) -> tuple[str, str] | None:
    """(team_id, user_id) of a Slack user key, or None for another channel's key."""
    prefix, _, rest = key.partition(":")
    team, _, user = rest.partition(":")
    if prefix != CHANNEL or not team or not user:
        return None
    return team, user


@dataclass(frozen=True, slots=True)
class UserMessage:
    """A person's message the bot should consider answering."""

    address: SlackAddress
    text: str
    ts: str
    event_id: str | None
    mentions_bot: bool
    in_thread: bool  # the message was a thread reply (not the thread's first message)

    @property
    def dedupe_key(self) -> str:
        """One key per Slack message, whatever event delivered it. A mention in a thread
        arrives twice (app_mention and message.channels) with different event ids."""
        return f"msg:{self.address.team_id}:{self.address.channel}:{self.ts}"


@dataclass(frozen=True, slots=True)
class Ignored:
    """An event the bot does not act on, and why (for debug logs)."""

    reason: str


def clean_text(text: str, *, bot_user_id: str | None) -> str:
    """Slack's mrkdwn-escaped text as the plain text a person typed, minus the bot mention.

    https://docs.slack.dev/messaging/formatting-message-text#escaping
    """

    def user(match: re.Match[str]) -> str:
        if bot_user_id is not None and match.group(1) == bot_user_id:
            return ""
        return "@" + (match.group(2) or match.group(1))

    def link(match: re.Match[str]) -> str:
        url, label = match.group(1), match.group(2)
        return url if not label or label == url else f"{label} ({url})"

    text = _USER.sub(user, text)
    text = _CHANNEL_REF.sub(lambda m: "#" + (m.group(2) or m.group(1)), text)
    text = _SPECIAL.sub(lambda m: "@" + m.group(1), text)
    text = _LINK.sub(link, text)
    text = re.sub(r"<mailto:([^|>]+)(?:\|[^>]+)?>", r"\1", text)
    return html.unescape(re.sub(r"[ \t]+", " ", text)).strip()


def mentions(text: str, user_id: str | None) -> bool:
    return user_id is not None and f"<@{user_id}" in text


def _event(body: Mapping[str, Any]) -> Mapping[str, Any]:
    event = body.get("event")
    return event if isinstance(event, Mapping) else {}


def _team(body: Mapping[str, Any], event: Mapping[str, Any]) -> str:
    team = body.get("team_id") or event.get("team") or event.get("user_team")
    return str(team or "")


def parse_message_event(
    body: Mapping[str, Any], *, bot_user_id: str | None, bot_id: str | None = None
) -> UserMessage | Ignored:
    """A `message` event (DMs, channels, groups) as a user message, or why it is ignored.

    Channel messages that mention the bot are left to the `app_mention` event.
    """
    event = _event(body)
    skip = _skip_reason(event, bot_user_id=bot_user_id, bot_id=bot_id)
    if skip is not None:
        return Ignored(skip)
    channel_type = event.get("channel_type")
    text = str(event.get("text") or "")
    mentioned = mentions(text, bot_user_id)
    kind: AddressKind
    if channel_type == "im":
        kind = "dm"
    elif channel_type in ("channel", "group", "mpim"):
        if mentioned:
            return Ignored("mention: answered from app_mention")
        if not event.get("thread_ts"):
            return Ignored("channel message outside a thread")
        kind = "channel"
    else:
        return Ignored(f"channel type {channel_type!r}")
    return _user_message(body, event, kind=kind, mentioned=mentioned, bot_user_id=bot_user_id)


def parse_mention_event(
    body: Mapping[str, Any], *, bot_user_id: str | None, bot_id: str | None = None
) -> UserMessage | Ignored:
    """An `app_mention`: answered in the message's thread. A mention in a DM is a DM (the
    same message also arrives as `message.im`; the dedupe key makes it one turn)."""
    event = _event(body)
    skip = _skip_reason(event, bot_user_id=bot_user_id, bot_id=bot_id)
    if skip is not None:
        return Ignored(skip)
    kind: AddressKind = "dm" if str(event.get("channel", "")).startswith("D") else "channel"
    return _user_message(body, event, kind=kind, mentioned=True, bot_user_id=bot_user_id)


def _skip_reason(
    event: Mapping[str, Any], *, bot_user_id: str | None, bot_id: str | None
) -> str | None:
    if event.get("subtype") not in _USER_SUBTYPES:
        return f"subtype {event.get('subtype')}"
    if event.get("bot_id") or event.get("bot_profile"):
        return "a bot's message" if event.get("bot_id") != bot_id else "own message"
    user = event.get("user")
    if not user:
        return "no user"
    if user == bot_user_id:
        return "own message"
    if not event.get("channel") or not event.get("ts"):
        return "no channel or ts"
    return None


def _user_message(
    body: Mapping[str, Any],
    event: Mapping[str, Any],
    *,
    kind: AddressKind,
    mentioned: bool,
    bot_user_id: str | None,
) -> UserMessage | Ignored:
    ts = str(event["ts"])
    thread_ts = str(event.get("thread_ts") or ts)
    text = clean_text(str(event.get("text") or ""), bot_user_id=bot_user_id)
    if not text:
        return Ignored("no text")
    address = SlackAddress(
        team_id=_team(body, event),
        channel=str(event["channel"]),
        thread_ts=thread_ts,
        user_id=str(event["user"]),
        kind=kind,
    )
    event_id = body.get("event_id")
    return UserMessage(
        address=address,
        text=text,
        ts=ts,
        event_id=str(event_id) if event_id else None,
        mentions_bot=mentioned,
        in_thread=thread_ts != ts,
    )


@dataclass(frozen=True, slots=True)
class AssistantThreadStarted:
    address: SlackAddress
    event_id: str | None


def parse_assistant_thread_started(body: Mapping[str, Any]) -> AssistantThreadStarted | Ignored:
    """https://docs.slack.dev/reference/events/assistant_thread_started"""
    event = _event(body)
    thread = event.get("assistant_thread")
    if not isinstance(thread, Mapping):
        return Ignored("no assistant_thread")
    fields = [thread.get(name) for name in ("channel_id", "thread_ts", "user_id")]
    if not all(fields):
        return Ignored("incomplete assistant_thread")
    channel, thread_ts, user = (str(value) for value in fields)
    address = SlackAddress(_team(body, event), channel, thread_ts, user, "assistant")
    event_id = body.get("event_id")
    return AssistantThreadStarted(address, str(event_id) if event_id else None)


# --- interactivity ------------------------------------------------------------------------


def encode_action_id(action_id: str, position: int) -> str:
    """Slack needs action_ids unique within a message (👍 and 👎 share the engine's id)."""
    return f"{action_id}{_SUFFIX}{position}"


def decode_action_id(slack_action_id: str) -> str:
    head, sep, tail = slack_action_id.rpartition(_SUFFIX)
    return head if sep and tail.isdigit() else slack_action_id


@dataclass(frozen=True, slots=True)
class ButtonPress:
    """A click on one of our buttons."""

    action_id: str  # the engine's action id (or an adapter action like "home:approve")
    value: str | None
    user_id: str
    team_id: str
    trigger_id: str | None
    channel: str | None  # None on App Home
    message_ts: str | None
    thread_ts: str | None
    view_id: str | None
    message_blocks: tuple[Mapping[str, Any], ...]
    is_ephemeral: bool

    @property
    def kind(self) -> str:
        return self.action_id.partition(":")[0]

    @property
    def dedupe_key(self) -> str:
        """Action id + message ts (or view): a double click or a second replica sees the same
        key. The value is part of it so 👎 after 👍 still counts."""
        where = f"{self.channel}:{self.message_ts}" if self.message_ts else f"view:{self.view_id}"
        return f"action:{self.team_id}:{where}:{self.action_id}:{self.value or ''}"

    def address(self, *, kind: AddressKind) -> SlackAddress | None:
        """The conversation the clicked message belongs to (our posts are thread replies)."""
        if self.channel is None or self.message_ts is None:
            return None
        return SlackAddress(
            self.team_id, self.channel, self.thread_ts or self.message_ts, self.user_id, kind
        )


def parse_button_press(body: Mapping[str, Any]) -> ButtonPress | Ignored:
    """The first action of a `block_actions` payload."""
    actions = body.get("actions")
    if body.get("type") != "block_actions" or not isinstance(actions, list) or not actions:
        return Ignored("not a block action")
    action = actions[0]
    user = body.get("user") or {}
    team = body.get("team") or {}
    container = body.get("container") or {}
    message = body.get("message") or {}
    view = body.get("view") or {}
    channel = container.get("channel_id") or (body.get("channel") or {}).get("id")
    message_ts = container.get("message_ts") or message.get("ts")
    value = action.get("value")
    if value is None and isinstance(action.get("selected_option"), Mapping):
        value = action["selected_option"].get("value")
    raw_blocks = message.get("blocks")
    blocks: list[Any] = raw_blocks if isinstance(raw_blocks, list) else []
    return ButtonPress(
        action_id=decode_action_id(str(action.get("action_id") or "")),
        value=str(value) if value is not None else None,
        user_id=str(user.get("id") or ""),
        team_id=str(team.get("id") or user.get("team_id") or ""),
        trigger_id=body.get("trigger_id"),
        channel=str(channel) if channel else None,
        message_ts=str(message_ts) if message_ts else None,
        thread_ts=str(message.get("thread_ts") or container.get("thread_ts") or "") or None,
        view_id=str(view.get("id")) if view.get("id") else None,
        message_blocks=tuple(block for block in blocks if isinstance(block, Mapping)),
        is_ephemeral=bool(container.get("is_ephemeral")),
    )


# --- slash command and modals ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Command:
    name: str  # help | tickets | ticket | new | outages | link | unlink | human
    argument: str


_COMMANDS = {"help", "tickets", "ticket", "new", "outages", "link", "unlink", "human"}
_ALIASES = {"": "help", "?": "help", "status": "outages", "list": "tickets", "agent": "human"}


def parse_command(text: str) -> Command:
    """`/helpdesk <subcommand> [argument]`; anything unknown is `help`."""
    head, _, rest = text.strip().partition(" ")
    name, rest = _ALIASES.get(head.lower(), head.lower()), rest.strip()
    if name == "ticket":
        number = rest.lstrip("#")
        if not rest:
            return Command("tickets", "")
        return Command("ticket", number) if number.isdigit() else Command("help", text.strip())
    if name not in _COMMANDS:
        return Command("help", text.strip())
    return Command(name, rest)
