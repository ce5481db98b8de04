"""Sandbox auth over real HTTP: login, refresh, logout, status, cookie, expiry, profile."""

from __future__ import annotations

import httpx
import jwt

from sandbox.runner import RunningSandbox
from tests.conftest import bearer, login, login_as


async def test_login_returns_the_seed_shape(
    sandbox: RunningSandbox, sandbox_http: httpx.AsyncClient
) -> None:
    body = await login(sandbox_http, sandbox.api_base, "jane@acme.example", "demo-jane")
    assert body["success"] is True
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert body["user"] == {
        "employee_number": 42,
        "first_name": "Jane",
        "last_name": "Smith",
        "email": "jane@acme.example",
        "company_name": "Acme Corp",
    }
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["sub"] == "42" and claims["cid"] == 1 and claims["typ"] == "access"
    assert claims["exp"] - claims["iat"] == 3600 and claims["jti"]


async def test_bad_password_is_401(sandbox_http: httpx.AsyncClient) -> None:
    response = await sandbox_http.post(
        "/auth/login", json={"username": "jane@acme.example", "password": "nope"}
    )
    assert response.status_code == 401
    assert response.json() == {"error": "Invalid username or password"}


async def test_missing_token_and_garbage_token_are_401(sandbox_http: httpx.AsyncClient) -> None:
    assert (await sandbox_http.get("/profile")).status_code == 401
    response = await sandbox_http.get("/profile", headers=bearer("not-a-jwt"))
    assert response.status_code == 401
    assert "error" in response.json()


async def test_refresh_gives_a_working_access_token(
    sandbox: RunningSandbox, sandbox_http: httpx.AsyncClient
) -> None:
    body = await login(sandbox_http, sandbox.api_base, "jane@acme.example", "demo-jane")
    response = await sandbox_http.post(
        "/auth/refresh", json={"refresh_token": body["refresh_token"]}
    )
    assert response.status_code == 200
    refreshed = response.json()
    assert refreshed["success"] is True and "refresh_token" not in refreshed
    assert refreshed["access_token"] != body["access_token"]
    profile = await sandbox_http.get("/profile", headers=bearer(refreshed["access_token"]))
    assert profile.json()["email"] == "jane@acme.example"
    bad = await sandbox_http.post("/auth/refresh", json={"refresh_token": "made-up"})
    assert bad.status_code == 401


async def test_logout_revokes_refresh_and_access_token(
    sandbox: RunningSandbox, sandbox_http: httpx.AsyncClient
) -> None:
    body = await login(sandbox_http, sandbox.api_base, "jane@acme.example", "demo-jane")
    headers = bearer(body["access_token"])
    response = await sandbox_http.post(
        "/auth/logout", json={"refresh_token": body["refresh_token"]}, headers=headers
    )
    assert response.json() == {"success": True}
    again = await sandbox_http.post("/auth/refresh", json={"refresh_token": body["refresh_token"]})
    assert again.status_code == 401
    assert (await sandbox_http.get("/profile", headers=headers)).status_code == 401


async def test_status_reports_authentication(
    sandbox: RunningSandbox, sandbox_http: httpx.AsyncClient
) -> None:
    anonymous = await sandbox_http.get("/auth/status")
    assert anonymous.json() == {"authenticated": False, "user": None}
    headers = await login_as(sandbox_http, sandbox.api_base, "lee@globex.example")
    status = (await sandbox_http.get("/auth/status", headers=headers)).json()
    assert status["authenticated"] is True
    assert status["user"]["company_name"] == "Globex"


async def test_session_cookie_authenticates(sandbox: RunningSandbox) -> None:
    async with httpx.AsyncClient(base_url=sandbox.api_base) as browser:
        await login(browser, sandbox.api_base, "jane@acme.example", "demo-jane")
        assert "hd_session" in browser.cookies
        assert (await browser.get("/profile")).status_code == 200
        await browser.post("/auth/logout")
        assert (await browser.get("/profile")).status_code == 401


async def test_back_office_expire_makes_tokens_401(
    sandbox: RunningSandbox, sandbox_http: httpx.AsyncClient
) -> None:
    body = await login(sandbox_http, sandbox.api_base, "jane@acme.example", "demo-jane")
    headers = bearer(body["access_token"])
    other = await login_as(sandbox_http, sandbox.api_base, "mike@acme.example")
    expire = await sandbox_http.post(
        f"{sandbox.base_url}/sandbox/auth/expire", json={"email": "jane@acme.example"}
    )
    assert expire.status_code == 200
    assert (await sandbox_http.get("/profile", headers=headers)).status_code == 401
    assert (await sandbox_http.get("/profile", headers=other)).status_code == 200
    refreshed = await sandbox_http.post(
        "/auth/refresh", json={"refresh_token": body["refresh_token"]}
    )
    assert refreshed.status_code == 200
    await sandbox_http.post(
        f"{sandbox.base_url}/sandbox/auth/expire",
        json={"email": "jane@acme.example", "refresh": True},
    )
    gone = await sandbox_http.post("/auth/refresh", json={"refresh_token": body["refresh_token"]})
    assert gone.status_code == 401
    fresh = await login_as(sandbox_http, sandbox.api_base, "jane@acme.example")
    assert (await sandbox_http.get("/profile", headers=fresh)).status_code == 200


async def test_short_access_ttl_is_reported() -> None:
    from sandbox.runner import SandboxConfig, start_sandbox

    async with (
        start_sandbox(config=SandboxConfig(access_ttl=60)) as running,
        httpx.AsyncClient() as client,
    ):
        body = await login(client, running.api_base, "jane@acme.example", "demo-jane")
    assert body["expires_in"] == 60


async def test_profile_update_and_password_change(
    sandbox: RunningSandbox, sandbox_http: httpx.AsyncClient
) -> None:
    headers = await login_as(sandbox_http, sandbox.api_base, "jane@acme.example")
    profile = (await sandbox_http.get("/profile", headers=headers)).json()
    assert profile["permissions"]["can_create_tickets"] is True
    assert profile["permissions"]["asset_edit"] == "Read Only"
    assert profile["site_name"] == "Main Office"
    updated = await sandbox_http.put("/profile", json={"last_name": "Smith-Jones"}, headers=headers)
    assert updated.status_code == 200
    assert updated.json()["data"]["last_name"] == "Smith-Jones"
    assert (await sandbox_http.put("/profile", json={}, headers=headers)).status_code == 400
    wrong = await sandbox_http.post(
        "/profile/password",
        json={"current_password": "nope", "new_password": "long-enough-1"},
        headers=headers,
    )
    assert wrong.status_code == 400
    short = await sandbox_http.post(
        "/profile/password",
        json={"current_password": "demo-jane", "new_password": "short"},
        headers=headers,
    )
    assert short.status_code == 400 and "new_password" in short.json()["error"]
    ok = await sandbox_http.post(
        "/profile/password",
        json={"current_password": "demo-jane", "new_password": "long-enough-1"},
        headers=headers,
    )
    assert ok.json() == {"success": True}
    await login(sandbox_http, sandbox.api_base, "jane@acme.example", "long-enough-1")


async def test_oauth_discovery(sandbox_http: httpx.AsyncClient) -> None:
    providers = (await sandbox_http.get("/auth/oauth/providers")).json()
    assert [p["key"] for p in providers["providers"]] == ["google", "microsoft"]
    url = await sandbox_http.get("/auth/oauth/url", params={"provider": "google"})
    assert url.json()["data"]["provider"] == "google"
    assert url.json()["data"]["url"].startswith("https://accounts.google.com/")
    assert (
        await sandbox_http.get("/auth/oauth/url", params={"provider": "apple"})
    ).status_code == 400
    assert (await sandbox_http.get("/auth/oauth/url")).status_code == 400
