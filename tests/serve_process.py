"""`helpdesk-bot serve` as a child process, and the widget's protocol as its page speaks it.

Shared by the tests that run the real server in its own process: two replicas on one
PostgreSQL (`tests/e2e/test_replicas.py`) and a server SIGKILLed at each stage of a turn and
started again on the same database (`tests/faults/test_serve_killed.py`).
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import httpx

SECRET = "serve-process-test-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"
READY_WITHIN_S = 30.0
Frame = dict[str, Any]


@asynccontextmanager
async def postgres_database(server_url: str, *, prefix: str) -> AsyncIterator[str]:
    """A fresh database on the PostgreSQL server of ``server_url`` (a SQLAlchemy URL),
    named ``<prefix>_<random>`` so parallel runs never meet; dropped afterwards."""
    server = server_url.replace("postgresql+asyncpg://", "postgresql://")
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(server)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        base, _, _ = server_url.rpartition("/")
        yield f"{base}/{name}"
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class ServeProcess:
    url: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    def alive(self) -> bool:
        return self.process.poll() is None

    def log_tail(self, chars: int = 3000) -> str:
        return self.log.read_text(errors="replace")[-chars:]

    def kill(self) -> None:
        """SIGKILL: no shutdown hook runs, no lease is released, nothing is flushed."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        """SIGTERM and wait for a clean exit (SIGKILL if it does not come)."""
        if self.alive():
            self.process.send_signal(signal.SIGTERM)
        with suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=15)
        if self.alive():
            self.kill()


def start_serve(
    *,
    database: str,
    helpdesk_api: str,
    model_base_url: str,
    workdir: Path,
    name: str,
    port: int | None = None,
    api_key: str | None = None,
    model: str = "sandbox-stand-in",
) -> ServeProcess:
    """`python -m adapters.cli serve` on ``port`` (a free one if None), logging to a file."""
    port = port or free_port()
    url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "LLM_", "BOT_"))}
    env |= {
        "HELPDESK_BASE_URL": helpdesk_api,
        "OPENAI_BASE_URL": model_base_url,
        "LLM_MODEL": model,
        "DATABASE_URL": database,
        "BOT_SECRET_KEY": SECRET,
        "BOT_PUBLIC_URL": url,
    }
    if api_key is not None:
        env["OPENAI_API_KEY"] = api_key
    log = workdir / f"{name}.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "adapters.cli", "serve", "--port", str(port)],
        env=env,
        cwd=workdir,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    return ServeProcess(url=url, port=port, process=process, log=log)


async def wait_ready(server: ServeProcess) -> None:
    """Until `/readyz` answers 200 (the database is migrated, the helpdesk answers)."""
    deadline = time.monotonic() + READY_WITHIN_S
    async with httpx.AsyncClient() as http:
        while time.monotonic() < deadline:
            assert server.alive(), server.log_tail()
            with suppress(httpx.HTTPError):
                if (await http.get(f"{server.url}/readyz")).status_code == 200:
                    return
            await asyncio.sleep(0.2)
    raise AssertionError("serve not ready:\n" + server.log_tail())


async def sign_in(http: aiohttp.ClientSession, url: str, email: str, password: str) -> str:
    """The widget's sign-in form; returns the session cookie as a Cookie header value."""
    signed_in = await http.post(
        f"{url}/widget/session",
        json={"email": email, "password": password},
        headers={"Origin": url},
    )
    assert signed_in.status == 200, await signed_in.text()
    return "; ".join(f"{c.key}={c.value}" for c in signed_in.cookies.values())


class WidgetPage:
    """A widget page: hello with the last seq it shows, then every frame it receives.

    ``shown`` holds the transcript frames the page displays, each once (a seq it already
    shows is skipped, as the page does); ``passed`` every frame but those skipped;
    ``frames`` everything received, in order.
    """

    def __init__(self, http: aiohttp.ClientSession, cookie: str, *, deadline_s: float) -> None:
        self.http = http
        self.cookie = cookie
        self.deadline_s = deadline_s
        self.last_seq = 0
        self.shown: list[Frame] = []
        self.passed: list[Frame] = []
        self.frames: list[Frame] = []
        self.ws: aiohttp.ClientWebSocketResponse | None = None

    @property
    def agent(self) -> list[tuple[int, str]]:
        return [(f["seq"], f["text"]) for f in self.shown if f["type"] == "agent"]

    async def connect(self, url: str) -> None:
        self.ws = await self.http.ws_connect(
            f"{url}/widget/ws", headers={"Origin": url, "Cookie": self.cookie}
        )
        await self.send({"type": "hello", "last_seq": self.last_seq})
        await self.until(lambda frame: frame["type"] == "ready")

    def dropped(self) -> None:
        """The server died under the socket; the page reconnects with its cursor."""
        self.ws = None

    async def send(self, frame: Frame) -> None:
        assert self.ws is not None
        await self.ws.send_json(frame)

    async def until(self, done: Callable[[Frame], bool], *, since: int | None = None) -> Frame:
        """Read frames until ``done`` holds for one (within the page's deadline); with
        ``since``, a frame already received from that index of ``passed`` on counts too."""
        assert self.ws is not None
        for frame in self.passed[since:] if since is not None else []:
            if done(frame):
                return dict(frame)
        try:
            async with asyncio.timeout(self.deadline_s):
                while True:
                    frame = await self.ws.receive_json()
                    self.frames.append(frame)
                    seq = frame.get("seq")
                    if isinstance(seq, int):
                        if seq <= self.last_seq:
                            continue  # a row this page already shows
                        self.last_seq = seq
                        self.shown.append(frame)
                    self.passed.append(frame)
                    if done(frame):
                        return dict(frame)
        except TimeoutError:
            raise AssertionError(f"not within {self.deadline_s} s; got {self.frames}") from None
