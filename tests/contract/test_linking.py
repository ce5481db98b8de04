"""The account-link pages over real HTTP: the bot's app (link pages mounted) on a test server,
the real services built from settings, the sandbox as the helpdesk.

What is asserted is what the browser got (status, headers, the form's fields, the page's
text), what reached the helpdesk (the sandbox's request log), what the database holds (the
raw identity row) and what the channel was told (`on_linked` listeners).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import logging
import re
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass, field
from html import unescape
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from aiohttp.test_utils import TestClient, TestServer
from pydantic import SecretStr

from adapters.channel import link_page_url
from adapters.compose import STAND_IN_MODEL, Services, build_services
from adapters.linking import handlers as linking
from adapters.linking.pages import CSRF_FIELD, safe_link
from adapters.server import TASKS, create_app
from bot.helpdesk.errors import AuthError
from bot.identity import TokenVault
from bot.linking import LINK_TTL_S, Linked, LinkError, LinkTokens
from bot.messages import Inbound, LinkRequired, Message
from bot.settings import Settings
from bot.store.store import Store
from sandbox.runner import RunningSandbox
from tests.conftest import DEMO_PASSWORDS
from tests.contract.engine_harness import Harness, HarnessFactory, harness_factory
from tests.fakes.scripted_model import Reply as Step

PUBLIC_URL = "http://bot.test"
SECRET = "link-test-secret"
JANE, JANE_PASSWORD = "jane@acme.example", DEMO_PASSWORDS["jane@acme.example"]
SLACK_USER = "slack:T01:U02JANE"
DEADLINE_S = 10.0


# --- fixtures ----------------------------------------------------------------------------


@pytest.fixture
async def services(sandbox: RunningSandbox, tmp_path: Path) -> AsyncIterator[Services]:
    settings = Settings(
        _env_file=None,
        helpdesk_base_url=sandbox.api_base,
        openai_api_key=None,
        openai_base_url=f"{sandbox.base_url}/v1",
        llm_model=STAND_IN_MODEL,
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
        bot_secret_key=SecretStr(SECRET),
        bot_public_url=PUBLIC_URL,
    )
    async with build_services(settings, model_stream_delay_s=0) as built:
        yield built


@dataclass
class Announcements:
    """An `on_linked` listener that records what the channel would be told."""

    seen: list[Linked] = field(default_factory=list)

    async def __call__(self, linked: Linked) -> None:
        self.seen.append(linked)


@dataclass
class Bot:
    client: TestClient  # type: ignore[type-arg]
    services: Services
    sandbox: RunningSandbox
    announced: Announcements
    db_path: Path

    def link_path(self, **claims: Any) -> str:
        url = self.services.links.issue_url(
            channel="slack",
            user_key=SLACK_USER,
            conversation_key="D01:1700000000.000100",
            pending_message_id=claims.pop("pending_message_id", 7),
            display_name=claims.pop("display_name", "Jane"),
            **claims,
        )
        assert url.startswith(f"{PUBLIC_URL}/link/")
        return urlsplit(url).path

    async def open(self, path: str) -> Page:
        response = await self.client.get(path)
        return Page.of(response.status, dict(response.headers), await response.text())

    async def sign_in(
        self, path: str, page: Page, *, password: str = JANE_PASSWORD, **extra: str
    ) -> Page:
        form = {"username": JANE, "password": password, CSRF_FIELD: page.csrf} | extra
        response = await self.client.post(path, data=form)
        return Page.of(response.status, dict(response.headers), await response.text())

    async def settled(self) -> list[Linked]:
        """Every announcement once the background work the pages started has finished."""
        await self.client.app[TASKS].drain(grace_s=DEADLINE_S)
        return self.announced.seen

    async def helpdesk_logins(self) -> int:
        async with httpx.AsyncClient(timeout=DEADLINE_S) as http:
            response = await http.get(
                f"{self.sandbox.base_url}/sandbox/requests",
                params={"path_prefix": "/auth/login", "method": "POST"},
            )
        return len(response.json()["requests"])

    def csrf_nonce(self, path: str) -> str:
        cookies = self.client.session.cookie_jar.filter_cookies(self.client.make_url(path))
        return cookies[linking.CSRF_COOKIE].value


@pytest.fixture
async def bot(services: Services, sandbox: RunningSandbox, tmp_path: Path) -> AsyncIterator[Bot]:
    announced = Announcements()
    services.links.on_linked(announced)

    async def link_page(inbound: Inbound, message_id: int) -> str:
        return link_page_url(services.for_channels(), inbound, message_id)

    services.sign_in.register("slack", link_page)  # what the Slack channel registers
    app = create_app(services, channels=[])
    async with TestClient(TestServer(app)) as client:
        yield Bot(client, services, sandbox, announced, tmp_path / "bot.db")


# --- reading pages -----------------------------------------------------------------------


@dataclass
class Page:
    """What the browser got, with the parts a user interacts with picked out."""

    status: int
    headers: dict[str, str]
    html: str
    inputs: dict[str, dict[str, str]] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)  # input id -> label text
    providers: dict[str, str] = field(default_factory=dict)  # button text -> href
    alerts: list[str] = field(default_factory=list)
    buttons: list[str] = field(default_factory=list)
    heading: str = ""

    @classmethod
    def of(cls, status: int, headers: dict[str, str], html: str) -> Page:
        page = cls(status=status, headers=headers, html=html)
        _PageReader(page).feed(html)
        return page

    @property
    def csrf(self) -> str:
        return self.inputs[CSRF_FIELD]["value"]

    @property
    def text(self) -> str:
        return " ".join(unescape(re.sub(r"<[^>]+>", " ", self.html)).split())


class _PageReader(HTMLParser):
    def __init__(self, page: Page) -> None:
        super().__init__()
        self._page = page
        self._open: list[tuple[str, dict[str, str]]] = []
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = {key: value or "" for key, value in attrs}
        if tag == "input":
            self._page.inputs[named.get("name", "")] = named
        elif tag in ("label", "a", "p", "button", "h1"):
            self._open.append((tag, named))
            self._text = []

    def handle_data(self, data: str) -> None:
        self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if not self._open or self._open[-1][0] != tag:
            return
        _, attrs = self._open.pop()
        text = " ".join("".join(self._text).split())
        page = self._page
        if tag == "label":
            page.labels[attrs.get("for", "")] = text
        elif tag == "a" and "provider" in attrs.get("class", ""):
            page.providers[text] = attrs["href"]
        elif attrs.get("role") == "alert":
            page.alerts.append(text)
        elif tag == "button":
            page.buttons.append(text)
        elif tag == "h1":
            page.heading = text


# --- the form ----------------------------------------------------------------------------


async def test_the_link_page_is_a_sign_in_form_with_csrf_and_provider_buttons(bot: Bot) -> None:
    path = bot.link_path()
    page = await bot.open(path)

    assert page.status == 200
    assert page.inputs["username"]["id"] == "username" and page.labels["username"] == "Email"
    assert page.inputs["password"]["type"] == "password" and page.labels["password"] == "Password"
    assert page.inputs[CSRF_FIELD]["type"] == "hidden" and len(page.csrf) >= 32
    assert page.buttons == ["Sign in"]
    assert bot.services.tenant_name in page.text
    assert "Slack" in page.text and "Hi Jane" in page.text
    # The helpdesk's providers, each pointing at its authorization URL with our callback.
    assert set(page.providers) == {"Continue with Google", "Continue with Microsoft"}
    google = urlsplit(page.providers["Continue with Google"])
    assert google.netloc == "accounts.google.com"
    assert parse_qs(google.query)["redirect_uri"] == [f"{PUBLIC_URL}{path}/oauth"]
    # The CSRF cookie: HttpOnly, SameSite=Strict, scoped to this link.
    cookie = page.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and f"Path={path}" in cookie
    assert bot.csrf_nonce(path) not in page.html


async def test_pages_are_self_contained_and_carry_security_headers(bot: Bot) -> None:
    page = await bot.open(bot.link_path())

    csp = page.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert page.headers["Cache-Control"] == "no-store"
    assert page.headers["X-Frame-Options"] == "DENY"
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert "<script" not in page.html and "<link" not in page.html
    # The inline style is allowed by its hash, so the browser actually applies it.
    [style] = re.findall(r"<style>(.*?)</style>", page.html, flags=re.S)
    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    assert f"'sha256-{digest}'" in csp


async def test_text_from_outside_is_escaped_and_only_web_links_become_buttons(bot: Bot) -> None:
    page = await bot.open(bot.link_path(display_name='<img src=x onerror="alert(1)">'))

    assert "<img" not in page.html and "&lt;img src=x" in page.html
    assert safe_link("https://login.example/authorize?x=1")
    assert not safe_link("javascript:alert(1)") and not safe_link("data:text/html,hi")


# --- signing in --------------------------------------------------------------------------


async def test_a_wrong_password_shows_the_form_again_and_the_link_still_works(
    bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    path = bot.link_path()
    first = await bot.open(path)

    refused = await bot.sign_in(path, first, password="not-her-password")

    assert refused.status == 200
    assert refused.alerts and "didn't match" in refused.alerts[0]
    assert refused.inputs["username"]["value"] == JANE
    assert "value" not in refused.inputs["password"], "a password is never echoed back"
    assert "not-her-password" not in refused.html
    assert bot.announced.seen == [] and len(bot.client.app[TASKS]) == 0

    linked = await bot.sign_in(path, refused)  # the re-rendered form's fresh CSRF field

    assert linked.status == 200, linked.text
    assert "You're linked as Jane Smith" in linked.text
    assert "return to Slack" in linked.text
    # No password anywhere in the logs (DEBUG, every library); no email in ours.
    assert "not-her-password" not in caplog.text and JANE_PASSWORD not in caplog.text
    ours = [r.getMessage() for r in caplog.records if r.name.startswith(("adapters", "bot"))]
    assert any("sign-in refused" in message for message in ours)
    assert not any(JANE in message for message in ours)


async def test_success_stores_the_tokens_encrypted_and_tells_the_channel_once(bot: Bot) -> None:
    path = bot.link_path(pending_message_id=42)
    page = await bot.sign_in(path, await bot.open(path))
    assert page.status == 200 and "You're linked as Jane Smith" in page.text

    with sqlite3.connect(bot.db_path) as db:
        sealed_access, sealed_refresh = db.execute(
            "SELECT access_token, refresh_token FROM identities "
            "WHERE channel = 'slack' AND channel_user_id = ?",
            (SLACK_USER,),
        ).fetchone()
    vault = TokenVault(bot.services.store, SECRET)
    access = vault.open(sealed_access)
    assert access is not None and vault.open(sealed_refresh)
    assert access.encode() not in sealed_access and not sealed_access.startswith(b"eyJ")
    async with httpx.AsyncClient(timeout=DEADLINE_S) as http:  # it is the helpdesk's token
        profile = await http.get(
            f"{bot.sandbox.api_base}/profile", headers={"Authorization": f"Bearer {access}"}
        )
    assert profile.json()["email"] == JANE

    [linked] = await bot.settled()
    assert linked.helpdesk_name == "Jane Smith"
    assert (linked.claim.channel, linked.claim.user_key) == ("slack", SLACK_USER)
    assert linked.claim.conversation_key == "D01:1700000000.000100"
    assert linked.claim.pending_message_id == 42
    user = await bot.services.identities.resolve("slack", SLACK_USER)
    assert user is not None and user.profile.email == JANE


async def test_a_used_link_is_refused(bot: Bot) -> None:
    path = bot.link_path()
    form = await bot.open(path)
    nonce = bot.csrf_nonce(path)
    assert (await bot.sign_in(path, form)).status == 200

    again = await bot.open(path)
    resubmitted = await bot.sign_in(path, form)  # e.g. from history: its cookie is gone
    replayed = await bot.client.post(
        path,
        data={"username": JANE, "password": JANE_PASSWORD, CSRF_FIELD: form.csrf},
        headers={"Cookie": f"{linking.CSRF_COOKIE}={nonce}"},
    )

    assert again.status == 410 and again.heading == "This link has already been used"
    assert "username" not in again.inputs
    assert (
        resubmitted.status == 410
        and "If you just signed in, you're linked: return to Slack" in resubmitted.text
    )
    assert replayed.status == 410
    assert await bot.helpdesk_logins() == 1
    assert len(await bot.settled()) == 1


async def test_a_double_submit_links_once_and_announces_once(bot: Bot) -> None:
    path = bot.link_path()
    form = await bot.open(path)

    pages = await asyncio.gather(bot.sign_in(path, form), bot.sign_in(path, form))

    assert sorted(page.status for page in pages) == [200, 410]
    assert await bot.helpdesk_logins() == 1, "the second submission never signed in"
    assert [linked.helpdesk_name for linked in await bot.settled()] == ["Jane Smith"]


class WatchedStore:
    """The real store, announcing each time a lease is refused (someone else holds it)."""

    def __init__(self, store: Any) -> None:
        self._store = store
        self.refused = asyncio.Event()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    async def acquire_lease(self, name: str, holder: str, **options: Any) -> bool:
        acquired: bool = await self._store.acquire_lease(name, holder, **options)
        if not acquired:
            self.refused.set()
        return acquired


@pytest.mark.parametrize("first_succeeds", [True, False])
async def test_a_second_attempt_waits_for_the_first_and_runs_only_if_it_failed(
    services: Services, first_succeeds: bool
) -> None:
    store = WatchedStore(services.store)
    links = LinkTokens(store=store, secret=SECRET, public_url=PUBLIC_URL)  # type: ignore[arg-type]
    claim = links.inspect(links.issue_url(channel="slack", user_key=SLACK_USER).rsplit("/", 1)[1])
    inside, release = asyncio.Event(), asyncio.Event()
    ran: list[str] = []

    async def first() -> str:
        ran.append("first")
        inside.set()
        await release.wait()
        if not first_succeeds:
            raise AuthError("wrong password", method="POST", path="/auth/login", status=401)
        return "first"

    async def second() -> str:
        ran.append("second")
        return "second"

    async with asyncio.timeout(DEADLINE_S):
        attempt = asyncio.create_task(links.redeem(claim, first))
        await inside.wait()
        waiting = asyncio.create_task(links.redeem(claim, second))
        await store.refused.wait()  # the second is waiting for the first's lease
        release.set()
        outcomes = await asyncio.gather(attempt, waiting, return_exceptions=True)

    if first_succeeds:
        assert outcomes[0] == "first"
        assert isinstance(outcomes[1], LinkError) and outcomes[1].kind == "used"
        assert ran == ["first"]
    else:
        assert isinstance(outcomes[0], AuthError)
        assert outcomes[1] == "second"
        assert ran == ["first", "second"]


# --- refused links -----------------------------------------------------------------------


async def test_an_expired_link_is_refused(bot: Bot) -> None:
    path = bot.link_path(now=time.time() - LINK_TTL_S - 1)

    page = await bot.open(path)
    posted = await bot.client.post(path, data={"username": JANE, "password": JANE_PASSWORD})

    assert page.status == 410 and page.heading == "This link has expired"
    assert "new link" in page.text and "username" not in page.inputs
    assert posted.status == 410
    assert await bot.helpdesk_logins() == 0


def _tamper(path: str) -> str:
    header, payload, signature = path.rsplit("/", 1)[1].split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["sub"] = "slack:T01:U99MALLORY"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"/link/{header}.{forged}.{signature}"


async def test_a_tampered_or_foreign_link_is_refused(bot: Bot) -> None:
    foreign = LinkTokens(store=bot.services.store, secret="another-bot", public_url=PUBLIC_URL)
    for path in (
        _tamper(bot.link_path()),
        urlsplit(foreign.issue_url(channel="slack", user_key=SLACK_USER)).path,
        "/link/not-a-token",
    ):
        page = await bot.open(path)
        posted = await bot.client.post(path, data={"username": JANE, "password": JANE_PASSWORD})

        assert page.status == 400, path
        assert page.heading == "This link isn't valid" and "username" not in page.inputs
        assert posted.status == 400
    assert await bot.helpdesk_logins() == 0


async def test_a_post_without_the_right_csrf_token_is_forbidden(bot: Bot) -> None:
    path, other = bot.link_path(), bot.link_path()
    form, other_form = await bot.open(path), await bot.open(other)

    missing = await bot.client.post(path, data={"username": JANE, "password": JANE_PASSWORD})
    wrong = await bot.sign_in(path, form, **{CSRF_FIELD: "0" * 64})
    from_another_link = await bot.sign_in(path, other_form)
    bot.client.session.cookie_jar.clear()
    without_cookie = await bot.sign_in(path, form)

    assert missing.status == 403
    assert [wrong.status, from_another_link.status, without_cookie.status] == [403, 403, 403]
    assert "another browser" in without_cookie.text
    assert await bot.helpdesk_logins() == 0
    retry = await bot.open(path)
    assert (await bot.sign_in(path, retry)).status == 200, "the link is still usable"


async def test_too_many_wrong_passwords_lock_the_link(bot: Bot) -> None:
    path = bot.link_path()
    page = await bot.open(path)
    for _ in range(linking.MAX_FAILED_SIGN_INS):
        page = await bot.sign_in(path, page, password="guess")
        assert page.status == 200 and page.alerts

    locked = await bot.sign_in(path, page)

    assert locked.status == 429 and locked.heading == "Too many attempts"
    assert await bot.helpdesk_logins() == linking.MAX_FAILED_SIGN_INS


# --- OAuth -------------------------------------------------------------------------------


async def test_the_oauth_callback_links_with_the_tokens_it_brings(bot: Bot) -> None:
    async with httpx.AsyncClient(timeout=DEADLINE_S) as http:
        login = await http.post(
            f"{bot.sandbox.api_base}/auth/login",
            json={"username": JANE, "password": JANE_PASSWORD},
        )
    tokens = login.json()
    path = bot.link_path()

    code_only = await bot.open(f"{path}/oauth?code=abc&state=sandbox")
    assert code_only.status == 400 and "could not be completed" in code_only.alerts[0]
    assert "username" in code_only.inputs, "the form is offered instead"

    query = f"access_token={tokens['access_token']}&refresh_token={tokens['refresh_token']}"
    page = await bot.open(f"{path}/oauth?{query}")

    assert page.status == 200 and "You're linked as Jane Smith" in page.text
    assert [linked.helpdesk_name for linked in await bot.settled()] == ["Jane Smith"]
    assert (await bot.open(path)).status == 410


async def test_an_oauth_callback_with_a_bad_token_leaves_the_link_usable(bot: Bot) -> None:
    path = bot.link_path()

    page = await bot.open(f"{path}/oauth?access_token=forged")

    assert page.status == 200 and "did not accept" in page.alerts[0] and "username" in page.inputs
    assert (await bot.sign_in(path, page)).status == 200


# --- after linking -----------------------------------------------------------------------


async def test_unlink_forgets_the_account_and_revokes_its_token(bot: Bot) -> None:
    path = bot.link_path()
    await bot.sign_in(path, await bot.open(path))
    user = await bot.services.identities.resolve("slack", SLACK_USER)
    assert user is not None

    assert await bot.services.identities.unlink("slack", SLACK_USER) is True

    assert await bot.services.identities.resolve("slack", SLACK_USER) is None
    async with httpx.AsyncClient(timeout=DEADLINE_S) as http:
        profile = await http.get(
            f"{bot.sandbox.api_base}/profile",
            headers={"Authorization": f"Bearer {user.auth.access_token}"},
        )
    assert profile.status_code == 401


async def _replies(services: Services, inbound: Inbound) -> list[Any]:
    return [reply async for reply in services.engine.handle(inbound)]


async def test_the_waiting_question_is_answered_after_linking_with_the_engine_as_is(
    bot: Bot,
) -> None:
    """The resume design a channel can use today: re-handle the stored (masked) text with an
    event id derived from the link, so a repeated announcement answers once."""
    services = bot.services
    asked = Inbound(
        channel="slack",
        conversation_key="D01:1700000000.000100",
        user_key=SLACK_USER,
        text="How do I connect to the VPN?",
        event_id="Ev01",
    )
    [link] = [r for r in await _replies(services, asked) if isinstance(r, LinkRequired)]
    path = urlsplit(link.url).path
    assert (await bot.sign_in(path, await bot.open(path))).status == 200
    [linked] = await bot.settled()
    assert linked.claim.pending_message_id is not None
    waiting = await services.store.get_message(linked.claim.pending_message_id)
    assert waiting is not None and waiting.content == asked.text

    def resume() -> Awaitable[list[Any]]:
        return _replies(
            services,
            Inbound(
                channel=linked.claim.channel,
                conversation_key=linked.claim.conversation_key or "",
                user_key=linked.claim.user_key,
                text=waiting.content,
                event_id=f"link:{linked.claim.jti}",
            ),
        )

    answered = [r for r in await resume() if isinstance(r, Message)]
    again = [r for r in await resume() if isinstance(r, Message)]

    assert answered and "vpn" in answered[-1].text.lower()
    assert [m.message_id for m in again] == [m.message_id for m in answered]


# --- passwords pasted into the chat (engine level) ---------------------------------------

PASTED = "Tr0ub4dor&3"
WARNING = "I removed what looked like a password"


@pytest.fixture
async def make(sandbox: RunningSandbox, store: Store) -> AsyncIterator[HarnessFactory]:
    async for factory in harness_factory(sandbox, store):
        yield factory


async def _transcript(h: Harness) -> str:
    conversation = await h.store.find_conversation("test", h.conversation)
    assert conversation is not None
    messages = await h.store.recent_messages(conversation.id, limit=100)
    return "\n".join(message.content for message in messages)


async def test_a_password_pasted_in_chat_is_masked_everywhere_and_the_user_warned(
    make: HarnessFactory,
) -> None:
    h = make(Step(text="Let's get you signed in again."))
    await h.link(JANE)

    replies = await h.say(f"I can't sign in, my password is {PASTED}")

    assert any(WARNING in r.text for r in replies if isinstance(r, Message))
    assert PASTED not in await _transcript(h)
    assert PASTED not in " ".join(m.content or "" for m in h.model.requests[0].messages)
    assert PASTED not in json.dumps(await h.requests("/chat/", method="POST"))


async def test_a_password_pasted_before_linking_is_masked_in_the_waiting_message(
    make: HarnessFactory,
) -> None:
    h = make()

    await h.say(f"link me: {JANE} password {PASTED}", user="nobody@acme.example")

    transcript = await _transcript(h)
    assert PASTED not in transcript and "[redacted]" in transcript


async def test_an_unlinked_user_who_pastes_a_password_is_warned(make: HarnessFactory) -> None:
    h = make()

    replies = await h.say(f"my password is {PASTED}", user="nobody@acme.example")

    assert any(WARNING in getattr(reply, "text", "") for reply in replies)
