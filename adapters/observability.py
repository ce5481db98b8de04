"""`/metrics` on the one app, and the binding that sends each request's counts to its app.

Who may scrape (no setting is public by default):
- `METRICS_TOKEN` set: any client with `Authorization: Bearer <token>`; anything else 401.
- unset: only a direct loopback peer (a Prometheus agent or sidecar on the same host); a
  request that came through a proxy (`Forwarded`/`X-Forwarded-For`, as a reverse proxy on
  the same host would add) or from any other address gets 403. Expose metrics to a remote
  Prometheus by setting the token.

Each app has its own `bot.metrics.Metrics` (tests build several apps in one process); the
middleware makes it current for every request handler and the tasks they start.
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Awaitable, Callable, Mapping
from contextvars import Token

from aiohttp import hdrs, web
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4, generate_latest

from bot import metrics
from bot.metrics import Metrics

METRICS = web.AppKey("metrics", Metrics)
METRICS_PATH = "/metrics"
_PROXY_HEADERS = ("Forwarded", "X-Forwarded-For", "X-Real-IP")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def mount_metrics(
    app: web.Application, registry: Metrics, *, token: str | None
) -> Callable[[web.Application], Awaitable[None]]:
    """Serve `registry` at `/metrics` and make it current for every request of `app` and
    during its startup; returns the startup hook to append last, which ends the latter."""
    app[METRICS] = registry

    @web.middleware
    async def bind_metrics(request: web.Request, handler: Handler) -> web.StreamResponse:
        bound = metrics.bind(registry)
        try:
            return await handler(request)
        finally:
            metrics.reset(bound)

    async def serve_metrics(request: web.Request) -> web.Response:
        refusal = scrape_refusal(remote=request.remote, headers=request.headers, token=token)
        if refusal is not None:
            return refusal
        body = generate_latest(registry.registry)
        response = web.Response(body=body)
        response.headers[hdrs.CONTENT_TYPE] = CONTENT_TYPE_PLAIN_0_0_4  # every Prometheus reads it
        return response

    app.middlewares.append(bind_metrics)
    app.router.add_get(METRICS_PATH, serve_metrics)
    # Work started while the app starts (Slack's Socket Mode client, the background loops)
    # records into this app too; the caller appends `release` last, which undoes it.
    binding = _StartupBinding(registry)
    app.on_startup.append(binding.bind)
    return binding.release


class _StartupBinding:
    def __init__(self, registry: Metrics) -> None:
        self._registry = registry
        self._token: Token[Metrics] | None = None

    async def bind(self, _: web.Application) -> None:
        self._token = metrics.bind(self._registry)

    async def release(self, _: web.Application) -> None:
        if self._token is not None:
            metrics.reset(self._token)
            self._token = None


def scrape_refusal(
    *, remote: str | None, headers: Mapping[str, str], token: str | None
) -> web.Response | None:
    """None when this request may read the metrics; else the response that refuses it."""
    if token is not None:
        given = headers.get(hdrs.AUTHORIZATION, "")
        scheme, _, credential = given.partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(
            credential.strip().encode(), token.encode()
        ):
            return None
        return web.Response(status=401, headers={hdrs.WWW_AUTHENTICATE: 'Bearer realm="metrics"'})
    if _is_loopback(remote) and not any(name in headers for name in _PROXY_HEADERS):
        return None
    return web.Response(status=403)


def _is_loopback(remote: str | None) -> bool:
    if not remote:
        return False
    try:
        return ipaddress.ip_address(remote).is_loopback
    except ValueError:  # a unix socket path or something else that is not an address
        return False
