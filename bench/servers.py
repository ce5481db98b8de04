"""The servers a benchmark talks to, in a child process: the sandbox helpdesk and the model.

They run in their own process so that the CPU they burn is not charged to the client being
measured. The child prints one JSON line with its URLs and serves until its stdin closes.

    python -m bench.servers   ->  {"sandbox": "http://127.0.0.1:...", "api": ..., "model": ...}
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from dataclasses import dataclass
from types import TracebackType
from typing import Self

from bench.fake_model import RespondingModel
from sandbox.runner import start_sandbox


@dataclass(frozen=True)
class Urls:
    sandbox: str  # the sandbox's base (back office under /sandbox)
    api: str  # the Helpdesk API v1 base
    model: str  # the OpenAI-compatible base (…/v1)


class ServerProcess:
    """Starts `python -m bench.servers` and reads its URLs; stops it on exit."""

    def __init__(self) -> None:
        self._process: subprocess.Popen[str] | None = None
        self.urls: Urls | None = None

    @property
    def pid(self) -> int:
        assert self._process is not None
        return self._process.pid

    def __enter__(self) -> Self:
        self._process = subprocess.Popen(
            [sys.executable, "-m", "bench.servers"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self._process.stdout is not None
        line = self._process.stdout.readline()
        if not line:
            raise RuntimeError("bench.servers did not start")
        self.urls = Urls(**json.loads(line))
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._process is not None:
            assert self._process.stdin is not None
            self._process.stdin.close()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()


async def _serve() -> None:
    async with start_sandbox() as sandbox, RespondingModel() as model:
        urls = {"sandbox": sandbox.base_url, "api": sandbox.api_base, "model": model.base_url}
        print(json.dumps(urls), flush=True)
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, sys.stdin.read)  # returns when the parent closes it


if __name__ == "__main__":
    asyncio.run(_serve())
