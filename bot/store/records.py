"""Frozen value types the store returns; no ORM object ever leaves bot.store."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, cast

from bot.store.models import (
    ConversationRow,
    IdentityRow,
    MessageRow,
    PendingActionRow,
    RatingRow,
    WebSessionRow,
)

Owner = Literal["bot", "queued", "human"]
Role = Literal["user", "assistant", "tool", "agent", "system", "notice"]
MessageStatus = Literal["pending", "done", "failed"]
ActionStatus = Literal["pending", "executing", "done", "cancelled", "expired", "failed"]
Feedback = Literal[-1, 1]

#: The handoff state machine (issue 6): bot → queued → human → bot, and queued → bot when
#: the user cancels or the chat ends before an agent joins.
OWNER_TRANSITIONS: frozenset[tuple[Owner, Owner]] = frozenset(
    {("bot", "queued"), ("queued", "human"), ("queued", "bot"), ("human", "bot")}
)


@dataclass(frozen=True, slots=True)
class Identity:
    id: int
    channel: str
    channel_user_id: str
    employee_number: str
    email: str
    display_name: str
    company: str | None
    access_token: bytes | None  # ciphertext
    refresh_token: bytes | None  # ciphertext
    access_expires_at: datetime | None
    linked_at: datetime
    updated_at: datetime
    channel_login: str | None = None  # e.g. the Teams UPN, kept beside the AAD object id


@dataclass(frozen=True, slots=True)
class WebSession:
    session_hash: str
    identity_id: int
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True, slots=True)
class Conversation:
    id: int
    channel: str
    conversation_key: str
    user_key: str
    address: dict[str, Any] | None
    helpdesk_chat_id: int | None
    owner: Owner
    owner_changed_at: datetime
    agent_name: str | None
    relay_cursor: datetime | None
    relay_last_message_id: int | None
    summary: str | None
    summary_up_to_seq: int | None
    last_seq: int
    created_at: datetime
    last_activity_at: datetime

    @property
    def in_handoff(self) -> bool:
        return self.owner != "bot"


@dataclass(frozen=True, slots=True)
class TokenUsage:
    input_tokens: int
    output_tokens: int


@dataclass(frozen=True, slots=True)
class Message:
    id: int
    conversation_id: int
    seq: int
    role: Role
    content: str
    author: str | None
    event_id: str | None
    reply_to_id: int | None
    tool_calls: list[dict[str, Any]] | None
    tool_call_id: str | None
    input_tokens: int | None
    output_tokens: int | None
    status: MessageStatus
    feedback: Feedback | None
    created_at: datetime
    meta: dict[str, Any] | None = None  # what a channel needs to redraw the reply


@dataclass(frozen=True, slots=True)
class NewMessage:
    """A message to append with others in one transaction (`Store.add_messages`)."""

    role: Role
    content: str
    reply_to_id: int | None = None
    author: str | None = None
    tool_calls: list[dict[str, Any]] | None = None
    tool_call_id: str | None = None
    usage: TokenUsage | None = None
    meta: dict[str, Any] | None = None
    status: MessageStatus = "done"


@dataclass(frozen=True, slots=True)
class PendingAction:
    id: str
    conversation_id: int
    user_key: str
    tool_name: str
    arguments: dict[str, Any]
    idempotency_key: str
    status: ActionStatus
    result: dict[str, Any] | None
    created_at: datetime
    expires_at: datetime
    executed_at: datetime | None
    finished_at: datetime | None


@dataclass(frozen=True, slots=True)
class Rating:
    conversation_id: int
    rating_key: str
    score: int
    created_at: datetime
    updated_at: datetime


def identity_from_row(row: IdentityRow) -> Identity:
    return Identity(
        id=row.id,
        channel=row.channel,
        channel_user_id=row.channel_user_id,
        employee_number=row.employee_number,
        email=row.email,
        display_name=row.display_name,
        company=row.company,
        access_token=row.access_token,
        refresh_token=row.refresh_token,
        access_expires_at=row.access_expires_at,
        linked_at=row.linked_at,
        updated_at=row.updated_at,
        channel_login=row.channel_login,
    )


def web_session_from_row(row: WebSessionRow) -> WebSession:
    return WebSession(
        session_hash=row.session_hash,
        identity_id=row.identity_id,
        created_at=row.created_at,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
    )


def conversation_from_row(row: ConversationRow) -> Conversation:
    return Conversation(
        id=row.id,
        channel=row.channel,
        conversation_key=row.conversation_key,
        user_key=row.user_key,
        address=row.address,
        helpdesk_chat_id=row.helpdesk_chat_id,
        owner=cast(Owner, row.owner),
        owner_changed_at=row.owner_changed_at,
        agent_name=row.agent_name,
        relay_cursor=row.relay_cursor,
        relay_last_message_id=row.relay_last_message_id,
        summary=row.summary,
        summary_up_to_seq=row.summary_up_to_seq,
        last_seq=row.last_seq,
        created_at=row.created_at,
        last_activity_at=row.last_activity_at,
    )


def message_from_row(row: MessageRow) -> Message:
    return Message(
        id=row.id,
        conversation_id=row.conversation_id,
        seq=row.seq,
        role=cast(Role, row.role),
        content=row.content,
        author=row.author,
        event_id=row.event_id,
        reply_to_id=row.reply_to_id,
        tool_calls=row.tool_calls,
        tool_call_id=row.tool_call_id,
        meta=row.meta,
        input_tokens=row.input_tokens,
        output_tokens=row.output_tokens,
        status=cast(MessageStatus, row.status),
        feedback=cast(Feedback | None, row.feedback),
        created_at=row.created_at,
    )


def pending_action_from_row(row: PendingActionRow) -> PendingAction:
    return PendingAction(
        id=row.id,
        conversation_id=row.conversation_id,
        user_key=row.user_key,
        tool_name=row.tool_name,
        arguments=row.arguments,
        idempotency_key=row.idempotency_key,
        status=cast(ActionStatus, row.status),
        result=row.result,
        created_at=row.created_at,
        expires_at=row.expires_at,
        executed_at=row.executed_at,
        finished_at=row.finished_at,
    )


def rating_from_row(row: RatingRow) -> Rating:
    return Rating(
        conversation_id=row.conversation_id,
        rating_key=row.rating_key,
        score=row.score,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )
