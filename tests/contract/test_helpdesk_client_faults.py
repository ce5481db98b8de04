"""HelpdeskClient under injected faults: token refresh, 429, 5xx, timeouts, retry bounds.

Faults and expired tokens come from the sandbox's back office; what reached the server is
read from its request log, so every assertion is about what crossed the wire.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import httpx
import pytest

from bot.helpdesk import HelpdeskClient, UserAuth
from bot.helpdesk.errors import (
    HelpdeskUnavailable,
    OutcomeUnknown,
    RateLimited,
    ReauthRequired,
    ServerError,
)

JANE = ("jane@acme.example", "demo-jane")


@pytest.fixture
async def backoffice(sandbox: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=sandbox.base_url, timeout=5.0) as http:
        yield http


@pytest.fixture
async def helpdesk(sandbox: Any) -> AsyncIterator[HelpdeskClient]:
    async with HelpdeskClient(
        sandbox.api_base, retry_budget=2.0, backoff_base=0.01, backoff_max=0.1
    ) as client:
        yield client


@pytest.fixture
async def jane(helpdesk: HelpdeskClient) -> UserAuth:
    login = await helpdesk.login(*JANE)
    return UserAuth("test:jane", login.access_token, login.refresh_token)


async def inject(backoffice: httpx.AsyncClient, **fault: Any) -> None:
    response = await backoffice.post("/sandbox/faults", json={"rate": 1, **fault})
    assert response.status_code < 300, response.text


async def seen(backoffice: httpx.AsyncClient, method: str, path: str) -> int:
    """How many requests with exactly this method and API path reached the sandbox."""
    response = await backoffice.get(
        "/sandbox/requests", params={"path_prefix": path, "method": method}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    entries = body["requests"] if isinstance(body, dict) else body
    return sum(1 for e in entries if e["method"] == method and e["path"].endswith(path))


async def expire(backoffice: httpx.AsyncClient, *, refresh: bool) -> None:
    response = await backoffice.post(
        "/sandbox/auth/expire", json={"email": JANE[0], "refresh": refresh}
    )
    assert response.status_code < 300, response.text


# --- 401 and token refresh -------------------------------------------------------------


async def test_expired_token_is_refreshed_once_and_persisted(
    sandbox: Any, backoffice: httpx.AsyncClient
) -> None:
    persisted: list[str] = []

    async def persist(auth: UserAuth) -> None:
        persisted.append(auth.access_token)

    async with HelpdeskClient(sandbox.api_base, on_tokens_refreshed=persist) as helpdesk:
        login = await helpdesk.login(*JANE)
        auth = UserAuth("test:jane", login.access_token, login.refresh_token)
        await expire(backoffice, refresh=False)
        profile = await helpdesk.get_profile(auth)
    assert profile.email == JANE[0]
    assert auth.access_token != login.access_token and auth.refresh_token == login.refresh_token
    assert persisted == [auth.access_token]
    assert await seen(backoffice, "POST", "/auth/refresh") == 1
    assert await seen(backoffice, "GET", "/profile") == 2


async def test_refresh_is_single_flight_for_fifty_concurrent_calls(
    helpdesk: HelpdeskClient, jane: UserAuth, backoffice: httpx.AsyncClient
) -> None:
    await expire(backoffice, refresh=False)
    # Half share one holder; half hold their own copy, as calls loaded from a vault would.
    holders = [jane if i % 2 else replace(jane) for i in range(50)]
    pages = await asyncio.gather(*(helpdesk.list_tickets(h, limit=1) for h in holders))
    assert len(pages) == 50 and all(p.tickets for p in pages)
    assert await seen(backoffice, "POST", "/auth/refresh") == 1
    assert len({h.access_token for h in holders}) == 1


async def test_revoked_refresh_token_raises_reauth_required(
    helpdesk: HelpdeskClient, jane: UserAuth, backoffice: httpx.AsyncClient
) -> None:
    await expire(backoffice, refresh=True)
    with pytest.raises(ReauthRequired) as caught:
        await helpdesk.list_tickets(jane)
    assert caught.value.user_key == "test:jane"
    assert (caught.value.method, caught.value.path) == ("GET", "/tickets")
    assert await seen(backoffice, "POST", "/auth/refresh") == 1


async def test_a_create_refused_with_401_is_repeated_after_refresh(
    helpdesk: HelpdeskClient, jane: UserAuth, backoffice: httpx.AsyncClient
) -> None:
    await expire(backoffice, refresh=False)
    created = await helpdesk.create_ticket(jane, subject="Webcam", description="No picture")
    found = await helpdesk.find_ticket_by_number(jane, created.ticket_number)
    assert found is not None and found.subject == "Webcam"
    assert await seen(backoffice, "POST", "/tickets") == 2  # the 401 and the real one


# --- 429 -------------------------------------------------------------------------------


async def test_429_retry_after_is_honoured(
    helpdesk: HelpdeskClient, jane: UserAuth, backoffice: httpx.AsyncClient
) -> None:
    await inject(backoffice, status=429, path_prefix="/job-types", count=1, retry_after=1)
    started = time.monotonic()
    job_types = await helpdesk.job_types(jane)
    waited = time.monotonic() - started
    assert job_types
    assert await seen(backoffice, "GET", "/job-types") == 2
    assert waited >= 0.9, "the backoff alone (<= 0.1 s) would have been shorter"


async def test_429_is_retried_even_for_a_create(
    helpdesk: HelpdeskClient, jane: UserAuth, backoffice: httpx.AsyncClient
) -> None:
    await inject(backoffice, status=429, path_prefix="/tickets", method="POST", count=1)
    created = await helpdesk.create_ticket(jane, subject="Headset", description="Crackles")
    assert created.ticket_number
    assert await seen(backoffice, "POST", "/tickets") == 2
    mine = await helpdesk.list_tickets(jane, limit=100)
    assert [t.subject for t in mine.tickets].count("Headset") == 1


async def test_retry_after_beyond_the_budget_raises_rate_limited_at_once(
    helpdesk: HelpdeskClient, jane: UserAuth, backoffice: httpx.AsyncClient
) -> None:
    await inject(backoffice, status=429, path_prefix="/outages", retry_after=30)
    started = time.monotonic()
    with pytest.raises(RateLimited) as caught:
        await helpdesk.outages(jane)
    assert time.monotonic() - started < 1.0
    assert (caught.value.status, caught.value.retry_after) == (429, 30.0)
    assert await seen(backoffice, "GET", "/outages") == 1


# --- 5xx -------------------------------------------------------------------------------


async def test_503_is_retried_for_a_get_within_the_budget(
    helpdesk: HelpdeskClient, jane: UserAuth, backoffice: httpx.AsyncClient
) -> None:
    await inject(backoffice, status=503, path_prefix="/outages", count=2)
    outages = await helpdesk.outages(jane)
    assert outages.outages
    assert await seen(backoffice, "GET", "/outages") == 3


@pytest.mark.parametrize("status", [502, 503, 504])
async def test_budget_exhausted_raises_unavailable(
    sandbox: Any, jane: UserAuth, backoffice: httpx.AsyncClient, status: int
) -> None:
    await inject(backoffice, status=status, path_prefix="/kb/articles")
    async with HelpdeskClient(
        sandbox.api_base, retry_budget=0.3, backoff_base=0.02, backoff_max=0.05
    ) as impatient:
        started = time.monotonic()
        with pytest.raises(HelpdeskUnavailable) as caught:
            await impatient.search_kb(jane, search="vpn")
        elapsed = time.monotonic() - started
    assert type(caught.value) is HelpdeskUnavailable and caught.value.status == status
    assert elapsed < 1.0
    assert await seen(backoffice, "GET", "/kb/articles") > 2


@pytest.mark.parametrize("status", [502, 504])
async def test_a_gateway_error_on_a_create_is_outcome_unknown_and_not_retried(
    helpdesk: HelpdeskClient, jane: UserAuth, backoffice: httpx.AsyncClient, status: int
) -> None:
    await inject(backoffice, status=status, path_prefix="/tickets", method="POST", count=1)
    with pytest.raises(OutcomeUnknown) as caught:
        await helpdesk.create_ticket(jane, subject="Keyboard", description="Sticky keys")
    assert (caught.value.status, caught.value.method) == (status, "POST")
    assert await seen(backoffice, "POST", "/tickets") == 1


async def test_503_on_a_create_is_retried_because_nothing_was_written(
    helpdesk: HelpdeskClient, jane: UserAuth, backoffice: httpx.AsyncClient
) -> None:
    await inject(backoffice, status=503, path_prefix="/tickets", method="POST", count=1)
    await helpdesk.create_ticket(jane, subject="Keyboard", description="Sticky keys")
    assert await seen(backoffice, "POST", "/tickets") == 2
    assert await titled(helpdesk, jane, "Keyboard") == 1


async def test_500_is_a_server_error_and_never_retried(
    helpdesk: HelpdeskClient, jane: UserAuth, backoffice: httpx.AsyncClient
) -> None:
    await inject(backoffice, status=500, path_prefix="/tickets", count=2)
    with pytest.raises(ServerError) as on_post:
        await helpdesk.create_ticket(jane, subject="Monitor", description="Flickers")
    assert (on_post.value.status, on_post.value.path) == (500, "/tickets")
    with pytest.raises(ServerError):
        await helpdesk.list_tickets(jane)
    assert await seen(backoffice, "POST", "/tickets") == 1
    assert await seen(backoffice, "GET", "/tickets") == 1


# --- timeouts --------------------------------------------------------------------------


async def test_read_timeout_on_create_is_outcome_unknown_and_sent_once(
    sandbox: Any, jane: UserAuth, backoffice: httpx.AsyncClient
) -> None:
    await inject(backoffice, latency_ms=800, path_prefix="/tickets", method="POST", count=1)
    async with HelpdeskClient(
        sandbox.api_base, read_timeout=0.2, retry_budget=2.0, backoff_base=0.01
    ) as hasty:
        with pytest.raises(OutcomeUnknown) as caught:
            await hasty.create_ticket(jane, subject="Laptop fan", description="Loud")
        assert caught.value.status is None
        # The sandbox logs a request when it has answered it; the slow one still runs.
        await eventually(backoffice, "POST", "/tickets", count=1)
        assert await titled(hasty, jane, "Laptop fan") == 1
    assert await seen(backoffice, "POST", "/tickets") == 1


async def eventually(
    backoffice: httpx.AsyncClient, method: str, path: str, *, count: int, within: float = 5.0
) -> None:
    """Wait, with a deadline, until the sandbox has answered ``count`` such requests."""
    async with asyncio.timeout(within):
        while await seen(backoffice, method, path) < count:  # noqa: ASYNC110 - another process
            await asyncio.sleep(0.02)


async def titled(helpdesk: HelpdeskClient, auth: UserAuth, subject: str) -> int:
    page = await helpdesk.list_tickets(auth, limit=100)
    return sum(1 for t in page.tickets if t.subject == subject)


async def test_read_timeout_on_a_get_is_retried(
    sandbox: Any, jane: UserAuth, backoffice: httpx.AsyncClient
) -> None:
    await inject(backoffice, latency_ms=800, path_prefix="/features", count=1)
    async with HelpdeskClient(
        sandbox.api_base, read_timeout=0.2, retry_budget=2.0, backoff_base=0.01
    ) as hasty:
        features = await hasty.features(jane)
    assert features.modules.tickets
    # The sandbox logs the slow first request only when it has finished answering it.
    await eventually(backoffice, "GET", "/features", count=2)
    assert await seen(backoffice, "GET", "/features") == 2
