"""The composition root: builds settings, clients and channels, and serves them on one app.

`helpdesk-bot serve` runs `run_server`. With `HELPDESK_BASE_URL` unset it first starts the
embedded sandbox helpdesk in this process, so `make demo` needs no account and no network.
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any

import httpx
from aiohttp import web

from bot.helpdesk.client import HelpdeskClient
from bot.helpdesk.errors import HelpdeskError
from bot.settings import Settings

log = logging.getLogger(__name__)

READY_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class Services:
    """What the channels share: one of each per process."""

    settings: Settings
    helpdesk: HelpdeskClient
    helpdesk_base_url: str
    sandbox_console_url: str | None = None


SERVICES = web.AppKey("services", Services)


def create_app(services: Services) -> web.Application:
    app = web.Application()
    app[SERVICES] = services
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/", index)
    return app


async def healthz(_: web.Request) -> web.Response:
    """The process is up and serving."""
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    """Ready when the helpdesk answers; 503 with the failing check otherwise."""
    services = request.app[SERVICES]
    checks: dict[str, Any] = {}
    try:
        async with asyncio.timeout(READY_TIMEOUT_S):
            await services.helpdesk.init()
        checks["helpdesk"] = "ok"
    except (HelpdeskError, TimeoutError) as exc:
        checks["helpdesk"] = type(exc).__name__
    ready = all(value == "ok" for value in checks.values())
    return web.json_response(
        {"status": "ready" if ready else "unavailable", "checks": checks},
        status=200 if ready else 503,
    )


async def index(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    console = services.sandbox_console_url
    lines = [
        "<!doctype html><html lang=en><meta charset=utf-8><title>helpdesk-bot</title>",
        "<h1>helpdesk-bot is running</h1>",
        "<p>The chat widget is served here once the web channel is enabled.</p>",
    ]
    if console:
        lines.append(f'<p><a href="{console}">Sandbox agent console</a></p>')
    return web.Response(text="\n".join(lines), content_type="text/html")


async def run_server(settings: Settings, *, host: str, port: int, sandbox_port: int) -> None:
    """Serve until cancelled; then stop accepting, drain, and close everything in order."""
    async with AsyncExitStack() as stack:
        console_url = None
        base_url = settings.helpdesk_base_url
        if base_url is None:
            from sandbox.runner import start_sandbox

            sandbox = await stack.enter_async_context(start_sandbox(host=host, port=sandbox_port))
            base_url, console_url = sandbox.api_base, sandbox.console_url

        http = httpx.AsyncClient()
        stack.push_async_callback(http.aclose)
        helpdesk = HelpdeskClient(
            base_url,
            http=http,
            connect_timeout=settings.helpdesk_connect_timeout,
            read_timeout=settings.helpdesk_read_timeout,
            retry_budget=settings.helpdesk_retry_budget,
        )
        services = Services(
            settings=settings,
            helpdesk=helpdesk,
            helpdesk_base_url=base_url,
            sandbox_console_url=console_url,
        )
        runner = web.AppRunner(create_app(services), access_log=None)
        await runner.setup()
        stack.push_async_callback(runner.cleanup)
        await web.TCPSite(runner, host, port).start()
        _print_banner(services, host=host, port=port)
        await asyncio.Event().wait()


def _print_banner(services: Services, *, host: str, port: int) -> None:
    shown_host = "127.0.0.1" if host in ("", "0.0.0.0") else host
    lines = [f"helpdesk-bot is serving on http://{shown_host}:{port}/"]
    if services.sandbox_console_url:
        lines += [
            f"  embedded sandbox helpdesk: {services.helpdesk_base_url}",
            f"  sandbox agent console:     {services.sandbox_console_url}",
            "  demo accounts: jane@acme.example / demo-jane (employee),",
            "                 mike@acme.example / demo-mike (manager),",
            "                 sam@acme.example / demo-sam, lee@globex.example / demo-lee",
        ]
    else:
        lines.append(f"  helpdesk: {services.helpdesk_base_url}")
    print("\n".join(lines), flush=True)
