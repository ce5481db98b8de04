"""Pure parsing of Bot Framework activities from Teams → plain values the channel acts on.

No I/O and no SDK here, so every rule (what is ignored, which thread is the conversation,
how mentions are stripped, how a dedupe key is formed) is unit-tested on activity JSON.
Activity schema: https://learn.microsoft.com/azure/bot-service/rest-api/bot-framework-rest-connector-api-reference#activity-object
Teams specifics (conversation types, `;messageid=` reply chains, mentions):
https://learn.microsoft.com/microsoftteams/platform/bots/how-to/conversations/channel-and-group-conversations
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from adapters.teams.address import (
    CHANNEL,
    MESSAGE_ID,
    ConversationKind,
    TeamsAddress,
    base_conversation_id,
    is_loopback,
    user_key,
)

ACTION_KEY = "hb"  # the engine action id inside an Action.Submit / Action.Execute `data`
VALUE_KEY = "v"  # the action's value, if any
CREATE_TICKET_COMMAND = "createTicket"  # the message extension's command id (manifest)


_AT = re.compile(r"<at>(.*?)</at>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]+>")
_BREAK = re.compile(r"<\s*(br|/p|/div|/li)\s*/?>", re.IGNORECASE)


# --- events --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Ignored:
    """An activity the bot does not act on, and why (for debug logs)."""

    reason: str


@dataclass(frozen=True, slots=True)
class UserMessage:
    address: TeamsAddress
    text: str
    activity_id: str

    @property
    def dedupe_key(self) -> str:
        """Teams redelivers an unanswered activity with the same id; ids are unique only
        within a conversation."""
        return f"activity:{base_conversation_id(self.address.conversation_id)}:{self.activity_id}"


@dataclass(frozen=True, slots=True)
class CardAction:
    """A press of a card button: Action.Submit (a message with `value`) or Action.Execute
    (an `adaptiveCard/action` invoke, which must be answered with a card)."""

    address: TeamsAddress
    action_id: str
    value: str | None
    card_id: str | None  # the message holding the card (its `replyToId`)
    data: Mapping[str, Any]  # everything the button carried (and inputs the user filled)
    activity_id: str
    invoke: bool = False

    @property
    def kind(self) -> str:
        return self.action_id.partition(":")[0]

    @property
    def reason(self) -> str:
        """What the manager typed beside an approvals card's buttons for this ticket."""
        number = self.action_id.partition(":")[2]
        return str(self.data.get(f"reason_{number}") or "").strip()[:500]

    @property
    def needs_reason(self) -> bool:
        """A Reject pressed with the reason left empty: asked again, not acted on, so it must
        not take the card's one claim (the manager types a reason and presses again)."""
        return self.kind == "reject" and not self.reason

    @property
    def dedupe_key(self) -> str:
        """A card acts once: a second press on the same card (a double click, a retried
        submit, Confirm after Cancel) finds this claim taken."""
        base = base_conversation_id(self.address.conversation_id)
        if self.card_id is None:
            return f"press:{base}:{self.activity_id}"
        if self.kind in ("approve", "reject"):  # one card lists several tickets
            return f"decide:{base}:{self.card_id}:{self.action_id.partition(':')[2]}"
        group = "feedback" if self.kind == "feedback" else "card"
        return f"{group}:{base}:{self.card_id}"


@dataclass(frozen=True, slots=True)
class MembersAdded:
    """The bot was added to a chat or team, or a person to a chat with the bot."""

    address: TeamsAddress
    activity_id: str
    bot_added: bool


@dataclass(frozen=True, slots=True)
class ExtensionFetch:
    """The "Create a helpdesk ticket" message action was chosen: open the task module."""

    address: TeamsAddress
    message_text: str
    activity_id: str


@dataclass(frozen=True, slots=True)
class ExtensionSubmit:
    """The task module's form was submitted."""

    address: TeamsAddress
    data: Mapping[str, Any]
    activity_id: str


@dataclass(frozen=True, slots=True)
class UnknownInvoke:
    """An invoke the bot does not handle; it is still answered (Teams waits for one)."""

    name: str


Event = UserMessage | CardAction | MembersAdded | ExtensionFetch | ExtensionSubmit


# --- text ----------------------------------------------------------------------------------


def strip_mentions(text: str, *, bot_id: str, entities: Any) -> str:
    """The text a person typed, without the bot's @mention; other mentions keep the name.

    Teams puts each mention in the text as `<at>Name</at>` and names who it is in a
    `mention` entity: https://learn.microsoft.com/microsoftteams/platform/bots/how-to/conversations/channel-and-group-conversations#retrieve-mentions
    """
    bot_tags: set[str] = set()
    for entity in entities if isinstance(entities, list) else []:
        if not isinstance(entity, Mapping) or entity.get("type") != "mention":
            continue
        mentioned = entity.get("mentioned") or {}
        if isinstance(mentioned, Mapping) and _same_bot(str(mentioned.get("id") or ""), bot_id):
            tag = entity.get("text")
            if isinstance(tag, str) and tag:
                bot_tags.add(tag)
    for tag in bot_tags:
        text = text.replace(tag, " ")
    text = _AT.sub(lambda match: match[1], text)
    return plain_text(text)


def plain_text(text: str) -> str:
    """HTML-ish Teams text (`<p>`, `&nbsp;`) as plain text with collapsed spaces."""
    text = _BREAK.sub("\n", text)
    text = html.unescape(_TAG.sub("", text)).replace("\xa0", " ")
    lines = [" ".join(line.split()) for line in text.splitlines()]
    return "\n".join(line for line in lines if line).strip()


def _same_bot(mentioned_id: str, bot_id: str) -> bool:
    # The recipient is "28:<app id>"; some clients name the bot by its bare app id.
    return bool(bot_id) and (mentioned_id == bot_id or mentioned_id == bot_id.removeprefix("28:"))


# --- the activity -------------------------------------------------------------------------


def address_of(activity: Mapping[str, Any]) -> TeamsAddress | None:
    """Where the activity came from, addressed so that a reply lands next to it."""
    conversation = _map(activity.get("conversation"))
    sender = _map(activity.get("from"))
    bot = _map(activity.get("recipient"))
    service_url = activity.get("serviceUrl")
    conversation_id = conversation.get("id")
    user_id = sender.get("id")
    if not (isinstance(service_url, str) and isinstance(conversation_id, str) and user_id):
        return None
    kind_raw = conversation.get("conversationType")
    kind: ConversationKind = (
        kind_raw
        if kind_raw in ("personal", "channel", "groupChat")
        else ("groupChat" if conversation.get("isGroup") else "personal")
    )
    activity_id = str(activity.get("id") or "") or None
    if (
        kind == "channel"
        and MESSAGE_ID not in conversation_id
        and activity_id
        and activity.get("type") == "message"
    ):
        # A new channel post: its own id roots the reply chain.
        conversation_id = f"{conversation_id}{MESSAGE_ID}{activity_id}"
    tenant = conversation.get("tenantId") or _map(
        _map(activity.get("channelData")).get("tenant")
    ).get("id")
    return TeamsAddress(
        service_url=service_url,
        conversation_id=conversation_id,
        kind=kind,
        tenant_id=str(tenant) if tenant else None,
        user_id=str(user_id),
        user_name=_text(sender.get("name")),
        aad_object_id=_text(sender.get("aadObjectId")),
        bot_id=str(bot.get("id") or ""),
        bot_name=_text(bot.get("name")),
        reply_to=activity_id,
        channel_id=str(activity.get("channelId") or "msteams"),
    )


def parse_activity(activity: Mapping[str, Any]) -> Event | UnknownInvoke | Ignored:
    """What an inbound activity asks of the bot, or why it is ignored."""
    kind = activity.get("type")
    address = address_of(activity)
    if address is None:
        return Ignored("no conversation, sender or serviceUrl")
    sender = _map(activity.get("from"))
    activity_id = str(activity.get("id") or "")
    if kind == "message":
        if sender.get("role") == "bot" or sender.get("id") == address.bot_id:
            return Ignored("the bot's own or another bot's message")
        value = activity.get("value")
        if isinstance(value, Mapping) and ACTION_KEY in value:
            return _card_action(address, value, activity, invoke=False)
        text = strip_mentions(
            str(activity.get("text") or ""),
            bot_id=address.bot_id,
            entities=activity.get("entities"),
        )
        if not text:
            return Ignored("no text")
        return UserMessage(address=address, text=text, activity_id=activity_id)
    if kind == "conversationUpdate":
        added = [_map(member) for member in activity.get("membersAdded") or []]
        if not added:
            return Ignored("no members added")
        bot_added = any(member.get("id") == address.bot_id for member in added)
        if not bot_added and address.kind != "personal":
            return Ignored("people joined a team or group chat")
        return MembersAdded(address=address, activity_id=activity_id, bot_added=bot_added)
    if kind == "invoke":
        return _invoke(address, activity)
    return Ignored(f"activity type {kind!r}")


def _invoke(address: TeamsAddress, activity: Mapping[str, Any]) -> Event | UnknownInvoke | Ignored:
    name = str(activity.get("name") or "")
    value = _map(activity.get("value"))
    activity_id = str(activity.get("id") or "")
    if name == "adaptiveCard/action":
        # https://learn.microsoft.com/microsoftteams/platform/task-modules-and-cards/cards/universal-actions-for-adaptive-cards/overview
        action = _map(value.get("action"))
        data = dict(_map(action.get("data")))
        if ACTION_KEY not in data and isinstance(action.get("verb"), str):
            data[ACTION_KEY] = action["verb"]
        if ACTION_KEY not in data:
            return UnknownInvoke(name)
        return _card_action(address, data, activity, invoke=True)
    if name in ("composeExtension/fetchTask", "composeExtension/submitAction"):
        if value.get("commandId") != CREATE_TICKET_COMMAND:
            return UnknownInvoke(name)
        if name == "composeExtension/fetchTask":
            payload = _map(value.get("messagePayload"))
            body = _map(payload.get("body"))
            return ExtensionFetch(
                address=address,
                message_text=plain_text(str(body.get("content") or "")),
                activity_id=activity_id,
            )
        return ExtensionSubmit(
            address=address, data=_map(value.get("data")), activity_id=activity_id
        )
    if name == "task/submit":
        submitted = _map(value.get("data"))
        if ACTION_KEY in submitted:
            return _card_action(address, submitted, activity, invoke=True)
    return UnknownInvoke(name)


def _card_action(
    address: TeamsAddress, data: Mapping[str, Any], activity: Mapping[str, Any], *, invoke: bool
) -> CardAction | Ignored:
    action_id = data.get(ACTION_KEY)
    if not isinstance(action_id, str) or not action_id:
        return Ignored("a card press without an action")
    value = data.get(VALUE_KEY)
    card_id = activity.get("replyToId")
    return CardAction(
        address=address,
        action_id=action_id,
        value=str(value) if value is not None else None,
        card_id=str(card_id) if card_id else None,
        data=dict(data),
        activity_id=str(activity.get("id") or ""),
        invoke=invoke,
    )


def _map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _text(value: Any) -> str | None:
    return str(value) if isinstance(value, str) and value else None


__all__ = [
    "CHANNEL",
    "TeamsAddress",
    "address_of",
    "base_conversation_id",
    "is_loopback",
    "parse_activity",
    "strip_mentions",
    "user_key",
]
