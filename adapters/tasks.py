"""Background work the server owns: every task is tracked and drained at shutdown.

Channels acknowledge a platform event at once and do the work after the ack (Slack retries
anything not acknowledged within 3 s). That work runs here, never as an unowned task, so a
shutdown waits for in-flight turns instead of dropping them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

log = logging.getLogger(__name__)


class TaskGroup:
    """A set of owned tasks: started with `spawn`, awaited (then cancelled) by `drain`."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()
        self._closing = False

    def __len__(self) -> int:
        return len(self._tasks)

    def spawn(
        self, work: Coroutine[Any, Any, Any], *, name: str | None = None
    ) -> asyncio.Task[Any]:
        if self._closing:
            work.close()
            raise RuntimeError("the server is shutting down")
        task = asyncio.create_task(work, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._finished)
        return task

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("Background task %s failed", task.get_name(), exc_info=task.exception())

    async def idle(self, *, timeout_s: float) -> None:
        """Wait, without closing, until no task runs (tasks spawned meanwhile included);
        TimeoutError after `timeout_s`. Tests use it to wait for work after an ack."""
        async with asyncio.timeout(timeout_s):
            while self._tasks:
                await asyncio.wait(set(self._tasks))

    async def drain(self, *, grace_s: float) -> None:
        """Stop accepting work, wait up to `grace_s` for what runs, then cancel the rest."""
        self._closing = True
        if not self._tasks:
            return
        log.info("Draining %d in-flight task(s)", len(self._tasks))
        _, pending = await asyncio.wait(set(self._tasks), timeout=grace_s)
        for task in pending:
            task.cancel()
        if pending:
            log.warning("Cancelled %d task(s) still running after %.0f s", len(pending), grace_s)
            await asyncio.gather(*pending, return_exceptions=True)
