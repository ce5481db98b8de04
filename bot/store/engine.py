"""Builds the async engine for a DATABASE_URL with the dialect settings the store relies on.

SQLite (the default, one process) and PostgreSQL (several replicas) are both supported.
For SQLite the store takes over BEGIN from the sqlite3 driver, so that write transactions
start with ``BEGIN IMMEDIATE`` and concurrent writers queue on the busy timeout instead of
failing with "database is locked" when a reader upgrades to a writer
(https://www.sqlite.org/lang_transaction.html, and SQLAlchemy's "sqlite_transactions").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeAlias

from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.pool import ConnectionPoolEntry

DEFAULT_URL = "sqlite+aiosqlite:///./helpdesk-bot.db"

#: Execution option marking a connection whose transactions write (BEGIN IMMEDIATE on SQLite).
WRITE_OPTION = "helpdesk_bot_write"

#: How long a SQLite writer waits for another writer's lock before giving up.
SQLITE_BUSY_TIMEOUT_S = 30.0

DialectInsert: TypeAlias = postgresql.Insert | sqlite.Insert


def create_store_engine(
    url: str | URL, *, connect_args: Mapping[str, Any] | None = None
) -> AsyncEngine:
    """Return an AsyncEngine for ``sqlite+aiosqlite`` or ``postgresql+asyncpg`` URLs.

    ``connect_args`` go to the driver, e.g. ``{"server_settings": {"search_path": "s"}}``
    for asyncpg.
    """
    sa_url = make_url(url)
    args = dict(connect_args or {})
    backend = sa_url.get_backend_name()
    if backend == "sqlite":
        if sa_url.database in (None, "", ":memory:") or "mode=memory" in str(sa_url):
            # One shared connection cannot give concurrent callers separate transactions.
            raise ValueError("the store needs a SQLite file, not an in-memory database")
        args.setdefault("timeout", SQLITE_BUSY_TIMEOUT_S)
        engine = create_async_engine(sa_url, connect_args=args)
        _take_over_sqlite_transactions(engine)
        return engine
    if backend == "postgresql":
        return create_async_engine(sa_url, connect_args=args, pool_pre_ping=True)
    raise ValueError(
        f"unsupported database {backend!r}: use sqlite+aiosqlite or postgresql+asyncpg"
    )


def dialect_insert(engine: AsyncEngine, entity: type[DeclarativeBase]) -> DialectInsert:
    """INSERT with ``on_conflict_do_nothing``/``on_conflict_do_update`` for the engine's dialect."""
    if engine.dialect.name == "postgresql":
        return postgresql.insert(entity)
    return sqlite.insert(entity)


def _take_over_sqlite_transactions(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        # Stop the driver from emitting its own (deferred) BEGIN; _on_begin does it.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA foreign_keys = ON")
            cursor.execute("PRAGMA synchronous = NORMAL")
            cursor.execute("PRAGMA journal_mode")
            if cursor.fetchone()[0] != "wal":
                _switch_to_wal(cursor, engine.dialect.loaded_dbapi.OperationalError)
        finally:
            cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Connection) -> None:
        writes = bool(conn.get_execution_options().get(WRITE_OPTION, False))
        conn.exec_driver_sql("BEGIN IMMEDIATE" if writes else "BEGIN")


def _switch_to_wal(cursor: Any, operational_error: type[Exception]) -> None:
    # WAL lets readers proceed while one writer holds the lock. The mode is stored in the
    # database file, so one successful switch serves every later connection. Switching
    # needs exclusive access and fails at once (no busy wait) while another process has
    # the file open; then the rollback journal serves correctly until a later connection
    # manages the switch.
    try:
        cursor.execute("PRAGMA journal_mode = WAL")
    except operational_error as exc:
        if "locked" not in str(exc):
            raise
