"""The store's exception tree: what a caller of ``bot.store`` may catch.

::

    StoreError (a BotError)     base of everything raised on purpose by bot.store
    ├── LockTimeout             turn_lock could not be acquired within wait_s
    ├── InvalidTransition       set_owner asked for a move the handoff state machine forbids
    ├── NotFound                a write named a conversation that does not exist
    └── MigrationError          upgrade_database failed; the database was left unchanged

Database driver errors (connection refused, disk full) are not translated: they are
operator-visible failures and reach the caller as SQLAlchemy's ``DBAPIError`` family.
"""

from __future__ import annotations

from bot.errors import BotError


class StoreError(BotError):
    """Base class of the errors bot.store raises on purpose."""


class LockTimeout(StoreError):
    """A lease-backed lock was still held by someone else when the wait ran out."""

    def __init__(self, name: str, *, waited_s: float) -> None:
        super().__init__(f"lock {name!r} not acquired within {waited_s:.1f} s")
        self.name = name
        self.waited_s = waited_s


class InvalidTransition(StoreError):
    """An ownership change that the handoff state machine does not allow."""

    def __init__(self, current: str, new: str) -> None:
        super().__init__(f"conversation owner cannot move from {current!r} to {new!r}")
        self.current = current
        self.new = new


class NotFound(StoreError):
    """A write referred to a row that does not exist (a caller bug, not a race)."""

    def __init__(self, what: str, key: object) -> None:
        super().__init__(f"no {what} {key!r}")
        self.what = what
        self.key = key


class MigrationError(StoreError):
    """Applying the alembic migrations failed."""

    def __init__(self, url: str) -> None:
        super().__init__(f"could not upgrade the database at {url}")
        self.url = url
