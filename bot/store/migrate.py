"""Applies the alembic migrations in bot/store/migrations at start; no alembic.ini needed.

``upgrade_database`` is idempotent and safe when several processes start at once: on
PostgreSQL the whole upgrade runs in one transaction under a transaction-scoped advisory
lock (per schema), on SQLite under the database write lock (BEGIN IMMEDIATE). Whoever
comes second waits, then finds the schema at head and does nothing. Within one process,
upgrades are also serialized by an asyncio lock: alembic keeps the running migration in a
module-global proxy (``alembic.context``), which concurrent upgrades would trample.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.util import CommandError
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.store.engine import WRITE_OPTION, create_store_engine
from bot.store.errors import MigrationError

logger = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).with_name("migrations")

# pg_advisory_xact_lock key: one lock per schema, so isolated test schemas do not queue.
_PG_LOCK = "SELECT pg_advisory_xact_lock(hashtext('helpdesk-bot:migrate:' || current_schema()))"


# One lock per event loop (an asyncio.Lock must not be shared between loops).
_IN_PROCESS_LOCKS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
    weakref.WeakKeyDictionary()
)


def alembic_config() -> Config:
    """An alembic Config built in code, pointing at the packaged migrations."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


async def upgrade_database(target: str | AsyncEngine) -> None:
    """Bring the database at ``target`` (a URL or an engine) to the latest revision."""
    engine = create_store_engine(target) if isinstance(target, str) else target
    lock = _IN_PROCESS_LOCKS.setdefault(asyncio.get_running_loop(), asyncio.Lock())
    try:
        async with lock, engine.connect() as connection:
            connection = await connection.execution_options(**{WRITE_OPTION: True})
            async with connection.begin():
                if connection.dialect.name == "postgresql":
                    await connection.execute(text(_PG_LOCK))
                await connection.run_sync(_upgrade_to_head)
    except (SQLAlchemyError, CommandError) as exc:
        # CommandError: e.g. the database is at a revision this code does not know (newer).
        shown = engine.url.render_as_string(hide_password=True)
        raise MigrationError(shown) from exc
    finally:
        if isinstance(target, str):
            await engine.dispose()


async def current_revision(engine: AsyncEngine) -> str | None:
    """The revision the database is at, or None before the first upgrade."""

    def read(connection: Connection) -> str | None:
        return MigrationContext.configure(connection).get_current_revision()

    async with engine.connect() as connection:
        return await connection.run_sync(read)


def _upgrade_to_head(connection: Connection) -> None:
    config = alembic_config()
    # env.py runs the migrations on this connection, inside our transaction.
    config.attributes["connection"] = connection
    command.upgrade(config, "head")
    logger.info("database schema is at the latest revision")
