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
    serve_page,
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
    # Feedback buttons are drawn icons with their names, not emoji that render as empty
    # boxes where no emoji font is installed (this headless Chromium has none).
    for name in ("👍 Helpful", "👎 Not helpful"):
        button = answer.get_by_role("button", name=name)
        await expect(button.locator("svg path")).to_have_count(1)
        assert (await button.inner_text()).strip() == ""
        icon = await button.locator("svg").bounding_box()
        assert icon is not None and icon["width"] >= 12 and icon["height"] >= 12, icon
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


# --- hostile content ----------------------------------------------------------------------

KB_PAYLOAD = (
    "<img src=x onerror=window.__xss=1> <script>window.__xss=2</script> "
    "[x](javascript:window.__xss=3)"
)
USER_PAYLOAD = (
    "<img src=x onerror=window.__xss=4> <script>window.__xss=5</script> "
    "[y](javascript:window.__xss=6) <svg onload=window.__xss=7>"
)
# Runs in every frame before its own scripts: a blocked inline handler or script (the
# frame's CSP stops them) still counts as content that was parsed as HTML.
RECORD_CSP_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation",
  (e) => window.__cspViolations.push(e.violatedDirective + " " + e.sample));
"""
ACTIVE_CONTENT = r"""() => {
  const log = document.querySelector('[role="log"]');
  const all = [...document.querySelectorAll("*")];
  return {
    xss: window.__xss === undefined ? null : String(window.__xss),
    // Our own feedback icons are the only SVG the widget draws; anything else is injected.
    images: log.querySelectorAll(
      "img, iframe, object, embed, svg:not(button.feedback > svg.icon)").length,
    inlineScripts: [...document.scripts].filter((s) => !s.src).length,
    handlers: all.flatMap((el) => el.getAttributeNames().filter((a) => /^on/i.test(a))),
    scriptLinks: [...log.querySelectorAll("[href], [src]")]
      .map((el) => el.getAttribute("href") || el.getAttribute("src"))
      .filter((url) => !/^https?:/i.test(url)),
    cspViolations: window.__cspViolations || [],
  };
}"""
INERT = {
    "xss": None,
    "images": 0,
    "inlineScripts": 0,
    "handlers": [],
    "scriptLinks": [],
    "cspViolations": [],
}


async def test_html_from_a_kb_article_and_from_the_user_stays_inert_text(
    page: Page, bot_server: BotServer
) -> None:
    async with httpx.AsyncClient(timeout=5) as client:
        created = await client.post(
            f"{bot_server.sandbox_url}/sandbox/kb/articles",
            json={
                "company_number": 1,
                "title": "Zyxquartz printer calibration",
                "category": "Printing",
                "body": KB_PAYLOAD,
            },
        )
    assert created.status_code == 201, created.text
    await page.add_init_script(RECORD_CSP_VIOLATIONS)
    widget = Widget(page)
    await page.goto(bot_server.url + "/")
    await widget.open()
    await widget.sign_in()

    await widget.ask(USER_PAYLOAD)
    await expect(widget.user_messages.last).to_contain_text(USER_PAYLOAD)  # shown as typed
    answer = await widget.ask("Tell me about zyxquartz")
    await expect(answer).to_contain_text("Zyxquartz printer calibration")

    assert await widget.frame.evaluate(ACTIVE_CONTENT) == INERT
    assert await page.evaluate("window.__xss === undefined"), "the host page ran the payload"
    # The model quoted the article: its markup is on screen as text, not as elements.
    await expect(answer).to_contain_text("<img src=x onerror=")
    await expect(answer).to_contain_text("<script>")
    await expect(answer.get_by_role("link", name="x", exact=True)).to_have_count(0)


# --- origins ------------------------------------------------------------------------------


async def test_a_site_outside_the_allowed_origins_is_refused(
    page: Page, bot_server: BotServer
) -> None:
    """WIDGET_ALLOWED_ORIGINS is unset: only the bot's own origin may use the widget.

    The attacker is another app on the same host: cookies are not scoped by port, so a page
    on localhost:<other port> is same-site with the bot on localhost:<bot port>, and its
    requests carry the user's session cookie. Only the origin check refuses them.
    """
    bot = bot_server.url.replace("127.0.0.1", "localhost")
    widget = Widget(page)
    await page.goto(bot + "/")  # the bot's own origin under another name: allowed
    await widget.open()
    await widget.sign_in()  # this browser now holds a session cookie for host "localhost"

    embed = (
        "<!doctype html><title>Elsewhere</title><h1>Another site</h1>\n"
        f'<script src="{bot}/widget.js" async></script>'
    )
    with serve_page(embed) as foreign:
        async with page.expect_response(f"{bot}/widget/config") as config:
            await page.goto(foreign + "/")
        assert (await config.value).status == 403

        await widget.open()
        await expect(widget.dialog).to_contain_text("not allowed")
        await expect(widget.dialog.locator("iframe")).to_have_count(0)

        # The page's own scripts can neither open the chat socket with the user's cookie...
        async with page.expect_console_message(lambda m: "/widget/ws" in m.text) as logged:
            await page.evaluate(
                """(url) => {
                  const socket = new WebSocket(url);
                  socket.onopen = () => { window.__socket = "open"; };
                  socket.onerror = () => { window.__socket = "refused"; };
                }""",
                f"{bot.replace('http', 'ws', 1)}/widget/ws",
            )
            await page.wait_for_function("window.__socket !== undefined")
            outcome = await page.evaluate("window.__socket")
            assert outcome == "refused", "a page on another origin opened the chat socket"
        assert "Unexpected response code: 403" in (await logged.value).text

        # ...nor sign anyone in: a text/plain POST needs no CORS preflight, and "no-cors"
        # means the page cannot read the answer, so the test reads it from the network.
        async with page.expect_response(f"{bot}/widget/session") as session:
            await page.evaluate(
                """([url, body]) => fetch(url, {method: "POST", body, mode: "no-cors",
                    credentials: "include", headers: {"Content-Type": "text/plain"}})""",
                [f"{bot}/widget/session", _credentials_json()],
            )
        refused = await session.value
        assert (await refused.request.all_headers()).get("referer", "").startswith(foreign)
        # 403 is the origin check: past it, a text/plain body would get 415.
        assert refused.status == 403


def _credentials_json() -> str:
    return f'{{"email": "{DEMO_EMAIL}", "password": "{DEMO_PASSWORD}"}}'


# --- accessibility ------------------------------------------------------------------------


async def test_keyboard_only(page: Page, bot_server: BotServer) -> None:
    widget = Widget(page)
    await page.goto(bot_server.url + "/")
    await expect(widget.launcher).to_be_visible()
    for _ in range(30):
        await page.keyboard.press("Tab")
        if await widget.launcher.evaluate("(el) => el.getRootNode().activeElement === el"):
            break
    else:
        pytest.fail("Tab never reached the chat launcher")

    await page.keyboard.press("Enter")
    await expect(widget.launcher).to_have_attribute("aria-expanded", "true")
    email = widget.panel.get_by_label("Email", exact=True)
    await expect(email).to_be_focused()
    await page.keyboard.type(DEMO_EMAIL)
    await page.keyboard.press("Tab")
    await page.keyboard.type(DEMO_PASSWORD)
    await page.keyboard.press("Enter")
    await expect(widget.message_box).to_be_focused()

    await page.keyboard.type(VPN_QUESTION)
    await page.keyboard.press("Enter")
    await expect(widget.user_messages.filter(has_text=VPN_QUESTION)).to_have_count(1)
    await expect(widget.message_box).to_have_value("")
    await expect(widget.answers).to_have_count(1, timeout=20_000)

    await page.keyboard.press("Escape")
    await expect(widget.launcher).to_have_attribute("aria-expanded", "false")
    await expect(widget.dialog).to_be_hidden()
    assert await widget.launcher.evaluate("(el) => el.getRootNode().activeElement === el"), (
        "focus did not return to the launcher"
    )


async def test_panel_fits_a_360px_wide_screen(page: Page, bot_server: BotServer) -> None:
    width, height = 360, 640
    await page.set_viewport_size({"width": width, "height": height})
    widget = Widget(page)
    await page.goto(bot_server.url + "/")
    overflow = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    host_overflow = await page.evaluate(overflow)  # the demo page's own layout
    await widget.open()
    await widget.sign_in()
    await widget.ask(VPN_QUESTION)  # a long answer with a numbered list and links

    for name, locator in {
        "panel": widget.dialog,
        "message box": widget.message_box,
        "Send": widget.send_button,
        "answer": widget.answers.last,
    }.items():
        box = await locator.bounding_box()
        assert box is not None, f"{name} is not rendered"
        assert box["x"] >= 0 and box["x"] + box["width"] <= width + 0.5, (name, box)
        if name != "answer":  # the transcript scrolls; the controls must be on screen
            assert box["y"] >= 0 and box["y"] + box["height"] <= height + 0.5, (name, box)
    assert await widget.frame.evaluate(overflow) <= 0, "the panel scrolls sideways"
    assert await page.evaluate(overflow) <= host_overflow, "the widget widened the host page"
    await widget.screenshot("widget-open-360px.png")


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
