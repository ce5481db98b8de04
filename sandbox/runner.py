"""Ways to run a sandbox: an async context manager, a background thread, and the CLI server."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from types import TracebackType

from aiohttp import web

from sandbox.app import create_app
from sandbox.seed import DEMO_ACCOUNTS
from sandbox.state import API_PREFIX, SandboxConfig

__all__ = ["RunningSandbox", "SandboxConfig", "SandboxThread", "serve_sandbox", "start_sandbox"]

_STARTUP_TIMEOUT = 30.0


@dataclass(frozen=True)
class RunningSandbox:
    """A sandbox listening on a socket."""

    base_url: str
    api_base: str
    console_url: str
    app: web.Application


def _url_host(host: str) -> str:
    if host in ("", "0.0.0.0"):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host


@asynccontextmanager
async def start_sandbox(
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    config: SandboxConfig = SandboxConfig(),  # noqa: B008 - frozen, shared safely
) -> AsyncIterator[RunningSandbox]:
    """Serve a fresh sandbox on `host:port` (0 = any free port) until the block exits."""
    app = create_app(config)
    # Handlers keep running when a client disconnects, as a real server's would: a client
    # that gave up waiting must still find its write done.
    runner = web.AppRunner(app, handler_cancellation=False, access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
        bound_port = port
        for address in runner.addresses:
            if isinstance(address, tuple) and len(address) >= 2:
                bound_port = int(address[1])
                break
        base_url = f"http://{_url_host(host)}:{bound_port}"
        yield RunningSandbox(
            base_url=base_url,
            api_base=base_url + API_PREFIX,
            console_url=base_url + "/sandbox/console",
            app=app,
        )
    finally:
        await runner.cleanup()


class SandboxThread:
    """A sandbox on its own event loop in a daemon thread, for synchronous callers."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        config: SandboxConfig = SandboxConfig(),  # noqa: B008
    ) -> None:
        self._host = host
        self._port = port
        self._config = config
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._error: BaseException | None = None
        self._running: RunningSandbox | None = None

    @property
    def running(self) -> RunningSandbox:
        if self._running is None:
            raise RuntimeError("SandboxThread is not started")
        return self._running

    @property
    def base_url(self) -> str:
        return self.running.base_url

    @property
    def api_base(self) -> str:
        return self.running.api_base

    @property
    def console_url(self) -> str:
        return self.running.console_url

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as exc:  # reported to the starting thread
            self._error = exc
            self._ready.set()

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        async with start_sandbox(host=self._host, port=self._port, config=self._config) as sb:
            self._running = sb
            self._ready.set()
            await self._stop.wait()

    def start(self) -> SandboxThread:
        self._thread = threading.Thread(target=self._run, name="sandbox", daemon=True)
        self._thread.start()
        if not self._ready.wait(_STARTUP_TIMEOUT):
            raise RuntimeError("sandbox did not start in time")
        if self._error is not None:
            raise RuntimeError("sandbox failed to start") from self._error
        return self

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(_STARTUP_TIMEOUT)
        self._thread = None

    def __enter__(self) -> SandboxThread:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


async def serve_sandbox(*, host: str, port: int, config: SandboxConfig) -> None:
    """Serve until cancelled, after printing where to reach the sandbox and how to log in."""
    async with start_sandbox(host=host, port=port, config=config) as sandbox:
        print(f"Valethon Helpdesk sandbox API: {sandbox.api_base}")
        print(f"Agent console:                 {sandbox.console_url}")
        print(f"OpenAPI document:              {sandbox.api_base}/openapi.yaml")
        print("Demo accounts (email / password):")
        for email, password, role in DEMO_ACCOUNTS:
            print(f"  {email:<22} {password:<12} {role}")
        await asyncio.Event().wait()
