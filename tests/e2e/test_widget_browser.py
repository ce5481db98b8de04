"""The web chat widget in Chromium, against the real `helpdesk-bot serve` (sandbox + stand-in).

Each test starts from a fresh browser context on the demo page, which embeds the widget
with the same script tag a customer uses. What is checked is what a person sees and does —
the launcher, the labelled fields, streamed text, links, buttons, focus — and, where the
widget claims an effect, what reached the helpdesk.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from playwright.async_api import Page, expect

pytest.register_assert_rewrite("tests.e2e.browser")
from tests.e2e.browser import (  # noqa: E402
    DEMO_EMAIL,
    DEMO_PASSWORD,
    BotServer,
    Widget,
)

pytest_plugins = ["tests.e2e.browser"]
pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]

VPN_QUESTION = "How do I set up the VPN?"
TICKET_REQUEST = "Please open a ticket: my VPN keeps disconnecting every 10 minutes"

# Records every length the streaming bubble's text takes, as the page sees it.
WATCH_STREAM = """() => {
  const log = document.querySelector('[role="log"]');
  window.__streamLengths = [];
  new MutationObserver(() => {
    const body = log.querySelector('.msg-assistant.streaming .body');
    if (body) window.__streamLengths.push(body.textContent.length);
  }).observe(log, {childList: true, subtree: true, characterData: true});
}"""


async def test_streamed_answer_with_source_then_ticket_then_history_after_reload(
    page: Page, bot_server: BotServer
) -> None:
    widget = Widget(page)
    await page.goto(bot_server.url + "/")
    await widget.open()
    await widget.sign_in()

    # A streamed answer: the text grows in place before the final answer replaces it.
    await widget.frame.evaluate(WATCH_STREAM)
    answer = await widget.ask(VPN_QUESTION)
    await expect(answer).to_contain_text("VPN")
    lengths: list[int] = await widget.frame.evaluate("window.__streamLengths")
    growing = sorted({n for n in lengths if n > 0})
    assert len(growing) >= 2, f"the answer was not streamed: lengths seen {lengths}"
    assert lengths == sorted(lengths), f"streamed text shrank: {lengths}"

    source = answer.locator(".sources a")
    await expect(source.first).to_have_attribute(
        "href", re.compile(rf"^{re.escape(bot_server.sandbox_url)}/helpdesk/kb/\d+$")
    )
    await expect(source.first).to_contain_text("VPN")
    await widget.screenshot("widget-open-vpn-answer.png")

    # A ticket, created only when the user presses Confirm.
    created_before = len(await _ticket_posts(bot_server))
    await widget.send(TICKET_REQUEST)
    card = widget.log.get_by_role("group", name=re.compile("ticket", re.I))
    await expect(card.get_by_role("button", name="Cancel")).to_be_visible(timeout=20_000)
    assert len(await _ticket_posts(bot_server)) == created_before, "created before Confirm"
    await card.get_by_role("button", name="Confirm").click()
    created = widget.answers.filter(has_text=re.compile(r"Created ticket #?\d+"))
    await expect(created).to_have_count(1, timeout=20_000)
    number = _ticket_number(await created.inner_text())
    posts = await _ticket_posts(bot_server)
    assert len(posts) == created_before + 1, posts
    assert await _jane_has_ticket(bot_server, number, subject_contains="VPN keeps disconnecting")

    # History survives a reload, each message once.
    await page.reload()
    await widget.open()
    await expect(widget.user_messages.filter(has_text=TICKET_REQUEST)).to_have_count(1)
    await expect(created).to_have_count(1)
    # One more round trip on the new socket: any replay still in flight lands before its answer.
    await widget.ask("thanks")
    for text in (VPN_QUESTION, TICKET_REQUEST):
        await expect(widget.user_messages.filter(has_text=text)).to_have_count(1)
    await expect(widget.answers.filter(has_text="Install GlobalProtect")).to_have_count(1)
    await expect(created).to_have_count(1)
    await expect(widget.log.get_by_text(f"ticket {number}", exact=False)).to_have_count(1)


async def _ticket_posts(server: BotServer) -> list[dict[str, Any]]:
    async with httpx.AsyncClient(timeout=5) as client:
        response = await client.get(
            f"{server.sandbox_url}/sandbox/requests",
            params={"path_prefix": "/tickets", "method": "POST"},
        )
    response.raise_for_status()
    rows: list[dict[str, Any]] = response.json()["requests"]
    return [row for row in rows if row["path"] == "/tickets" and row["status"] == 201]


def _ticket_number(text: str) -> int:
    match = re.search(r"Created ticket #?(\d+)", text)
    assert match, text
    return int(match.group(1))


async def _jane_has_ticket(server: BotServer, number: int, *, subject_contains: str) -> bool:
    api = f"{server.sandbox_url}/helpdesk/api/v1"
    async with httpx.AsyncClient(timeout=5) as client:
        login = await client.post(
            f"{api}/auth/login", json={"username": DEMO_EMAIL, "password": DEMO_PASSWORD}
        )
        login.raise_for_status()
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        listed = await client.get(
            f"{api}/tickets", params={"status": "all", "per_page": 100}, headers=headers
        )
    listed.raise_for_status()
    return any(
        ticket["ticket_number"] == number and subject_contains in ticket["subject"]
        for ticket in listed.json()["tickets"]
    )
