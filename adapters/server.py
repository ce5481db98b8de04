"""The composition root of `helpdesk-bot serve`: one aiohttp app for every channel.

`run_server` builds the services (`adapters.compose`), mounts each configured channel on
one app — the widget and link pages always, Slack and Teams when their settings are present
— plus `/healthz` (the process is up) and `/readyz` (database and helpdesk reachable), and
serves until cancelled. Shutdown stops accepting, drains in-flight turns, then closes the
services in reverse order.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import gc
import importlib
import logging
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from datetime import UTC, datetime, timedelta

from aiohttp import web

from adapters.channel import CHANNEL_PACKAGES, Channel, ChannelFactory
from adapters.compose import Services, build_services
from adapters.linking.handlers import mount as mount_link_pages
from adapters.observability import METRICS, mount_metrics
from adapters.tasks import TaskGroup
from bot import metrics
from bot.confirmations import expire_unanswered
from bot.deflection import settle_quiet_conversations
from bot.helpdesk.errors import HelpdeskError
from bot.linking import Linked
from bot.metrics import Metrics, ModelPrices
from bot.settings import Settings

log = logging.getLogger(__name__)

READY_TIMEOUT_S = 5.0
MAINTENANCE_EVERY_S = 300.0
# Processed event ids are kept a day: far beyond Slack's retries and a link token's 10 minutes.
EVENT_MEMORY = timedelta(days=1)
DRAIN_TIMEOUT_S = 30.0
STOP_GRACE_S = 10.0

SERVICES = web.AppKey("services", Services)
TASKS = web.AppKey("tasks", TaskGroup)

CHANNELS = web.AppKey("channels", dict[str, Channel])
__all__ = ["CHANNELS", "METRICS", "SERVICES", "TASKS", "create_app", "run_server"]


def create_app(
    services: Services, *, channels: Sequence[ChannelFactory] | None = None
) -> web.Application:
    """The one app: health checks, the link pages, and every channel this deployment has
    (every package in `CHANNEL_PACKAGES`, or just the factories `channels` names, as tests
    do; a factory returns None when its settings are absent)."""
    app = web.Application(client_max_size=1024**2)
    tasks = TaskGroup()
    app[SERVICES] = services
    app[TASKS] = tasks
    registry = app_metrics(services)
    end_startup_binding = mount_metrics(
        app, registry, token=_secret(services.settings.metrics_token)
    )
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    shared = services.for_channels()
    mount_link_pages(app, shared, tasks)
    factories = channels if channels is not None else default_factories()
    chosen = [c for c in (factory(shared, tasks) for factory in factories) if c is not None]
    for channel in chosen:
        attach(app, services, channel)
    app[CHANNELS] = {channel.name: channel for channel in chosen}
    if not any(resource.canonical == "/" for resource in app.router.resources()):
        app.router.add_get("/", index)

    background: list[asyncio.Task[None]] = []
    stopping = asyncio.Event()

    async def start_background(_: web.Application) -> None:
        background.append(_bound_task(registry, services.relay.run(), name="handoff-relay"))
        background.append(
            _bound_task(registry, _maintain(services, stopping), name="store-maintenance")
        )

    async def stop(_: web.Application) -> None:
        # Loops stop at their next pause (never mid-request); in-flight turns drain below.
        services.relay.stop()
        stopping.set()
        if background:
            _done, late = await asyncio.wait(background, timeout=STOP_GRACE_S)
            for task in late:
                task.cancel()
        await asyncio.gather(*background, return_exceptions=True)
        await tasks.drain(grace_s=DRAIN_TIMEOUT_S)

    app.on_startup.append(start_background)
    app.on_startup.append(end_startup_binding)
    app.on_shutdown.append(stop)
    return app


def app_metrics(services: Services) -> Metrics:
    """A fresh registry for one app, pricing tokens as the settings say."""
    settings = services.settings
    prices = ModelPrices(
        input_per_1k=settings.llm_price_input_per_1k,
        output_per_1k=settings.llm_price_output_per_1k,
    )
    return Metrics(prices=prices)


def _bound_task(
    registry: Metrics, work: Coroutine[object, object, None], *, name: str
) -> asyncio.Task[None]:
    """A background task that records into this app's metrics (not the caller's)."""
    context = contextvars.copy_context()
    context.run(metrics.bind, registry)
    return asyncio.create_task(work, name=name, context=context)


def _secret(value: object) -> str | None:
    get = getattr(value, "get_secret_value", None)
    return str(get()) if get is not None else None


def default_factories() -> list[ChannelFactory]:
    """Every channel package's factory (a package without one is not built yet)."""
    found = (getattr(importlib.import_module(name), "channel", None) for name in CHANNEL_PACKAGES)
    return [factory for factory in found if factory is not None]


def attach(app: web.Application, services: Services, channel: Channel) -> None:
    """Mount a channel and connect it to the relay, the link tokens and sign-in."""
    channel.mount(app)
    services.relay.register_sender(channel.name, channel.deliver)
    services.sign_in.register(channel.name, channel.sign_in_url)

    async def on_linked(linked: Linked) -> None:
        if linked.claim.channel == channel.name:
            await channel.on_linked(linked)

    services.links.on_linked(on_linked)


async def _maintain(services: Services, stopping: asyncio.Event) -> None:
    """Housekeeping at start and every few minutes: finish the turns a crash interrupted and
    settle writes a crash interrupted (the user is told the outcome), expire unconfirmed
    writes, count how quiet conversations ended, forget old event ids."""
    while not stopping.is_set():
        try:
            await services.engine.recover_interrupted_turns(notify=services.relay.send)
            settled = await services.engine.settle_interrupted_writes(notify=services.relay.send)
            if settled:
                log.info("Settled %d write(s) a crash had interrupted", len(settled))
            await expire_unanswered(services.store)
            await settle_quiet_conversations(
                services.store, quiet_for_s=services.settings.conversation_settle_after_s
            )
            await services.store.prune_events(older_than=datetime.now(UTC) - EVENT_MEMORY)
        except Exception:  # a database hiccup must not end the loop; the next round retries
            log.exception("Store maintenance failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stopping.wait(), MAINTENANCE_EVERY_S)


async def healthz(_: web.Request) -> web.Response:
    """The process is up and serving."""
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    """Ready when the database and the helpdesk answer; 503 naming the failing check."""
    services = request.app[SERVICES]
    checks = {
        "database": await _check(services.store.ping),
        "helpdesk": await _check(services.helpdesk.init),
    }
    ready = all(value == "ok" for value in checks.values())
    return web.json_response(
        {"status": "ready" if ready else "unavailable", "checks": checks},
        status=200 if ready else 503,
    )


async def _check(probe: Callable[[], Awaitable[object]]) -> str:
    try:
        async with asyncio.timeout(READY_TIMEOUT_S):
            await probe()
    except (HelpdeskError, TimeoutError, OSError) as exc:
        return type(exc).__name__
    except Exception as exc:  # e.g. a database driver error: report, don't crash the probe
        log.warning("Readiness check failed: %s", type(exc).__name__)
        return type(exc).__name__
    return "ok"


async def index(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    console = services.sandbox_console_url
    lines = [
        "<!doctype html><html lang=en><meta charset=utf-8><title>helpdesk-bot</title>",
        "<h1>helpdesk-bot is running</h1>",
    ]
    if console:
        lines.append(f'<p><a href="{console}">Sandbox agent console</a></p>')
    return web.Response(text="\n".join(lines), content_type="text/html")


async def run_server(settings: Settings, *, host: str, port: int, sandbox_port: int) -> None:
    """Serve until cancelled; then stop accepting, drain, and close everything in order."""
    async with build_services(settings, sandbox_host=host, sandbox_port=sandbox_port) as services:
        runner = web.AppRunner(create_app(services), access_log=None)
        await runner.setup()
        try:
            await web.TCPSite(runner, host, port).start()
            freeze_startup_heap()
            _print_banner(services, host=host, port=port)
            await asyncio.Event().wait()
        finally:
            await runner.cleanup()


def freeze_startup_heap() -> None:
    """Exempt everything built at startup (modules, settings, clients, the app) from the
    garbage collector's scans.

    Each full collection otherwise walks that whole heap; under a burst of requests the
    collections triggered by per-request allocations were ~75% of the Slack ack path's CPU
    (0.31 ms of a dispatch, 0.075 ms with the heap frozen), delaying the last acks of a
    500-event burst. Later objects are collected as before.
    https://docs.python.org/3/library/gc.html#gc.freeze
    """
    gc.collect()
    gc.freeze()


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
