"""The widget's doors from outside: origins, cookies and cross-site posts, over real HTTP.

Every refusal is observed on the wire (status, handshake answer) and in what followed it
(no helpdesk sign-in, no session, the real user still signed in).
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

import aiohttp
from sqlalchemy import text

from adapters.web.session import hash_session
from tests.contract.test_web_support import EVIL, WebApp, web_app
from tests.security.conftest import remember_secret
from tests.security.ledger import LEDGER

__all__ = ["web_app"]

CROSS_SITE_ORIGINS = (
    EVIL,
    "null",  # sandboxed iframes, file:// pages
    "http://bot.test.evil.example",  # the allowed host as a prefix
    "http://evil.example/http://bot.test",  # as a path
    "https://bot.test",  # another scheme is another origin
    "http://bot.test:8443",  # another port is another origin
)


async def _handshake_status(web_app: WebApp, **headers: str) -> int:
    """The HTTP status of a WebSocket handshake (101 when it was upgraded)."""
    try:
        ws = await web_app.client.ws_connect("/widget/ws", headers=headers)
    except aiohttp.WSServerHandshakeError as refused:
        return refused.status
    await ws.close()
    return 101


async def _signed_in(web_app: WebApp) -> str:
    response = await web_app.sign_in()
    assert response.status == 200
    cookie = web_app.cookie()
    assert cookie is not None
    remember_secret("a widget session cookie", cookie)
    return cookie


async def test_the_socket_opens_only_for_a_live_session_from_an_allowed_origin(
    web_app: WebApp,
) -> None:
    LEDGER.outcome(
        "widget socket without a cookie", refused=await _handshake_status(web_app) == 403
    )
    cookie = await _signed_in(web_app)
    assert await _handshake_status(web_app) == 101  # the control: her own page connects
    web_app.client.session.cookie_jar.clear()

    forged = {
        "forged cookie": secrets.token_urlsafe(32),
        "cookie holding the stored hash": hash_session(cookie),
        "oversized cookie": "A" * 4000,
        "cookie with a quote": 'x"; helpdesk_widget=' + cookie[:10],
    }
    for name, value in forged.items():
        status = await _handshake_status(web_app, Cookie=f"helpdesk_widget={value}")
        LEDGER.outcome(f"widget socket with a {name}", refused=status == 403)

    real = {"Cookie": f"helpdesk_widget={cookie}"}
    for origin in CROSS_SITE_ORIGINS:
        status = await _handshake_status(web_app, Origin=origin, **real)
        LEDGER.outcome(f"widget socket from origin {origin}", refused=status == 403)
    assert not LEDGER.in_this_test(), LEDGER.in_this_test()


async def test_an_expired_session_cookie_opens_nothing(web_app: WebApp) -> None:
    cookie = await _signed_in(web_app)
    engine = web_app.services.store._engine  # the session's 14 days have passed
    async with engine.begin() as connection:
        await connection.execute(
            text("UPDATE web_sessions SET expires_at = :past WHERE session_hash = :hash"),
            {"past": datetime(2001, 1, 1, tzinfo=UTC), "hash": hash_session(cookie)},
        )

    status = await _handshake_status(web_app)
    session = await (await web_app.client.get("/widget/session")).json()

    LEDGER.outcome("widget socket with an expired session", refused=status == 403)
    LEDGER.outcome("widget status with an expired session", refused=session == {"signed_in": False})
    assert status == 403 and session == {"signed_in": False}


async def test_cross_site_requests_cannot_sign_in_out_or_read_the_config(web_app: WebApp) -> None:
    await _signed_in(web_app)
    logins_before = len(await web_app.helpdesk_requests("/auth/login", "POST"))
    attempts = {
        "sign-in from another origin": web_app.sign_in("mike@acme.example", Origin=EVIL),
        "sign-in as a cross-site form": web_app.client.post(
            "/widget/session",
            data={"email": "mike@acme.example", "password": "demo-mike"},
            headers={"Origin": EVIL},
        ),
        "sign-in as text/plain (no preflight)": web_app.client.post(
            "/widget/session",
            data='{"email": "mike@acme.example", "password": "demo-mike"}',
            headers={"Origin": "http://bot.test", "Content-Type": "text/plain"},
        ),
        "sign-out from another origin": web_app.client.delete(
            "/widget/session", headers={"Origin": EVIL}
        ),
        "config read from another origin": web_app.client.get(
            "/widget/config", headers={"Origin": EVIL}
        ),
    }
    for name, request in attempts.items():
        response = await request
        assert "Set-Cookie" not in response.headers, name
        LEDGER.outcome(f"widget {name}", refused=response.status in (403, 415))

    status = await (await web_app.client.get("/widget/session")).json()
    assert status["signed_in"] is True and status["email"] == "jane@acme.example"
    logins_after = len(await web_app.helpdesk_requests("/auth/login", "POST"))
    LEDGER.outcome(
        "widget cross-site sign-in reached the helpdesk", refused=logins_after == logins_before
    )
    assert not LEDGER.in_this_test(), LEDGER.in_this_test()


async def test_another_users_session_is_not_reachable_by_guessing(web_app: WebApp) -> None:
    """Session values are 256-bit random and only their hash is stored: a near miss fails."""
    cookie = await _signed_in(web_app)
    web_app.client.session.cookie_jar.clear()
    near_misses = [cookie[:-1] + ("A" if cookie[-1] != "A" else "B"), cookie.upper(), cookie + "x"]
    statuses = [
        await _handshake_status(web_app, Cookie=f"helpdesk_widget={value}") for value in near_misses
    ]
    LEDGER.outcome("widget socket with a near-miss cookie", refused=set(statuses) == {403})
    assert set(statuses) == {403}


async def test_a_cookie_planted_before_sign_in_is_never_adopted(web_app: WebApp) -> None:
    """Session fixation: the session after sign-in is a fresh value, whatever came before."""
    planted = secrets.token_urlsafe(32)
    response = await web_app.sign_in(Cookie=f"helpdesk_widget={planted}")
    assert response.status == 200
    issued = web_app.cookie()
    assert issued is not None
    web_app.client.session.cookie_jar.clear()
    status = await _handshake_status(web_app, Cookie=f"helpdesk_widget={planted}")
    LEDGER.outcome("widget session fixation", refused=issued != planted and status == 403)
    assert issued != planted and status == 403
