"""Child processes the parent drives: a runner worker (`bench.worker`) and `helpdesk-bot
serve`, each started, asked and stopped with a deadline on every wait."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from bench.servers import REPOSITORY, Urls
from bench.worker import ANSWER_MARK

ANSWER_TIMEOUT_S = 900.0  # a full batch of 200 conversations on a loaded machine


class Worker:
    """`python -m bench.worker RUNNER ...` and its line protocol."""

    def __init__(
        self, runner: str, urls: Urls, *, database_url: str = "", offered: Path | None = None
    ) -> None:
        self.runner = runner
        self._args = ["--urls", json.dumps(urls.__dict__), "--database-url", database_url]
        if offered is not None:
            self._args += ["--offered", str(offered)]
        self._process: asyncio.subprocess.Process | None = None

    @property
    def pid(self) -> int:
        assert self._process is not None
        return self._process.pid

    async def __aenter__(self) -> Self:
        self._process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.worker",
            self.runner,
            *self._args,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            env={**os.environ, "PYTHONHASHSEED": "0"},
            cwd=REPOSITORY,
            limit=64 * 1024 * 1024,
        )
        await self._read(timeout_s=120)  # {"ready": runner}
        return self

    async def ask(self, command: dict[str, Any]) -> dict[str, Any]:
        assert self._process is not None and self._process.stdin is not None
        self._process.stdin.write((json.dumps(command) + "\n").encode())
        await self._process.stdin.drain()
        answer = await self._read(timeout_s=ANSWER_TIMEOUT_S)
        if "error" in answer:
            raise RuntimeError(f"{self.runner}: {answer['error']}")
        return answer

    async def _read(self, *, timeout_s: float) -> dict[str, Any]:
        assert self._process is not None and self._process.stdout is not None
        async with asyncio.timeout(timeout_s):
            while True:
                line = (await self._process.stdout.readline()).decode()
                if not line:
                    raise RuntimeError(f"worker {self.runner} exited ({self._process.returncode})")
                if line.startswith(ANSWER_MARK):
                    answer: dict[str, Any] = json.loads(line[len(ANSWER_MARK) :])
                    return answer

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await stop_process(self._process)


async def stop_process(process: asyncio.subprocess.Process | None) -> None:
    """Close stdin (a worker's signal to stop), then terminate, then kill: each with a wait."""
    if process is None or process.returncode is not None:
        return
    if process.stdin is not None:
        process.stdin.close()
    for stop in (None, process.terminate, process.kill):
        if stop is not None:
            stop()
        try:
            async with asyncio.timeout(10):
                await process.wait()
            return
        except TimeoutError:
            continue
