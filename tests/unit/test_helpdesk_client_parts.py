"""The Helpdesk client's pure parts: Retry-After, backoff, status mapping, unwrapping, renewal."""

from __future__ import annotations

import asyncio
from email.utils import formatdate

import pytest

from bot.helpdesk import UserAuth
from bot.helpdesk.credentials import TokenRefresher
from bot.helpdesk.errors import (
    AuthError,
    Conflict,
    HelpdeskError,
    HelpdeskUnavailable,
    NotFound,
    PermissionDenied,
    RateLimited,
    ReauthRequired,
    ServerError,
    ValidationFailed,
    error_for_status,
)
from bot.helpdesk.models import TokenRefresh, unwrap
from bot.helpdesk.transport import RetryPolicy, parse_retry_after


@pytest.mark.parametrize(
    ("header", "expected"),
    [("3", 3.0), (" 1.5 ", 1.5), ("-4", 0.0), ("", None), (None, None), ("soon", None)],
)
def test_retry_after_delta_seconds(header: str | None, expected: float | None) -> None:
    assert parse_retry_after(header) == expected


def test_retry_after_http_date() -> None:
    now = 1_800_000_000.0
    assert parse_retry_after(formatdate(now + 120, usegmt=True), now=now) == pytest.approx(120)
    assert parse_retry_after(formatdate(now - 120, usegmt=True), now=now) == 0.0


def test_backoff_is_full_jitter_under_an_exponential_ceiling() -> None:
    policy = RetryPolicy(backoff_base=0.5, backoff_max=4.0)
    for attempt, ceiling in [(0, 0.5), (1, 1.0), (2, 2.0), (3, 4.0), (9, 4.0)]:
        delays = [policy.backoff(attempt) for _ in range(200)]
        assert all(0.0 <= delay <= ceiling for delay in delays)
        assert max(delays) > ceiling / 2, "jitter spreads over the whole range"


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (400, ValidationFailed),
        (401, AuthError),
        (403, PermissionDenied),
        (404, NotFound),
        (409, Conflict),
        (413, ValidationFailed),
        (422, ValidationFailed),
        (429, RateLimited),
        (500, ServerError),
        (502, HelpdeskUnavailable),
        (503, HelpdeskUnavailable),
        (504, HelpdeskUnavailable),
        (507, ServerError),
        (302, HelpdeskError),
    ],
)
def test_status_mapping(status: int, expected: type[HelpdeskError]) -> None:
    error = error_for_status(status, method="GET", path="/x", error="why")
    assert type(error) is expected
    assert (error.status, error.method, error.path, error.error) == (status, "GET", "/x", "why")
    assert "GET /x" in str(error) and "why" in str(error)


def test_unwrap_accepts_both_shapes() -> None:
    flat = {"ticket_id": 1}
    assert unwrap({"success": True, "data": flat}) == flat
    assert unwrap(flat) is flat
    assert unwrap({"success": False, "data": flat}) == {"success": False, "data": flat}
    assert unwrap([1]) == [1]


class CountingExchange:
    """Stands in for POST /auth/refresh: counts calls, can refuse, yields to other tasks."""

    def __init__(self, *, refuse: bool = False) -> None:
        self.calls = 0
        self.refuse = refuse

    async def __call__(self, refresh_token: str) -> TokenRefresh:
        self.calls += 1
        await asyncio.sleep(0)  # let every waiting task pile up on the lock meanwhile
        if self.refuse:
            raise AuthError("revoked", method="POST", path="/auth/refresh", status=401)
        return TokenRefresh(access_token=f"access-{self.calls + 1}", expires_in=3600)


async def test_one_refresh_for_many_holders_of_the_same_rejected_token() -> None:
    exchange = CountingExchange()
    persisted: list[str] = []

    async def persist(auth: UserAuth) -> None:
        persisted.append(auth.access_token)

    refresher = TokenRefresher(exchange, on_refreshed=persist)
    holders = [UserAuth("u1", "access-1", "refresh-1") for _ in range(50)]
    await asyncio.gather(
        *(refresher.renew(h, rejected="access-1", method="GET", path="/x") for h in holders)
    )
    assert exchange.calls == 1
    assert {h.access_token for h in holders} == {"access-2"}
    assert persisted == ["access-2"]


async def test_a_newly_rejected_token_refreshes_again() -> None:
    exchange = CountingExchange()
    refresher = TokenRefresher(exchange)
    auth = UserAuth("u1", "access-1", "refresh-1")
    await refresher.renew(auth, rejected="access-1", method="GET", path="/x")
    await refresher.renew(auth, rejected="access-2", method="GET", path="/x")
    assert exchange.calls == 2
    assert auth.access_token == "access-3"


async def test_refused_refresh_raises_reauth_once_for_all_waiters() -> None:
    exchange = CountingExchange(refuse=True)
    refresher = TokenRefresher(exchange)
    holders = [UserAuth("u1", "access-1", "refresh-1") for _ in range(10)]
    results = await asyncio.gather(
        *(refresher.renew(h, rejected="access-1", method="GET", path="/x") for h in holders),
        return_exceptions=True,
    )
    assert all(isinstance(r, ReauthRequired) and r.user_key == "u1" for r in results)
    assert exchange.calls == 1


async def test_no_refresh_token_means_reauth_without_a_call() -> None:
    exchange = CountingExchange()
    with pytest.raises(ReauthRequired) as caught:
        await TokenRefresher(exchange).renew(
            UserAuth("u2", "access-1"), rejected="access-1", method="GET", path="/x"
        )
    assert exchange.calls == 0
    assert caught.value.user_key == "u2"


async def test_a_failing_persist_callback_does_not_fail_the_call() -> None:
    async def broken(auth: UserAuth) -> None:
        raise RuntimeError("vault down")

    auth = UserAuth("u3", "access-1", "refresh-1")
    await TokenRefresher(CountingExchange(), on_refreshed=broken).renew(
        auth, rejected="access-1", method="GET", path="/x"
    )
    assert auth.access_token == "access-2"


def test_user_auth_repr_hides_tokens() -> None:
    assert "secret" not in repr(UserAuth("u", "secret-access", "secret-refresh"))
