"""Fault 1: a lease held by a process that died is taken over at once, not after its TTL."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from datetime import UTC, datetime, timedelta

from bot.store import Store
from bot.store.coordination import holder_is_dead
from tests.faults.ledger import LEDGER

HOST = socket.gethostname()


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def _zombie() -> subprocess.Popen[bytes]:
    """A child killed but not reaped yet: it still answers signal 0."""
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    child.kill()
    os.waitid(os.P_PID, child.pid, os.WEXITED | os.WNOWAIT)  # dead, left unreaped
    return child


async def test_the_turn_lock_of_a_dead_holder_is_taken_at_once(store: Store) -> None:
    LEDGER.injected_here()
    conversation = await store.get_or_create_conversation("test", "c-dead", user_key="u")
    dead = f"{HOST}:{_dead_pid()}:0badb007/aaaaaaaaaaaa"
    assert await store.acquire_lease(f"turn:{conversation.id}", dead, ttl_s=120)
    async with asyncio.timeout(5):  # the lock would wait its full 30 s, then fail
        async with store.turn_lock(conversation.id, holder=f"{HOST}:{os.getpid()}:feed", wait_s=2):
            lease = await store.get_lease(f"turn:{conversation.id}")
            assert lease is not None and lease.holder.startswith(f"{HOST}:{os.getpid()}:feed/")


async def test_a_relay_lease_of_a_killed_unreaped_replica_is_taken(store: Store) -> None:
    zombie = _zombie()
    try:
        assert await store.acquire_lease("relay:9", f"{HOST}:{zombie.pid}:b1", ttl_s=120)
        assert await store.acquire_lease("relay:9", f"{HOST}:{os.getpid()}:b2", ttl_s=120)
    finally:
        zombie.wait()


async def test_a_predecessor_with_this_very_pid_is_recognised_by_its_boot_id(store: Store) -> None:
    """A restarted container runs the bot as pid 1 again: same pid, another boot id."""
    mine = f"{HOST}:{os.getpid()}:now"
    earlier = f"{HOST}:{os.getpid()}:before-the-restart"
    # `earlier` is written by someone else (the previous boot), never acquired by this process.
    await store.acquire_lease("relay:1", f"{HOST}:{_dead_pid()}:x", ttl_s=120)
    assert await store.acquire_lease("relay:1", mine, ttl_s=120)
    assert holder_is_dead(earlier)
    assert not holder_is_dead(mine), "a holder this process uses is alive"


async def test_live_holders_and_other_hosts_keep_their_leases(store: Store) -> None:
    live = f"{HOST}:{os.getppid()}:parent"
    elsewhere = f"not-{HOST}:{_dead_pid()}:x"
    assert await store.acquire_lease("relay:2", live, ttl_s=120)
    assert await store.acquire_lease("relay:3", elsewhere, ttl_s=120)
    assert await store.acquire_lease("relay:4", "replica-a", ttl_s=120)
    me = f"{HOST}:{os.getpid()}:me"
    assert not await store.acquire_lease("relay:2", me, ttl_s=120)
    assert not await store.acquire_lease("relay:3", me, ttl_s=120), "only its TTL frees it"
    assert not await store.acquire_lease("relay:4", me, ttl_s=120)
    lease = await store.get_lease("relay:3")
    assert lease is not None and lease.holder == elsewhere


async def test_orphaned_turns_are_the_turn_leases_of_dead_or_expired_holders(store: Store) -> None:
    """What the restart sweep finishes: a turn whose process died, or whose TTL ran out."""
    now = datetime.now(UTC)
    dead = f"{HOST}:{_dead_pid()}:0badb007/t1"
    live = f"{HOST}:{os.getppid()}:parent/t2"
    assert await store.acquire_lease("turn:11", dead, ttl_s=120)
    assert await store.acquire_lease("turn:12", live, ttl_s=120)
    assert await store.acquire_lease("turn:13", live, ttl_s=1, now=now - timedelta(seconds=5))
    assert await store.acquire_lease("relay:14", dead, ttl_s=120)
    assert sorted(await _orphaned(store)) == ["turn:11", "turn:13"]
    async with store.turn_lock(11, holder=f"{HOST}:{os.getpid()}:sweep", wait_s=2):
        assert "turn:11" not in await _orphaned(store), "the taker is alive"
    assert await _orphaned(store) == ["turn:13"], "a finished turn leaves no lease"


async def _orphaned(store: Store) -> list[str]:
    return [lease.name for lease in await store.orphaned_turn_leases()]
