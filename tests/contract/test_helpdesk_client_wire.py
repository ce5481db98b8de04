"""HelpdeskClient against a tiny scripted HTTP server: body shapes and transport edge cases.

The sandbox always answers well-formed JSON; a real tenant behind proxies does not. This
server answers exactly the bytes a test scripts (wrapped or flat bodies, HTML, truncated
JSON, lists, slow answers), over real HTTP, so the client's parsing and error translation
are tested on the wire and not against a mock of httpx.
"""

from __future__ import annotations

import asyncio
import json
import math
import socket
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from email.utils import formatdate

import pytest
from aiohttp import web

from bot.helpdesk import HelpdeskClient, UserAuth
from bot.helpdesk.errors import (
    AuthError,
    Conflict,
    HelpdeskError,
    HelpdeskUnavailable,
    MalformedResponse,
    NotFound,
    OutcomeUnknown,
    PermissionDenied,
    RateLimited,
    ServerError,
    ValidationFailed,
)
from bot.helpdesk.models import Features, Ticket


@dataclass
class Scripted:
    status: int = 200
    body: bytes | str | object = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


@dataclass
class WireServer:
    base_url: str
    script: dict[tuple[str, str], list[Scripted]] = field(default_factory=dict)
    seen: list[tuple[str, str, str | None]] = field(default_factory=list)

    def answer(self, method: str, path: str, *responses: Scripted) -> None:
        """Answer the next requests in order; the last answer repeats."""
        self.script[(method, path)] = list(responses)

    def count(self, method: str, path: str) -> int:
        return sum(1 for m, p, _ in self.seen if (m, p) == (method, path))


@pytest.fixture
async def wire() -> AsyncIterator[WireServer]:
    server = WireServer(base_url="")

    async def handle(request: web.Request) -> web.StreamResponse:
        path = request.path.removeprefix("/api")
        server.seen.append((request.method, path, request.headers.get("Authorization")))
        queue = server.script.get((request.method, path))
        if not queue:
            return web.json_response({"error": "not scripted"}, status=404)
        answer = queue.pop(0) if len(queue) > 1 else queue[0]
        if answer.delay:
            await asyncio.sleep(answer.delay)
        body = answer.body
        if not isinstance(body, bytes | str):
            body = json.dumps(body)
        data = body.encode() if isinstance(body, str) else body
        return web.Response(
            status=answer.status,
            body=data,
            headers={"Content-Type": answer.content_type, **answer.headers},
        )

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    server.base_url = f"http://127.0.0.1:{port}/api"
    try:
        yield server
    finally:
        await runner.cleanup()


@pytest.fixture
async def client(wire: WireServer) -> AsyncIterator[HelpdeskClient]:
    async with HelpdeskClient(
        wire.base_url, read_timeout=0.5, retry_budget=1.0, backoff_base=0.01, backoff_max=0.05
    ) as helpdesk:
        yield helpdesk


AUTH = UserAuth("wire:user", "access-1", "refresh-1")
TICKET = {"ticket_id": 7, "ticket_number": 3007, "subject": "Mouse", "status": "open"}


async def test_both_success_shapes_parse_to_the_same_model(
    wire: WireServer, client: HelpdeskClient
) -> None:
    modules = {"tickets": True, "billing": False, "unknown_module": True}
    wire.answer(
        "GET",
        "/features",
        Scripted(body={"success": True, "data": {"modules": modules}}),
        Scripted(body={"modules": modules, "extra": "ignored"}),
    )
    wrapped = await client.features(AUTH)
    flat = await client.features(AUTH)
    assert wrapped == flat
    assert isinstance(wrapped, Features)
    assert wrapped.modules.tickets and not wrapped.modules.billing


async def test_wrapped_ticket_update_parses(wire: WireServer, client: HelpdeskClient) -> None:
    wire.answer("PUT", "/tickets/7", Scripted(body={"success": True, "data": TICKET}))
    ticket = await client.update_ticket(AUTH, 7, priority=2)
    assert isinstance(ticket, Ticket)
    assert ticket.ticket_number == 3007


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("<html><body>Bad gateway</body></html>", "text/html"),
        ('{"tickets": [{"ticket_id": 1', "application/json"),
        ([TICKET], "application/json"),
        ({"tickets": [{"ticket_id": 1}], "pagination": {}}, "application/json"),
        ({"success": True, "data": "not an object"}, "application/json"),
        (b"\xff\xfe\x00garbage", "application/json"),
        ("", "application/json"),
        ("null", "application/json"),
    ],
    ids=["html", "truncated", "list", "missing-fields", "data-string", "not-utf8", "empty", "null"],
)
async def test_malformed_success_bodies_raise_malformed_response(
    wire: WireServer, client: HelpdeskClient, body: object, content_type: str
) -> None:
    wire.answer("GET", "/tickets", Scripted(body=body, content_type=content_type))
    with pytest.raises(MalformedResponse) as caught:
        await client.list_tickets(AUTH)
    assert (caught.value.status, caught.value.method, caught.value.path) == (200, "GET", "/tickets")


@pytest.mark.parametrize(
    ("status", "body", "expected", "error"),
    [
        (400, {"error": "priority must be 1..5"}, ValidationFailed, "priority must be 1..5"),
        (403, {"error": "Billing module is not enabled"}, PermissionDenied, None),
        (404, "<h1>Not Found</h1>", NotFound, None),
        (409, {"error": "Ticket is not pending approval"}, Conflict, None),
        (413, {"error": "Body too large"}, ValidationFailed, "Body too large"),
        (500, "<html>oops</html>", ServerError, None),
        (501, ["not", "an", "object"], ServerError, None),
        (405, {"error": 42}, HelpdeskError, None),
    ],
)
async def test_error_statuses_map_to_the_tree_whatever_the_body(
    wire: WireServer,
    client: HelpdeskClient,
    status: int,
    body: object,
    expected: type[HelpdeskError],
    error: str | None,
) -> None:
    wire.answer("GET", "/outages", Scripted(status=status, body=body))
    with pytest.raises(expected) as caught:
        await client.outages(AUTH)
    assert type(caught.value) is expected
    assert caught.value.status == status
    assert (caught.value.method, caught.value.path) == ("GET", "/outages")
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        assert caught.value.error == body["error"]
    if error is not None:
        assert isinstance(caught.value, ValidationFailed)
        assert caught.value.message == error
    assert wire.count("GET", "/outages") == 1, "4xx and 500 are never retried"


async def test_conflict_carries_the_existing_ticket_number(
    wire: WireServer, client: HelpdeskClient
) -> None:
    existing = {"error": "This chat already has a ticket", "ticket_number": 3044}
    wire.answer("POST", "/chat/5/ticket", Scripted(status=409, body=existing))
    with pytest.raises(Conflict) as caught:
        await client.chat_create_ticket(AUTH, 5)
    assert caught.value.ticket_number == 3044


async def test_retry_after_http_date_is_honoured(wire: WireServer, client: HelpdeskClient) -> None:
    # HTTP dates have whole-second resolution: aim at a whole second 0.3 to 1.3 s away.
    target = math.floor(time.time() + 1.3)
    wire.answer(
        "GET",
        "/job-types",
        Scripted(
            status=429,
            body={"error": "slow down"},
            headers={"Retry-After": formatdate(target, usegmt=True)},
        ),
        Scripted(body={"job_types": [{"job_type_id": 1, "name": "General"}]}),
    )
    async with HelpdeskClient(wire.base_url, retry_budget=3.0, backoff_base=0.01) as patient:
        job_types = await patient.job_types(AUTH)
    assert [job.name for job in job_types] == ["General"]
    assert wire.count("GET", "/job-types") == 2
    assert time.time() >= target - 0.02, "retried before the date the server named"


async def test_retry_after_beyond_the_budget_raises_rate_limited_at_once(
    wire: WireServer, client: HelpdeskClient
) -> None:
    wire.answer("GET", "/job-types", Scripted(status=429, headers={"Retry-After": "30"}))
    started = time.monotonic()
    with pytest.raises(RateLimited) as caught:
        await client.job_types(AUTH)
    assert time.monotonic() - started < 0.5
    assert caught.value.retry_after == 30.0
    assert wire.count("GET", "/job-types") == 1


async def test_read_timeout_retries_a_get_but_never_a_create(
    wire: WireServer, client: HelpdeskClient
) -> None:
    wire.answer("GET", "/tickets/7", Scripted(body=TICKET, delay=1.0), Scripted(body=TICKET))
    assert (await client.get_ticket(AUTH, 7)).ticket_id == 7
    assert wire.count("GET", "/tickets/7") == 2

    created = {**TICKET, "requires_approval": False}
    wire.answer("POST", "/tickets", Scripted(status=201, body=created, delay=1.0))
    with pytest.raises(OutcomeUnknown) as caught:
        await client.create_ticket(AUTH, subject="Mouse", description="Broken")
    assert caught.value.status is None
    assert wire.count("POST", "/tickets") == 1


async def test_unreachable_server_is_unavailable_within_the_budget() -> None:
    with socket.socket() as probe:  # a port that was free a moment ago: connects are refused
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with HelpdeskClient(
        f"http://127.0.0.1:{port}/api", retry_budget=0.3, backoff_base=0.01, backoff_max=0.05
    ) as helpdesk:
        started = time.monotonic()
        with pytest.raises(HelpdeskUnavailable) as caught:
            await helpdesk.create_ticket(AUTH, subject="s", description="d")
        assert time.monotonic() - started < 1.0
    assert not isinstance(caught.value, OutcomeUnknown), "a refused connect never left"
    assert isinstance(caught.value.__cause__, Exception)


async def test_bad_credentials_are_an_auth_error_without_refresh(
    wire: WireServer, client: HelpdeskClient
) -> None:
    wire.answer("POST", "/auth/login", Scripted(status=401, body={"error": "Invalid username"}))
    with pytest.raises(AuthError) as caught:
        await client.login("nobody@acme.example", "wrong")
    assert caught.value.error == "Invalid username"
    assert wire.count("POST", "/auth/refresh") == 0


async def test_tokens_never_appear_in_errors(wire: WireServer, client: HelpdeskClient) -> None:
    auth = UserAuth("wire:secret", "access-SECRET", "refresh-SECRET")
    wire.answer("POST", "/auth/refresh", Scripted(status=401, body={"error": "revoked"}))
    wire.answer("GET", "/profile", Scripted(status=401, body={"error": "expired"}))
    with pytest.raises(AuthError) as caught:
        await client.get_profile(auth)
    assert "SECRET" not in str(caught.value) + repr(auth)
    assert [a for m, p, a in wire.seen if p == "/profile"] == ["Bearer access-SECRET"]
