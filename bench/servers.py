"""The servers a benchmark talks to, in a child process: the sandbox helpdesk, the model and
the tests' fake Slack Web API.

They run in their own process so that the CPU they burn is not charged to the process being
measured. The child prints one JSON line with its URLs and serves until its stdin closes.
A small control app beside them lets the parent read what reached the fake Slack:

    GET {control}/slack/messages   every bot message: channel, thread_ts, ephemeral_for
    GET {control}/slack/calls?method=M&contains=S   calls of M whose arguments contain S,
                                   with `at` on the system's monotonic clock (the parent's
                                   `time.monotonic()` reads the same clock)

    python -m bench.servers   ->  {"sandbox": "http://127.0.0.1:...", "api": ..., "model": ...,
                                   "slack_api": ..., "control": ...}
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Self

from aiohttp import web

from bench.fake_model import RespondingModel
from sandbox.runner import start_sandbox
from tests.fakes.slack_api import SlackApiFake

REPOSITORY = Path(__file__).resolve().parent.parent  # where `-m bench.*` is importable


@dataclass(frozen=True)
class Urls:
    sandbox: str  # the sandbox's base (back office under /sandbox)
    api: str  # the Helpdesk API v1 base
    model: str  # the OpenAI-compatible base (…/v1)
    slack_api: str = ""  # the fake Slack Web API (SLACK_API_URL)
    control: str = ""  # the control app (see the module docstring)


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
            cwd=REPOSITORY,
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


def control_app(slack: SlackApiFake) -> web.Application:
    async def messages(_: web.Request) -> web.Response:
        rows = [
            {
                "channel": m.channel,
                "ts": m.ts,
                "thread_ts": m.thread_ts,
                "ephemeral_for": m.ephemeral_for,
            }
            for m in slack.messages
        ]
        return web.json_response({"messages": rows})

    async def calls(request: web.Request) -> web.Response:
        method = request.query.get("method", "")
        contains = request.query.get("contains", "")
        rows = [
            {"at": call.at, "ok": call.ok}
            for call in slack.calls
            if call.method == method and contains in json.dumps(call.args)
        ]
        return web.json_response({"calls": rows})

    app = web.Application()
    app.router.add_get("/slack/messages", messages)
    app.router.add_get("/slack/calls", calls)
    return app


async def _serve() -> None:
    async with (
        start_sandbox() as sandbox,
        RespondingModel() as model,
        SlackApiFake() as slack,
    ):
        runner = web.AppRunner(control_app(slack), access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        control = f"http://127.0.0.1:{runner.addresses[0][1]}"
        urls = {
            "sandbox": sandbox.base_url,
            "api": sandbox.api_base,
            "model": model.base_url,
            "slack_api": slack.api_url,
            "control": control,
        }
        print(json.dumps(urls), flush=True)
        loop = asyncio.get_running_loop()
        try:
            await loop.run_in_executor(None, sys.stdin.read)  # returns when the parent closes it
        finally:
            await runner.cleanup()


if __name__ == "__main__":
    asyncio.run(_serve())
