"""The database schema as SQLAlchemy declarative models (the migrations create the same)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from bot.store.types import BigId, Json, UTCDateTime

# Stable constraint names, so later migrations can refer to them on both dialects.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

OWNERS = ("bot", "queued", "human")
ROLES = ("user", "assistant", "tool", "agent", "system", "notice")
MESSAGE_STATUSES = ("pending", "done", "failed")
ACTION_STATUSES = ("pending", "executing", "done", "cancelled", "expired", "failed")


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class IdentityRow(Base):
    """A chat user linked to a helpdesk account; tokens are ciphertext made by the caller."""

    __tablename__ = "identities"
    __table_args__ = (UniqueConstraint("channel", "channel_user_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    channel: Mapped[str] = mapped_column(String(32))
    channel_user_id: Mapped[str] = mapped_column(String(255))
    employee_number: Mapped[str] = mapped_column(String(64))
    email: Mapped[str] = mapped_column(String(320))
    display_name: Mapped[str] = mapped_column(String(255))
    company: Mapped[str | None] = mapped_column(String(255))
    access_token: Mapped[bytes | None] = mapped_column(LargeBinary)
    refresh_token: Mapped[bytes | None] = mapped_column(LargeBinary)
    access_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: the user's sign-in name on the channel when it tells us (Teams: userPrincipalName)
    channel_login: Mapped[str | None] = mapped_column(String(320))


class AppSecretRow(Base):
    """Process-wide secrets generated on first start (e.g. BOT_SECRET_KEY)."""

    __tablename__ = "app_secrets"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class WebSessionRow(Base):
    """A widget session; only a hash of the opaque cookie value is stored."""

    __tablename__ = "web_sessions"

    session_hash: Mapped[str] = mapped_column(String(128), primary_key=True)
    identity_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("identities.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ConversationRow(Base):
    """One channel conversation (DM, thread, widget), its helpdesk chat and its owner."""

    __tablename__ = "conversations"
    __table_args__ = (
        UniqueConstraint("channel", "conversation_key"),
        CheckConstraint(_one_of("owner", OWNERS), name="owner"),
        Index("ix_conversations_owner", "owner"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    channel: Mapped[str] = mapped_column(String(32))
    conversation_key: Mapped[str] = mapped_column(String(255))
    user_key: Mapped[str] = mapped_column(String(255), index=True)
    address: Mapped[dict[str, Any] | None] = mapped_column(Json)
    helpdesk_chat_id: Mapped[int | None] = mapped_column(BigInteger)
    owner: Mapped[str] = mapped_column(String(8))
    owner_changed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    agent_name: Mapped[str | None] = mapped_column(String(255))
    relay_cursor: Mapped[datetime | None] = mapped_column(UTCDateTime)
    relay_last_message_id: Mapped[int | None] = mapped_column(BigInteger)
    summary: Mapped[str | None] = mapped_column(Text)
    summary_up_to_seq: Mapped[int | None] = mapped_column(Integer)
    # Allocator for messages.seq; bumping it row-locks the conversation (see add_message).
    last_seq: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_activity_at: Mapped[datetime] = mapped_column(UTCDateTime)


class MessageRow(Base):
    """One transcript entry; ``seq`` orders a conversation in commit order."""

    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("conversation_id", "seq"),
        # NULLs are distinct in unique constraints on both dialects: only real ids dedupe.
        UniqueConstraint("conversation_id", "event_id"),
        CheckConstraint(_one_of("role", ROLES), name="role"),
        CheckConstraint(_one_of("status", MESSAGE_STATUSES), name="status"),
        CheckConstraint("feedback IN (-1, 1)", name="feedback"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("conversations.id", ondelete="CASCADE")
    )
    seq: Mapped[int] = mapped_column(Integer)
    role: Mapped[str] = mapped_column(String(16))
    content: Mapped[str] = mapped_column(Text)
    author: Mapped[str | None] = mapped_column(String(255))
    event_id: Mapped[str | None] = mapped_column(String(255))
    reply_to_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("messages.id", ondelete="SET NULL"), index=True
    )
    tool_calls: Mapped[list[dict[str, Any]] | None] = mapped_column(Json)
    tool_call_id: Mapped[str | None] = mapped_column(String(255))
    # What a channel needs to redraw the reply on replay: sources, a confirm card, buttons.
    meta: Mapped[dict[str, Any] | None] = mapped_column(Json)
    input_tokens: Mapped[int | None] = mapped_column(Integer)
    output_tokens: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    feedback: Mapped[int | None] = mapped_column(SmallInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PendingActionRow(Base):
    """A write tool call proposed by the model, waiting for the user's confirm."""

    __tablename__ = "pending_actions"
    __table_args__ = (
        CheckConstraint(_one_of("status", ACTION_STATUSES), name="status"),
        Index("ix_pending_actions_conversation_created", "conversation_id", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("conversations.id", ondelete="CASCADE")
    )
    user_key: Mapped[str] = mapped_column(String(255))
    tool_name: Mapped[str] = mapped_column(String(64))
    arguments: Mapped[dict[str, Any]] = mapped_column(Json)
    idempotency_key: Mapped[str] = mapped_column(String(255), unique=True)
    status: Mapped[str] = mapped_column(String(16))
    result: Mapped[dict[str, Any] | None] = mapped_column(Json)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    executed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ProcessedEventRow(Base):
    """Ids already handled: platform events, interactions, used link tokens."""

    __tablename__ = "processed_events"

    source: Mapped[str] = mapped_column(String(32), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class LeaseRow(Base):
    """An expiring, named lock held by one process (relay ownership, turn serialization)."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    holder: Mapped[str] = mapped_column(String(255))
    acquired_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class RatingRow(Base):
    """A 1-5 satisfaction rating; one per (conversation, key), e.g. per helpdesk chat."""

    __tablename__ = "ratings"
    __table_args__ = (
        UniqueConstraint("conversation_id", "rating_key"),
        CheckConstraint("score BETWEEN 1 AND 5", name="score"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("conversations.id", ondelete="CASCADE")
    )
    rating_key: Mapped[str] = mapped_column(String(255))
    score: Mapped[int] = mapped_column(SmallInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
