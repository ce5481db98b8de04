"""The account-link page in a browser: a Slack user links their helpdesk account once.

The link is signed in this process with the server's own `BOT_SECRET_KEY` (the fixture
starts the server with a known one), exactly as the engine would issue it for an unlinked
Slack user; what the test checks is what the person sees and what the server stored.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from playwright.async_api import Page, expect

from bot.linking import LinkTokens
from bot.store.store import Store

pytest.register_assert_rewrite("tests.e2e.browser")
from tests.e2e.browser import DEMO_EMAIL, DEMO_NAME, DEMO_PASSWORD, BotServer  # noqa: E402

pytest_plugins = ["tests.e2e.browser"]
pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]


@pytest_asyncio.fixture(loop_scope="session")
async def store(bot_server: BotServer) -> AsyncIterator[Store]:
    """The server's own database (the server created and migrated it)."""
    opened = await Store.open(bot_server.database_url, upgrade=False)
    try:
        yield opened
    finally:
        await opened.aclose()


def slack_user() -> str:
    return f"T0E2E:U{secrets.token_hex(4).upper()}"


def issue_link(server: BotServer, store: Store, user_key: str) -> str:
    links = LinkTokens(store=store, secret=server.secret_key, public_url=server.url)
    return links.issue_url(channel="slack", user_key=user_key, display_name="jane.smith")


async def submit(page: Page, *, username: str, password: str) -> None:
    """Fill the form by its labels and check they are the inputs the contract names."""
    email, secret = page.get_by_label("Email", exact=True), page.get_by_label("Password")
    await expect(email).to_have_attribute("name", "username")
    await expect(secret).to_have_attribute("name", "password")
    await expect(secret).to_have_attribute("type", "password")
    await email.fill(username)
    await secret.fill(password)
    await page.get_by_role("button", name="Sign in").click()


async def test_link_page_links_a_slack_user_once(
    page: Page, bot_server: BotServer, store: Store
) -> None:
    user_key = slack_user()
    url = issue_link(bot_server, store, user_key)
    assert url.startswith(f"{bot_server.url}/link/")

    response = await page.goto(url)
    assert response is not None and response.status == 200
    await submit(page, username=DEMO_EMAIL, password="not-the-password")
    await expect(page.get_by_role("alert")).to_contain_text("didn't match")
    assert await store.get_identity("slack", user_key) is None, "a wrong password linked"

    # A wrong password does not spend the link: the form is there to try again.
    await submit(page, username=DEMO_EMAIL, password=DEMO_PASSWORD)
    await expect(page.get_by_role("status")).to_contain_text(f"linked as {DEMO_NAME}")
    identity = await store.get_identity("slack", user_key)
    assert identity is not None, "the page said linked but no identity was stored"

    response = await page.goto(url)  # the same link again: refused, with no form
    assert response is not None and response.status == 410
    await expect(page.get_by_role("heading", level=1)).to_have_text(re.compile("already been used"))
    await expect(page.locator("input[name=password]")).to_have_count(0)


async def test_tampered_link_is_refused(page: Page, bot_server: BotServer, store: Store) -> None:
    url = issue_link(bot_server, store, slack_user())
    head, _, signature = url.rpartition(".")
    tampered = f"{head}.{signature[::-1]}"

    response = await page.goto(tampered)
    assert response is not None and response.status == 400, "a tampered link was not refused"
    await expect(page.get_by_role("heading", level=1)).to_have_text(re.compile("isn't valid"))
    await expect(page.locator("input[name=password]")).to_have_count(0)
