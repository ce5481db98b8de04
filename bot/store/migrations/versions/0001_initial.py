"""Initial schema: identities, secrets, web sessions, conversations, messages, pending
actions, processed events, leases, ratings.

Revision ID: 0001_initial
Revises:
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001_initial"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Types are spelled out here (not imported from bot.store) so this revision never changes.
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), "postgresql")


def _time() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def _id(name: str = "id", *, nullable: bool = False) -> sa.Column[int]:
    return sa.Column(name, ID, nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "identities",
        _id(),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("channel_user_id", sa.String(255), nullable=False),
        sa.Column("employee_number", sa.String(64), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("display_name", sa.String(255), nullable=False),
        sa.Column("company", sa.String(255), nullable=True),
        sa.Column("access_token", sa.LargeBinary(), nullable=True),
        sa.Column("refresh_token", sa.LargeBinary(), nullable=True),
        sa.Column("access_expires_at", _time(), nullable=True),
        sa.Column("linked_at", _time(), nullable=False),
        sa.Column("updated_at", _time(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_identities"),
        sa.UniqueConstraint(
            "channel", "channel_user_id", name="uq_identities_channel_channel_user_id"
        ),
    )
    op.create_table(
        "app_secrets",
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("created_at", _time(), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_app_secrets"),
    )
    op.create_table(
        "web_sessions",
        sa.Column("session_hash", sa.String(128), nullable=False),
        _id("identity_id"),
        sa.Column("created_at", _time(), nullable=False),
        sa.Column("expires_at", _time(), nullable=False),
        sa.Column("revoked_at", _time(), nullable=True),
        sa.ForeignKeyConstraint(
            ["identity_id"],
            ["identities.id"],
            name="fk_web_sessions_identity_id_identities",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("session_hash", name="pk_web_sessions"),
    )
    op.create_index("ix_web_sessions_identity_id", "web_sessions", ["identity_id"])

    op.create_table(
        "conversations",
        _id(),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("conversation_key", sa.String(255), nullable=False),
        sa.Column("user_key", sa.String(255), nullable=False),
        sa.Column("address", JSON, nullable=True),
        sa.Column("helpdesk_chat_id", sa.BigInteger(), nullable=True),
        sa.Column("owner", sa.String(8), nullable=False),
        sa.Column("owner_changed_at", _time(), nullable=False),
        sa.Column("agent_name", sa.String(255), nullable=True),
        sa.Column("relay_cursor", _time(), nullable=True),
        sa.Column("relay_last_message_id", sa.BigInteger(), nullable=True),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("summary_up_to_seq", sa.Integer(), nullable=True),
        sa.Column("last_seq", sa.Integer(), nullable=False),
        sa.Column("created_at", _time(), nullable=False),
        sa.Column("last_activity_at", _time(), nullable=False),
        sa.CheckConstraint("owner IN ('bot', 'queued', 'human')", name="ck_conversations_owner"),
        sa.PrimaryKeyConstraint("id", name="pk_conversations"),
        sa.UniqueConstraint(
            "channel", "conversation_key", name="uq_conversations_channel_conversation_key"
        ),
    )
    op.create_index("ix_conversations_owner", "conversations", ["owner"])
    op.create_index("ix_conversations_user_key", "conversations", ["user_key"])

    op.create_table(
        "messages",
        _id(),
        _id("conversation_id"),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("author", sa.String(255), nullable=True),
        sa.Column("event_id", sa.String(255), nullable=True),
        _id("reply_to_id", nullable=True),
        sa.Column("tool_calls", JSON, nullable=True),
        sa.Column("tool_call_id", sa.String(255), nullable=True),
        sa.Column("input_tokens", sa.Integer(), nullable=True),
        sa.Column("output_tokens", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("feedback", sa.SmallInteger(), nullable=True),
        sa.Column("created_at", _time(), nullable=False),
        sa.CheckConstraint(
            "role IN ('user', 'assistant', 'tool', 'agent', 'system', 'notice')",
            name="ck_messages_role",
        ),
        sa.CheckConstraint("status IN ('pending', 'done', 'failed')", name="ck_messages_status"),
        sa.CheckConstraint("feedback IN (-1, 1)", name="ck_messages_feedback"),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name="fk_messages_conversation_id_conversations",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["reply_to_id"],
            ["messages.id"],
            name="fk_messages_reply_to_id_messages",
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_messages"),
        sa.UniqueConstraint(
            "conversation_id", "event_id", name="uq_messages_conversation_id_event_id"
        ),
        sa.UniqueConstraint("conversation_id", "seq", name="uq_messages_conversation_id_seq"),
    )
    op.create_index("ix_messages_reply_to_id", "messages", ["reply_to_id"])

    op.create_table(
        "pending_actions",
        sa.Column("id", sa.String(64), nullable=False),
        _id("conversation_id"),
        sa.Column("user_key", sa.String(255), nullable=False),
        sa.Column("tool_name", sa.String(64), nullable=False),
        sa.Column("arguments", JSON, nullable=False),
        sa.Column("idempotency_key", sa.String(255), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("result", JSON, nullable=True),
        sa.Column("created_at", _time(), nullable=False),
        sa.Column("expires_at", _time(), nullable=False),
        sa.Column("executed_at", _time(), nullable=True),
        sa.Column("finished_at", _time(), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'executing', 'done', 'cancelled', 'expired', 'failed')",
            name="ck_pending_actions_status",
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name="fk_pending_actions_conversation_id_conversations",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_pending_actions"),
        sa.UniqueConstraint("idempotency_key", name="uq_pending_actions_idempotency_key"),
    )
    op.create_index(
        "ix_pending_actions_conversation_created",
        "pending_actions",
        ["conversation_id", "created_at"],
    )

    op.create_table(
        "processed_events",
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("event_id", sa.String(255), nullable=False),
        sa.Column("created_at", _time(), nullable=False),
        sa.PrimaryKeyConstraint("source", "event_id", name="pk_processed_events"),
    )
    op.create_index("ix_processed_events_created_at", "processed_events", ["created_at"])

    op.create_table(
        "leases",
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("holder", sa.String(255), nullable=False),
        sa.Column("acquired_at", _time(), nullable=False),
        sa.Column("expires_at", _time(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_leases"),
    )

    op.create_table(
        "ratings",
        _id(),
        _id("conversation_id"),
        sa.Column("rating_key", sa.String(255), nullable=False),
        sa.Column("score", sa.SmallInteger(), nullable=False),
        sa.Column("created_at", _time(), nullable=False),
        sa.Column("updated_at", _time(), nullable=False),
        sa.CheckConstraint("score BETWEEN 1 AND 5", name="ck_ratings_score"),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name="fk_ratings_conversation_id_conversations",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_ratings"),
        sa.UniqueConstraint(
            "conversation_id", "rating_key", name="uq_ratings_conversation_id_rating_key"
        ),
    )


def downgrade() -> None:
    for table in (
        "ratings",
        "leases",
        "processed_events",
        "pending_actions",
        "messages",
        "conversations",
        "web_sessions",
        "app_secrets",
        "identities",
    ):
        op.drop_table(table)
