"""`helpdesk-bot serve` as a deployment runs it, in its own process, for the channel sections.

Its settings come from the environment, as in production: the sandbox helpdesk and the
benchmark's model from `bench.servers`, Slack pointed at the tests' fake Web API with a
signing secret, the widget on the server's own origin, a SQLite file of its own. Some Slack
users are linked to a helpdesk account before it starts (through the same store and secret
key), so a burst mixes linked and unlinked users. Stopped with SIGTERM: the server drains its
in-flight turns first, so what reached the fake Slack afterwards is final.
"""

from __future__ import annotations

import asyncio
import os
import socket
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Self

import httpx

from bench.processes import stop_process
from bench.servers import Urls
from bench.workload import MODEL
from tests.fakes.slack_api import BOT_TOKEN, TEAM_ID

SIGNING_SECRET = "bench-signing-secret"
SECRET_KEY = "bench-secret-key-bench-secret-key"
START_TIMEOUT_S = 120.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def serve_environment(urls: Urls, *, database_url: str, port: int) -> dict[str, str]:
    public = f"http://127.0.0.1:{port}"
    kept = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TMPDIR")}
    return kept | {
        "HELPDESK_BASE_URL": urls.api,
        "OPENAI_BASE_URL": urls.model,
        "OPENAI_API_KEY": "bench",
        "LLM_MODEL": MODEL,
        "DATABASE_URL": database_url,
        "BOT_SECRET_KEY": SECRET_KEY,
        "BOT_PUBLIC_URL": public,
        "WIDGET_ALLOWED_ORIGINS": public,
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": urls.slack_api,
    }


# Sandbox accounts with no chat of their own (a helpdesk user has one open chat at a time,
# so each handoff the relay section measures needs its own account).
RELAY_ACCOUNTS = tuple(
    f"{name}@{domain}.example"
    for name, domain in (
        ("mike", "acme"),
        ("sam", "acme"),
        ("olivia", "acme"),
        ("raj", "acme"),
        ("nora", "globex"),
        ("lee", "globex"),
        ("ben", "globex"),
        ("ana", "globex"),
    )
)


def demo_password(email: str) -> str:
    """The sandbox seeds every account's password as `demo-<name>`."""
    return f"demo-{email.split('@')[0]}"


async def link_slack_users(database_url: str, urls: Urls, users: Mapping[str, str]) -> None:
    """Link Slack user ids to helpdesk accounts ({user id: email}), in the server's store."""
    from pydantic import SecretStr

    from adapters.compose import build_services
    from bot.settings import Settings

    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        helpdesk_base_url=urls.api,
        openai_base_url=urls.model,
        openai_api_key=SecretStr("bench"),
        llm_model=MODEL,
        database_url=database_url,
        bot_secret_key=SecretStr(SECRET_KEY),
    )
    async with build_services(settings, model_stream_delay_s=0) as services:
        for user, email in users.items():
            await services.identities.link_with_password(
                "slack", f"slack:{TEAM_ID}:{user}", username=email, password=demo_password(email)
            )


class ServeProcess:
    """The server process; `base_url`, `pid`, and `rss_kb()` while it runs."""

    def __init__(
        self, urls: Urls, workdir: Path, *, linked: Mapping[str, str] | None = None
    ) -> None:
        self._urls = urls
        self._database_url = f"sqlite+aiosqlite:///{workdir / 'serve.db'}"  # one per workdir
        self._linked = linked or {}
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self._process: asyncio.subprocess.Process | None = None
        self._log = workdir / f"serve-{self.port}.log"

    @property
    def pid(self) -> int:
        assert self._process is not None
        return self._process.pid

    async def __aenter__(self) -> Self:
        if self._linked:
            await link_slack_users(self._database_url, self._urls, self._linked)
        cli = Path(sys.executable).with_name("helpdesk-bot")
        env = serve_environment(self._urls, database_url=self._database_url, port=self.port)
        with self._log.open("wb") as log:
            self._process = await asyncio.create_subprocess_exec(
                str(cli),
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                env=env,
            )
        await self._wait_ready()
        return self

    async def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        async with httpx.AsyncClient(timeout=2) as http:
            while time.monotonic() < deadline:
                assert self._process is not None
                if self._process.returncode is not None:
                    break
                try:
                    if (await http.get(f"{self.base_url}/readyz")).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.2)  # polling a process that is starting up
        raise RuntimeError(f"helpdesk-bot serve did not become ready; see {self._log}")

    async def stop(self) -> None:
        """SIGTERM (the server drains its turns), then wait; kill only past the deadline."""
        process = self._process
        if process is None or process.returncode is not None:
            return
        process.terminate()
        try:
            async with asyncio.timeout(60):
                await process.wait()
        except TimeoutError:
            await stop_process(process)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()
