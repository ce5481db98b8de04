"""The sandbox's aiohttp application: route mounting and the cross-cutting middlewares.

Middlewares, outermost first: request log (API paths), JSON errors for everything (404,
405, 413 and any unexpected exception included), loopback-only guard for `/sandbox`, and
fault injection (API paths). `create_app` returns a plain `web.Application`, so callers can
add routes or sub-applications (e.g. a stand-in model at `/v1`) before starting it.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import random
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from aiohttp import web

from sandbox import backoffice, routes_auth, routes_chat, routes_company, routes_kb, routes_tickets
from sandbox.db import Clock, Database
from sandbox.model import add_model_routes
from sandbox.seed import seed
from sandbox.state import API_PREFIX, STATE, USER_EMAIL, SandboxConfig, SandboxState, state_of
from sandbox.validation import MAX_BODY_BYTES, ApiError, error_response

__all__ = ["API_PREFIX", "SandboxConfig", "create_app"]

logger = logging.getLogger(__name__)

# The log keeps ~2000 entries; bodies beyond this size are logged as null to bound memory.
_LOGGED_BODY_LIMIT = 64 * 1024

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_STATUS_TEXT = {
    404: "Not found",
    413: "Request body too large (limit 1 MiB)",
    429: "Too many requests",
    500: "Internal server error",
    502: "Bad gateway",
    503: "Service unavailable",
    504: "Gateway timeout",
}


def _is_api(path: str) -> bool:
    return path == API_PREFIX or path.startswith(API_PREFIX + "/")


def api_path(path: str) -> str:
    """A path relative to the API base (`/tickets/3`); other paths are returned unchanged."""
    return path[len(API_PREFIX) :] or "/" if _is_api(path) else path


@web.middleware
async def request_log_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Log each API request once it has been answered (a slow request appears when done),
    with how many API requests were in flight when it arrived (itself included), so a
    test can see that a client's calls overlapped."""
    if not _is_api(request.path):
        return await handler(request)
    state = state_of(request)
    state.in_flight += 1
    arrived_with = state.in_flight
    try:
        response = await handler(request)
    finally:
        state.in_flight -= 1
    state.requests.append(
        {
            "id": state.next_request_id,
            "in_flight": arrived_with,
            "method": request.method,
            "path": api_path(request.path),
            "query": dict(request.query),
            "status": response.status,
            "user_email": request.get(USER_EMAIL),
            "body": await _logged_body(request),
            "at": state.clock.now_iso(),
        }
    )
    state.next_request_id += 1
    return response


async def _logged_body(request: web.Request) -> Any:
    if not request.body_exists:
        return None
    try:
        raw = await request.read()
        if len(raw) > _LOGGED_BODY_LIMIT or not raw.strip():
            return None
        return json.loads(raw)
    except (web.HTTPException, ValueError, RecursionError):
        return None


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
            raise ApiError(413, _STATUS_TEXT[413])
        return await handler(request)
    except ApiError as exc:
        return error_response(exc.status, exc.message, extra=exc.extra, headers=exc.headers)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        headers = {"Allow": exc.headers["Allow"]} if "Allow" in exc.headers else None
        if exc.status == 405:
            message = f"Method {request.method} is not allowed for this path"
        else:
            message = _STATUS_TEXT.get(exc.status, exc.reason)
        return error_response(exc.status, message, headers=headers)
    except ConnectionResetError:
        logger.info("Client went away during %s %s", request.method, request.path)
        return error_response(400, "Connection lost while reading the request")
    except Exception:
        logger.exception("Unhandled error on %s %s", request.method, request.path)
        return error_response(500, "Internal server error")


def _is_loopback(remote: str | None) -> bool:
    if not remote:
        return False
    try:
        address = ipaddress.ip_address(remote.split("%")[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback


@web.middleware
async def loopback_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if (request.path == "/sandbox" or request.path.startswith("/sandbox/")) and not _is_loopback(
        request.remote
    ):
        raise ApiError(403, "The sandbox back office only answers loopback clients")
    return await handler(request)


@web.middleware
async def fault_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if not _is_api(request.path):
        return await handler(request)
    state = state_of(request)
    path = api_path(request.path)
    for fault in state.faults:
        if not fault.matches(request.method, path) or random.random() >= fault.rate:
            continue
        if fault.count is not None:
            fault.count -= 1
        if fault.latency_ms:
            # Take the whole body first: a client that gives up waiting closes the
            # connection, and its request must still be processed like a real server would.
            if request.body_exists:
                await request.read()
            await asyncio.sleep(fault.latency_ms / 1000)
        if fault.status is None:
            break
        headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else None
        message = _STATUS_TEXT.get(fault.status, "Injected fault")
        return error_response(fault.status, f"{message} (sandbox fault)", headers=headers)
    return await handler(request)


def _mount(app: web.Application, prefix: str, tables: Iterable[web.RouteTableDef]) -> None:
    for table in tables:
        for route in table:
            if not isinstance(route, web.RouteDef):
                continue
            if route.method == "GET":  # GET routes answer HEAD too, as aiohttp's add_get does
                app.router.add_get(prefix + route.path, route.handler)
            else:
                app.router.add_route(route.method, prefix + route.path, route.handler)


def create_app(config: SandboxConfig = SandboxConfig()) -> web.Application:  # noqa: B008
    """A fresh sandbox helpdesk: seeded on first use of its database."""
    app = web.Application(
        client_max_size=MAX_BODY_BYTES,
        middlewares=[
            request_log_middleware,
            error_middleware,
            loopback_middleware,
            fault_middleware,
        ],
    )
    state = SandboxState(config=config, db=Database(config.db_path), clock=Clock())
    if state.db.is_empty():
        seed(state.db, state.clock.now())
    app[STATE] = state
    _mount(
        app,
        API_PREFIX,
        [
            routes_auth.routes,
            routes_tickets.routes,
            routes_chat.routes,
            routes_kb.routes,
            routes_company.routes,
        ],
    )
    _mount(app, "", [routes_kb.page_routes, backoffice.routes])
    add_model_routes(app, stream_delay_s=config.model_stream_delay_s)

    async def close_database(_: web.Application) -> None:
        state.db.close()

    app.on_cleanup.append(close_database)
    return app
