"""Where a Teams conversation lives: the stored address (a ConversationReference's fields),
the channel user's key, and the rules for reply chains and loopback serviceUrls (pure)."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

CHANNEL = "teams"
MESSAGE_ID = ";messageid="  # a channel reply chain inside a conversation id

ConversationKind = Literal["personal", "channel", "groupChat"]


@dataclass(frozen=True, slots=True)
class TeamsAddress:
    """Where a conversation lives in Teams; stored as the conversation's `address` so the
    relay can reach it later (the fields of a Bot Framework ConversationReference)."""

    service_url: str
    conversation_id: str  # as Teams sent it (a channel thread includes `;messageid=`)
    kind: ConversationKind
    tenant_id: str | None
    user_id: str  # the Bot Framework user id ("29:...")
    user_name: str | None
    aad_object_id: str | None
    bot_id: str
    bot_name: str | None
    reply_to: str | None = None  # the activity a reply answers (threads the reply)
    upn: str | None = None  # userPrincipalName, when Teams told us (TeamsInfo.get_member)
    channel_id: str = "msteams"

    @property
    def conversation_key(self) -> str:
        """Personal and group chats: the conversation id; a channel: the reply chain."""
        return self.conversation_id

    @property
    def user_key(self) -> str:
        return user_key(self.aad_object_id or self.user_id)

    @property
    def streams(self) -> bool:
        """Teams streams bot messages only in personal (1:1) chats."""
        return self.kind == "personal"

    def replying_to(self, activity_id: str | None) -> TeamsAddress:
        return _replace(self, reply_to=activity_id)

    def with_upn(self, upn: str | None) -> TeamsAddress:
        return _replace(self, upn=upn or self.upn)

    def reference(self) -> dict[str, Any]:
        """The ConversationReference JSON for `continue_conversation`."""
        user: dict[str, Any] = {"id": self.user_id, "name": self.user_name}
        if self.aad_object_id:
            user["aadObjectId"] = self.aad_object_id
        conversation: dict[str, Any] = {
            "id": self.conversation_id,
            "conversationType": self.kind,
            "isGroup": self.kind != "personal",
        }
        if self.tenant_id:
            conversation["tenantId"] = self.tenant_id
        return {
            "activityId": self.reply_to,
            "user": user,
            "bot": {"id": self.bot_id, "name": self.bot_name},
            "conversation": conversation,
            "channelId": self.channel_id,
            "serviceUrl": self.service_url,
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "service_url": self.service_url,
            "conversation_id": self.conversation_id,
            "kind": self.kind,
            "tenant_id": self.tenant_id,
            "user_id": self.user_id,
            "user_name": self.user_name,
            "aad_object_id": self.aad_object_id,
            "bot_id": self.bot_id,
            "bot_name": self.bot_name,
            "reply_to": self.reply_to,
            "upn": self.upn,
            "channel_id": self.channel_id,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> TeamsAddress | None:
        if not data:
            return None
        required = [data.get(name) for name in ("service_url", "conversation_id", "user_id")]
        kind = data.get("kind")
        if kind not in ("personal", "channel", "groupChat") or not all(
            isinstance(value, str) and value for value in required
        ):
            return None

        def text(name: str) -> str | None:
            value = data.get(name)
            return str(value) if isinstance(value, str) and value else None

        return cls(
            service_url=str(data["service_url"]),
            conversation_id=str(data["conversation_id"]),
            kind=kind,
            tenant_id=text("tenant_id"),
            user_id=str(data["user_id"]),
            user_name=text("user_name"),
            aad_object_id=text("aad_object_id"),
            bot_id=text("bot_id") or "",
            bot_name=text("bot_name"),
            reply_to=text("reply_to"),
            upn=text("upn"),
            channel_id=text("channel_id") or "msteams",
        )


def _replace(address: TeamsAddress, **changes: Any) -> TeamsAddress:
    return TeamsAddress(**(address.to_dict() | changes))


def user_key(user_id: str) -> str:
    """The channel user: the AAD object id (stable across chats and app reinstalls)."""
    return f"{CHANNEL}:{user_id}"


def base_conversation_id(conversation_id: str) -> str:
    return conversation_id.split(MESSAGE_ID, 1)[0]


def is_loopback(service_url: str) -> bool:
    """True for http(s) URLs on this machine (the emulator, a local fake connector)."""
    try:
        parts = urlsplit(service_url)
    except ValueError:
        return False
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("http", "https") or not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
