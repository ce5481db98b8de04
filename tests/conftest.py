"""Shared pytest fixtures: a fresh sandbox helpdesk per test, a threaded one per session."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import Any

import httpx
import pytest
from pydantic import AliasChoices

from bot.settings import Settings
from sandbox.runner import RunningSandbox, SandboxThread, start_sandbox

# The CI switches stay; every variable the product reads is cleared for each test.
CI_SWITCHES = frozenset({"TEST_DATABASE_URL", "REQUIRE_BROWSER"})


def _settings_variables() -> frozenset[str]:
    """Every environment name `Settings` reads (field names and aliases, upper-cased)."""
    names: set[str] = set()
    for name, field in Settings.model_fields.items():
        names.add(name.upper())
        alias = field.validation_alias
        choices = alias.choices if isinstance(alias, AliasChoices) else [alias]
        names |= {choice.upper() for choice in choices if isinstance(choice, str)}
    return frozenset(names - CI_SWITCHES)


SETTINGS_VARIABLES = _settings_variables()


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """A developer's own SLACK_*, OPENAI_*, MicrosoftApp* ... or `.env` never reach a test."""
    for name in list(os.environ):
        if name.upper() in SETTINGS_VARIABLES:
            monkeypatch.delenv(name)
    monkeypatch.setitem(Settings.model_config, "env_file", None)


@pytest.fixture
async def sandbox() -> AsyncIterator[RunningSandbox]:
    """A sandbox on a free loopback port with freshly seeded in-memory data."""
    async with start_sandbox() as running:
        yield running


@pytest.fixture(scope="session")
def sandbox_thread() -> Iterator[SandboxThread]:
    """One sandbox for the session, served from a background thread (for sync tools)."""
    with SandboxThread() as running:
        yield running


@pytest.fixture
async def sandbox_http(sandbox: RunningSandbox) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client on the sandbox API base; it keeps no cookies, so auth is per request."""
    no_cookies = CookieJar(policy=DefaultCookiePolicy(allowed_domains=[]))
    async with httpx.AsyncClient(
        base_url=sandbox.api_base, timeout=10, cookies=no_cookies
    ) as client:
        yield client


async def login(
    client: httpx.AsyncClient, api_base: str, email: str, password: str
) -> dict[str, Any]:
    """Log in over HTTP; returns the login body (access_token, refresh_token, user, ...)."""
    response = await client.post(
        f"{api_base}/auth/login", json={"username": email, "password": password}
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def bearer(token: str) -> dict[str, str]:
    """The Authorization header for an access token."""
    return {"Authorization": f"Bearer {token}"}


DEMO_PASSWORDS = {
    "jane@acme.example": "demo-jane",
    "mike@acme.example": "demo-mike",
    "sam@acme.example": "demo-sam",
    "priya@acme.example": "demo-priya",
    "lee@globex.example": "demo-lee",
    "nora@globex.example": "demo-nora",
}


async def login_as(client: httpx.AsyncClient, api_base: str, email: str) -> dict[str, str]:
    """Log a demo account in; returns its bearer header."""
    body = await login(client, api_base, email, DEMO_PASSWORDS[email])
    return bearer(body["access_token"])


pytest_plugins = ["tests.store_fixtures"]
