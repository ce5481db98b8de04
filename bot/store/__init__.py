"""Persistence of the conversation core: SQLAlchemy async models, repository, migrations.

``Store`` is the repository (see ``bot.store.store``); ``upgrade_database`` applies the
alembic migrations at start. Records returned are frozen dataclasses from
``bot.store.records``; errors raised on purpose derive from ``StoreError``.
"""

from bot.store.coordination import LINK_JTI_SOURCE, HeldLease, Lease
from bot.store.engine import DEFAULT_URL, create_store_engine
from bot.store.errors import InvalidTransition, LockTimeout, MigrationError, NotFound, StoreError
from bot.store.migrate import upgrade_database
from bot.store.records import (
    OWNER_TRANSITIONS,
    ActionStatus,
    Conversation,
    Feedback,
    Identity,
    Message,
    MessageStatus,
    NewMessage,
    Owner,
    PendingAction,
    Rating,
    Role,
    TokenUsage,
    WebSession,
)
from bot.store.store import Store

__all__ = [
    "DEFAULT_URL",
    "LINK_JTI_SOURCE",
    "OWNER_TRANSITIONS",
    "ActionStatus",
    "Conversation",
    "Feedback",
    "HeldLease",
    "Identity",
    "InvalidTransition",
    "Lease",
    "LockTimeout",
    "Message",
    "MessageStatus",
    "MigrationError",
    "NewMessage",
    "NotFound",
    "Owner",
    "PendingAction",
    "Rating",
    "Role",
    "Store",
    "StoreError",
    "TokenUsage",
    "WebSession",
    "create_store_engine",
    "upgrade_database",
]
