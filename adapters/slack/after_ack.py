"""The work a Slack listener acknowledged, run after the ack with bounded concurrency.

Slack retries any event not acknowledged within 3 s, so the ack path does no database or
helpdesk work at all: a listener parses the payload (pure functions), hands the rest here
and returns. Every claim, lookup, engine turn and reply runs afterwards, at most `limit`
at a time. The bound is what keeps acks fast under a burst: 500 turns started at once
would each put their steps on the one event loop, and the ack of event 501 would queue
behind all of them; waiting for a slot costs the loop nothing.
https://docs.slack.dev/apis/events-api#responding

Acks first: even 16 turns take loop time from acks, so queued work does not start while
Slack requests are being acknowledged (`acknowledging()` counts them, the HTTP handler
enters it). A burst's requests are each handled in one pass of the loop, so "none in
flight" happens between any two of them; work therefore starts only once none has been
in flight for `QUIET_S`, or `DEFER_AT_MOST_S` after it was queued, whichever comes first,
so a steady stream of requests cannot starve it. Running work goes on; only starts wait.

The tasks stay owned by the server's `TaskGroup` (drained at shutdown). `pause()` holds
work that has not started yet, so a test or benchmark can observe the ack path alone.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from typing import Any

from adapters.tasks import TaskGroup

# Turns at once per process: enough to overlap the helpdesk's and the model's latency,
# few enough that an ack waits behind at most this many runnable steps.
TURNS_AT_ONCE = 16
# The longest queued work waits for a moment with no ack in flight: far below a turn's own
# latency, long enough for a burst's acks to go out first.
DEFER_AT_MOST_S = 0.25
# How long no Slack request must be in flight before queued work starts: far longer than
# the gap between two requests of a burst, far shorter than a turn.
QUIET_S = 0.02


class WorkAfterAck:
    """`spawn(work, name=...)` like a TaskGroup, but at most `limit` pieces run at once."""

    def __init__(
        self, tasks: TaskGroup, *, limit: int = TURNS_AT_ONCE, defer_s: float = DEFER_AT_MOST_S
    ) -> None:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        self._tasks = tasks
        self._slots = asyncio.Semaphore(limit)
        self._open = asyncio.Event()
        self._open.set()
        self._quiet = asyncio.Event()  # no ack in flight for QUIET_S
        self._quiet.set()
        self._last_ack_end = 0.0
        self.limit = limit
        self.defer_s = defer_s
        self.waiting = 0  # acknowledged, not started yet
        self.running = 0
        self.acks_in_flight = 0
        self.deferred_past_deadline = 0  # starts the deadline let through during acks

    def spawn(self, work: Coroutine[Any, Any, Any], *, name: str) -> None:
        """Queue work after an ack (raises while the server shuts down, so Slack gets a 500
        and redelivers to a replica that is up)."""
        deadline = asyncio.get_running_loop().time() + self.defer_s
        self._tasks.spawn(self._run(work, deadline), name=name)
        self.waiting += 1  # counted at the ack, so waiting + running is what was acknowledged

    @asynccontextmanager
    async def acknowledging(self) -> AsyncIterator[None]:
        """Around one Slack request's handling: while any is in flight, no work starts."""
        self.acks_in_flight += 1
        self._quiet.clear()
        try:
            yield
        finally:
            self.acks_in_flight -= 1
            loop = asyncio.get_running_loop()
            self._last_ack_end = loop.time()
            if self.acks_in_flight == 0:
                loop.call_later(QUIET_S, self._check_quiet)

    def _check_quiet(self) -> None:
        """Called QUIET_S after an ack ended: open the gate if nothing came meanwhile."""
        if self.acks_in_flight > 0 or self._quiet.is_set():
            return
        since = asyncio.get_running_loop().time() - self._last_ack_end
        if since >= QUIET_S:
            self._quiet.set()
        else:  # another request came and went: wait for its own quiet spell
            asyncio.get_running_loop().call_later(QUIET_S - since, self._check_quiet)

    async def _run(self, work: Coroutine[Any, Any, Any], deadline: float) -> None:
        started = False
        try:
            await self._open.wait()
            async with self._slots:
                await self._acks_first(deadline)
                self.waiting -= 1
                started = True
                self.running += 1
                try:
                    await work
                finally:
                    self.running -= 1
        finally:
            if not started:  # cancelled while queued (shutdown): the coroutine never ran
                self.waiting -= 1
                work.close()

    async def _acks_first(self, deadline: float) -> None:
        """Wait until no ack has been in flight for QUIET_S, or until `deadline` (loop time)."""
        if self._quiet.is_set():
            return
        try:
            async with asyncio.timeout_at(deadline):
                await self._quiet.wait()
        except TimeoutError:
            self.deferred_past_deadline += 1

    def pause(self) -> None:
        """Hold work that has not started (running work goes on)."""
        self._open.clear()

    def resume(self) -> None:
        self._open.set()
