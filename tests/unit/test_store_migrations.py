"""Migrations: from empty to head, idempotent, concurrent-safe, and in step with the models."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

from bot.store import MigrationError, Store, create_store_engine, upgrade_database
from bot.store.migrate import alembic_config, current_revision
from bot.store.models import Base
from tests.store_fixtures import StoreDatabase

REPO_ROOT = Path(__file__).resolve().parents[2]

TABLES = {
    "identities",
    "app_secrets",
    "web_sessions",
    "conversations",
    "messages",
    "pending_actions",
    "processed_events",
    "leases",
    "ratings",
}


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


async def table_names(database: StoreDatabase) -> set[str]:
    async with database.engine().connect() as connection:
        return set(await connection.run_sync(lambda sync: inspect(sync).get_table_names()))


async def test_upgrade_creates_every_table_from_empty(store_db: StoreDatabase) -> None:
    assert await table_names(store_db) == set()

    await upgrade_database(store_db.engine())

    assert await table_names(store_db) == TABLES | {"alembic_version"}
    assert await current_revision(store_db.engine()) == head_revision()


async def test_upgrade_twice_is_a_no_op_that_keeps_data(store_db: StoreDatabase) -> None:
    await upgrade_database(store_db.engine())
    store = Store(store_db.engine())
    conversation = await store.get_or_create_conversation("web", "c1", user_key="u1")

    await upgrade_database(store_db.engine())
    await upgrade_database(store_db.engine())

    assert await store.get_conversation(conversation.id) == conversation
    assert await current_revision(store_db.engine()) == head_revision()


async def test_concurrent_upgrades_in_one_process_all_succeed(
    store_db: StoreDatabase,
) -> None:
    # In one process, alembic's global context must not be shared by two upgrades at once.
    async with asyncio.timeout(60):
        outcomes = await asyncio.gather(
            *(upgrade_database(store_db.engine()) for _ in range(4)), return_exceptions=True
        )

    assert outcomes == [None] * 4

    assert await table_names(store_db) == TABLES | {"alembic_version"}
    assert await current_revision(store_db.engine()) == head_revision()


# A process that gets ready (imports done), then upgrades when told to "go" on stdin.
UPGRADE_PROCESS = """
import asyncio, json, sys
from bot.store import create_store_engine, upgrade_database

async def main() -> None:
    engine = create_store_engine(sys.argv[1], connect_args=json.loads(sys.argv[2]))
    print("ready", flush=True)
    sys.stdin.readline()
    try:
        await upgrade_database(engine)
    finally:
        await engine.dispose()

asyncio.run(main())
"""


async def test_processes_starting_at_once_upgrade_safely(store_db: StoreDatabase) -> None:
    # Separate processes, as replicas are: only the database lock keeps them apart.
    processes = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            UPGRADE_PROCESS,
            store_db.url,
            json.dumps(store_db.connect_args),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            cwd=REPO_ROOT,
        )
        for _ in range(3)
    ]
    async with asyncio.timeout(60):
        for process in processes:
            assert process.stdout is not None
            assert await process.stdout.readline() == b"ready\n"
        for process in processes:
            assert process.stdin is not None
            process.stdin.write(b"go\n")
            await process.stdin.drain()
        results = [await process.communicate() for process in processes]

    failures = [
        err.decode()[-2000:]
        for process, (_out, err) in zip(processes, results, strict=True)
        if process.returncode != 0
    ]
    assert failures == []
    assert await current_revision(store_db.engine()) == head_revision()


async def test_models_match_the_migrated_schema(store_db: StoreDatabase) -> None:
    await upgrade_database(store_db.engine())

    def differences(connection: Connection) -> list[object]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))

    async with store_db.engine().connect() as connection:
        assert await connection.run_sync(differences) == []


async def test_downgrade_to_base_and_upgrade_again(store_db: StoreDatabase) -> None:
    await upgrade_database(store_db.engine())

    def downgrade(connection: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.downgrade(config, "base")

    async with store_db.engine().begin() as connection:
        await connection.run_sync(downgrade)
    assert await table_names(store_db) == {"alembic_version"}

    await upgrade_database(store_db.engine())
    assert await table_names(store_db) == TABLES | {"alembic_version"}


async def test_store_open_upgrades_by_url_and_closes(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"

    async with await Store.open(url) as store:
        await store.ping()
        assert await store.claim_event("slack", "Ev1") is True

    async with await Store.open(url) as store:
        assert await store.claim_event("slack", "Ev1") is False


async def test_database_at_an_unknown_revision_raises_migration_error(
    store_db: StoreDatabase,
) -> None:
    # E.g. a deploy rolled back below a migration that already ran.
    await upgrade_database(store_db.engine())
    async with store_db.engine().begin() as connection:
        await connection.execute(text("UPDATE alembic_version SET version_num = '9999_future'"))

    with pytest.raises(MigrationError):
        await upgrade_database(store_db.engine())


async def test_upgrades_of_different_databases_in_one_process(tmp_path: Path) -> None:
    # No database lock is shared here; alembic's process-global context still is.
    urls = [f"sqlite+aiosqlite:///{tmp_path / f'db{n}.sqlite'}" for n in range(4)]

    async with asyncio.timeout(60):
        outcomes = await asyncio.gather(*map(upgrade_database, urls), return_exceptions=True)

    assert outcomes == [None] * 4


def test_in_memory_sqlite_is_refused() -> None:
    with pytest.raises(ValueError, match="SQLite file"):
        create_store_engine("sqlite+aiosqlite:///:memory:")
