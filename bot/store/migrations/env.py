"""Alembic environment: runs migrations on the connection bot.store.migrate hands over.

``upgrade_database`` passes an open connection (inside its locked transaction) in
``config.attributes["connection"]``. For ad-hoc use of the alembic CLI
(``alembic -x url=sqlite+aiosqlite:///./helpdesk-bot.db -c /dev/null ...`` with
``script_location`` set), the URL comes from ``-x url=`` or ``sqlalchemy.url``.
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from bot.store.engine import WRITE_OPTION, create_store_engine
from bot.store.models import Base

target_metadata = Base.metadata


def run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things in place; batch mode recreates the table.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_with_own_engine(url: str) -> None:
    engine = create_store_engine(url)
    try:
        async with engine.connect() as connection:
            connection = await connection.execution_options(**{WRITE_OPTION: True})
            async with connection.begin():
                await connection.run_sync(run_migrations)
    finally:
        await engine.dispose()


def main() -> None:
    if context.is_offline_mode():
        raise SystemExit("offline (--sql) migrations are not supported; run them online")
    given = context.config.attributes.get("connection")
    if isinstance(given, Connection):
        run_migrations(given)
        return
    url = context.get_x_argument(as_dictionary=True).get("url") or context.config.get_main_option(
        "sqlalchemy.url"
    )
    if not url:
        raise SystemExit("no database: pass -x url=... or set sqlalchemy.url")
    asyncio.run(run_with_own_engine(url))


main()
