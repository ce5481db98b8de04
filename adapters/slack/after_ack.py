"""The work a Slack listener acknowledged, run after the ack with bounded concurrency.

Slack retries any event not acknowledged within 3 s, so the ack path does no database or
helpdesk work at all: a listener parses the payload (pure functions), hands the rest here
and returns. Every claim, lookup, engine turn and reply runs afterwards, at most `limit`
at a time. The bound is what keeps acks fast under a burst: 500 turns started at once
would each put their steps on the one event loop, and the ack of event 501 would queue
behind all of them; waiting for a slot costs the loop nothing.
https://docs.slack.dev/apis/events-api#responding

The tasks stay owned by the server's `TaskGroup` (drained at shutdown). `pause()` holds
work that has not started yet, so a test or benchmark can observe the ack path alone.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

from adapters.tasks import TaskGroup

# Turns at once per process: enough to overlap the helpdesk's and the model's latency,
# few enough that an ack waits behind at most this many runnable steps.
TURNS_AT_ONCE = 16


class WorkAfterAck:
    """`spawn(work, name=...)` like a TaskGroup, but at most `limit` pieces run at once."""

    def __init__(self, tasks: TaskGroup, *, limit: int = TURNS_AT_ONCE) -> None:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        self._tasks = tasks
        self._slots = asyncio.Semaphore(limit)
        self._open = asyncio.Event()
        self._open.set()
        self.limit = limit
        self.waiting = 0  # acknowledged, not started yet
        self.running = 0

    def spawn(self, work: Coroutine[Any, Any, Any], *, name: str) -> None:
        """Queue work after an ack (raises while the server shuts down, so Slack gets a 500
        and redelivers to a replica that is up)."""
        self._tasks.spawn(self._run(work), name=name)
        self.waiting += 1  # counted at the ack, so waiting + running is what was acknowledged

    async def _run(self, work: Coroutine[Any, Any, Any]) -> None:
        started = False
        try:
            await self._open.wait()
            async with self._slots:
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

    def pause(self) -> None:
        """Hold work that has not started (running work goes on)."""
        self._open.clear()

    def resume(self) -> None:
        self._open.set()
