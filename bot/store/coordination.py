"""Cross-process coordination: exactly-once event claims, expiring leases, turn locks.

Every guarantee here is one atomic statement, so it holds between coroutines, between
processes and between replicas sharing a PostgreSQL database:

- ``claim_event`` is ``INSERT ... ON CONFLICT DO NOTHING``: one caller inserts the row.
- ``acquire_lease`` is ``INSERT ... ON CONFLICT DO UPDATE ... WHERE holder = me OR
  expired``: a lease moves only to its holder (renewal) or away from an expired holder.

Lease expiry compares timestamps written by the replicas' own clocks (NTP-synced hosts
are assumed); keep TTLs well above the expected skew.

A dead holder's leases are taken over at once, not after the TTL: holders are named
``host:pid:boot`` (``adapters.compose.replica_id``; a turn lock adds ``/token``), so when a
lease is refused, the refused process checks whether the holder ran on this host and is
gone — its pid no longer exists (or is a zombie), or the pid is this very process's but the
boot id is not one this process has used (a restarted container keeps pid 1). Such a lease
is moved with ``UPDATE ... WHERE holder = <the dead holder>``, so only one taker wins. A
holder on another host, or named otherwise, is only ever taken over after its TTL.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import re
import socket
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, delete, or_, select, update
from sqlalchemy.exc import SQLAlchemyError

from bot.store._base import StoreBase, resolve_now
from bot.store.errors import LockTimeout
from bot.store.models import LeaseRow, ProcessedEventRow

logger = logging.getLogger(__name__)

_L = LeaseRow

#: Source under which used link-token ids (jti) are recorded in processed_events.
LINK_JTI_SOURCE = "link-jti"

#: A turn's lease outlives the 60 s turn deadline, and is renewed every TTL/3 while held.
TURN_LOCK_TTL_S = 120.0
TURN_LOCK_WAIT_S = 30.0
_FIRST_RETRY_S = 0.01
_MAX_RETRY_S = 0.25


_HOLDER = re.compile(r"^(?P<replica>(?P<host>[^:/]+):(?P<pid>\d+):[^:/]+)(?:/.*)?$")
#: Replica ids (``host:pid:boot``) this process has acquired leases with: its own, alive.
_OWN_REPLICAS: set[str] = set()


def _remember_own(holder: str) -> None:
    match = _HOLDER.match(holder)
    if match is not None and int(match["pid"]) == os.getpid():
        _OWN_REPLICAS.add(match["replica"])


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive
        return True
    try:  # a killed child its parent has not reaped yet still answers signal 0
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
            state = stat.read().rpartition(")")[2].split()[0]
    except (OSError, IndexError):
        return True
    return state not in ("Z", "X")


def holder_is_dead(holder: str) -> bool:
    """True only when ``holder`` certainly ran on this host and is gone (see module doc)."""
    match = _HOLDER.match(holder)
    if match is None or match["host"] != socket.gethostname():
        return False
    pid = int(match["pid"])
    if pid == os.getpid():
        return match["replica"] not in _OWN_REPLICAS
    return pid > 0 and not _pid_alive(pid)


@dataclass(frozen=True, slots=True)
class Lease:
    name: str
    holder: str
    acquired_at: datetime
    expires_at: datetime


class HeldLease:
    """Handle on a lease held by ``turn_lock``. ``lost`` turns True (and ``wait_lost``
    returns) when a renewal finds that someone else took the lease over, e.g. after the
    holder stalled past the TTL; the holder should then stop writing."""

    __slots__ = ("_lost", "holder", "name")

    def __init__(self, name: str, holder: str) -> None:
        self.name = name
        self.holder = holder
        self._lost = asyncio.Event()

    @property
    def lost(self) -> bool:
        return self._lost.is_set()

    async def wait_lost(self) -> None:
        await self._lost.wait()

    def mark_lost(self) -> None:
        self._lost.set()


class CoordinationStore(StoreBase):
    async def claim_event(self, source: str, event_id: str, *, now: datetime | None = None) -> bool:
        """True for exactly one caller per (source, event_id); False for every repeat."""
        insert = (
            self._insert(ProcessedEventRow)
            .values(source=source, event_id=event_id, created_at=resolve_now(now))
            .on_conflict_do_nothing(index_elements=["source", "event_id"])
            .returning(ProcessedEventRow.event_id)
        )
        async with self._writing() as session:
            return (await session.scalar(insert)) is not None

    async def use_link_token(self, jti: str, *, now: datetime | None = None) -> bool:
        """Spend a signed link token: True the first time its ``jti`` is seen, then False.

        Kept in processed_events, so ``prune_events`` must keep rows longer than a link
        token lives (10 minutes); its signature expiry refuses it after that anyway.
        """
        return await self.claim_event(LINK_JTI_SOURCE, jti, now=now)

    async def prune_events(self, *, older_than: datetime) -> int:
        """Forget processed ids recorded before ``older_than``; returns how many."""
        statement = delete(ProcessedEventRow).where(ProcessedEventRow.created_at < older_than)
        async with self._writing() as session:
            result = cast(CursorResult[Any], await session.execute(statement))
            return result.rowcount

    async def acquire_lease(
        self, name: str, holder: str, *, ttl_s: float, now: datetime | None = None
    ) -> bool:
        """Take ``name`` for ``ttl_s`` seconds: insert it if absent, take it over if it
        expired, extend it if ``holder`` already holds it. False while another holds it."""
        if ttl_s <= 0:
            raise ValueError("ttl_s must be positive")
        _remember_own(holder)
        now = resolve_now(now)
        insert = self._insert(_L).values(
            name=name, holder=holder, acquired_at=now, expires_at=now + timedelta(seconds=ttl_s)
        )
        statement = insert.on_conflict_do_update(
            index_elements=["name"],
            set_={
                "holder": insert.excluded.holder,
                "expires_at": insert.excluded.expires_at,
                "acquired_at": insert.excluded.acquired_at,
            },
            where=or_(_L.holder == insert.excluded.holder, _L.expires_at <= now),
        ).returning(_L.name)
        async with self._writing() as session:
            if (await session.scalar(statement)) is not None:
                return True
        return await self._take_from_dead(name, holder, ttl_s=ttl_s, now=now)

    async def _take_from_dead(self, name: str, holder: str, *, ttl_s: float, now: datetime) -> bool:
        current = await self.get_lease(name)
        if current is None or current.holder == holder or not holder_is_dead(current.holder):
            return False
        statement = (
            update(_L)
            .where(_L.name == name, _L.holder == current.holder)
            .values(holder=holder, acquired_at=now, expires_at=now + timedelta(seconds=ttl_s))
            .returning(_L.name)
            .execution_options(synchronize_session=False)
        )
        async with self._writing() as session:
            taken = (await session.scalar(statement)) is not None
        if taken:
            logger.warning("took lease %s over from %s (gone)", name, current.holder)
        return taken

    async def renew_lease(
        self, name: str, holder: str, *, ttl_s: float, now: datetime | None = None
    ) -> bool:
        """Extend a lease ``holder`` still holds; False if it was taken over (or released).

        A lease that expired but was not taken over is still the holder's: nobody else
        can have acted under it without acquiring it first.
        """
        now = resolve_now(now)
        statement = (
            update(_L)
            .where(_L.name == name, _L.holder == holder)
            .values(expires_at=now + timedelta(seconds=ttl_s))
            .returning(_L.name)
            .execution_options(synchronize_session=False)
        )
        async with self._writing() as session:
            return (await session.scalar(statement)) is not None

    async def release_lease(self, name: str, holder: str) -> bool:
        """Give the lease up at once; False if ``holder`` did not hold it."""
        statement = delete(_L).where(_L.name == name, _L.holder == holder).returning(_L.name)
        async with self._writing() as session:
            return (await session.scalar(statement)) is not None

    async def get_lease(self, name: str) -> Lease | None:
        async with self._reading() as session:
            row = await session.scalar(select(_L).where(_L.name == name))
            if row is None:
                return None
            return Lease(row.name, row.holder, row.acquired_at, row.expires_at)

    async def orphaned_turn_leases(self, *, now: datetime | None = None) -> list[Lease]:
        """The turn leases (`turn:<conversation id>`) of turns that never ended: a turn
        deletes its lease when it ends, so one whose holder is gone (see the module doc) or
        whose TTL ran out was left by a process that died mid-turn. Oldest first."""
        now = resolve_now(now)
        query = select(_L).where(_L.name.like("turn:%")).order_by(_L.acquired_at)
        async with self._reading() as session:
            rows = list(await session.scalars(query))
        return [
            Lease(row.name, row.holder, row.acquired_at, row.expires_at)
            for row in rows
            if row.expires_at <= now or holder_is_dead(row.holder)
        ]

    @asynccontextmanager
    async def turn_lock(
        self,
        conversation_id: int,
        *,
        holder: str,
        ttl_s: float = TURN_LOCK_TTL_S,
        wait_s: float = TURN_LOCK_WAIT_S,
    ) -> AsyncIterator[HeldLease]:
        """Hold the conversation's turn lease: one turn at a time per conversation, across
        coroutines, processes and replicas; different conversations never wait on each other.

        ``holder`` names the process (e.g. the replica id); each acquisition gets its own
        token, so two turns of one process exclude each other too. Waits with a short
        jittered backoff, raising LockTimeout after ``wait_s``. Renewed every ``ttl_s / 3``
        while held; released on exit (if the release is lost, the lease expires after
        ``ttl_s``).
        """
        held = HeldLease(f"turn:{conversation_id}", f"{holder}/{uuid.uuid4().hex[:12]}")
        try:
            await self._wait_for_lease(held.name, held.holder, ttl_s=ttl_s, wait_s=wait_s)
        except asyncio.CancelledError:
            # The last attempt may have committed just before the cancellation arrived;
            # the token is ours alone, so releasing cannot touch anyone else's turn.
            await self.release_lease(held.name, held.holder)
            raise
        renewer = asyncio.create_task(self._keep_renewed(held, ttl_s), name=f"renew {held.name}")
        try:
            yield held
        finally:
            renewer.cancel()
            # asyncio.wait does not re-raise the renewer's cancellation, but ours still
            # propagates if this task is cancelled meanwhile.
            await asyncio.wait([renewer])
            await self.release_lease(held.name, held.holder)

    async def _wait_for_lease(self, name: str, holder: str, *, ttl_s: float, wait_s: float) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait_s
        delay = _FIRST_RETRY_S
        while not await self.acquire_lease(name, holder, ttl_s=ttl_s):
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise LockTimeout(name, waited_s=wait_s)
            # Jitter keeps waiters of one conversation from retrying in lockstep.
            await self._sleep(min(delay * random.uniform(0.5, 1.0), remaining))
            delay = min(delay * 2, _MAX_RETRY_S)

    async def _keep_renewed(self, held: HeldLease, ttl_s: float) -> None:
        while True:
            await self._sleep(ttl_s / 3)
            try:
                renewed = await self.renew_lease(held.name, held.holder, ttl_s=ttl_s)
            except SQLAlchemyError as exc:  # transient; the next tick retries within the TTL
                logger.warning("renewing lease %s failed: %s", held.name, type(exc).__name__)
                continue
            if not renewed:
                held.mark_lost()
                logger.warning("lease %s was taken over while held", held.name)
                return
