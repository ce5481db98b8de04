"""What the process writes to its logs and tells callers of its health probes and metrics.

Log lines go through a handler set up as `helpdesk-bot serve` sets up its own; every shape
of credential the process handles is logged once, the way a library would log it, and
must come out masked. The probes are read with the helpdesk failing (their most
talkative state): status words only, no address, no secret, no traceback. `/metrics` needs
its bearer token (or, without one, a loopback scraper not behind a proxy) and its series
carry no user, message, cookie or helpdesk address.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from adapters.cli import LOG_FORMAT
from adapters.compose import build_services
from adapters.server import create_app
from bot.logcontext import ContextFilter
from bot.logging_setup import install
from sandbox.runner import RunningSandbox
from tests.contract.test_web_support import open_web_app, say, settings_for, turn
from tests.security.conftest import remember_secret
from tests.security.ledger import LEDGER

JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI0MiIsInR5cCI6ImFjY2VzcyJ9.c2lnbmF0dXJlLXZhbHVl"
OPAQUE = "Zq3vL9xPq2mN8rT4wY6u"
# How libraries and handlers put credentials into log lines.
LINES = {
    "an access log line of a link page": ("%s", f'"GET /link/{JWT} HTTP/1.1" 200'),
    "an OAuth callback's query": ("GET %s", f"/link/x/oauth?access_token={OPAQUE}&state=s"),
    "httpcore's response headers": ("%s", f"[(b'Set-Cookie', b'hd_session={OPAQUE}; Path=/')]"),
    "an Authorization header": ("headers=%r", {"Authorization": f"Bearer {OPAQUE}"}),
    "a Slack bot token": ("client token %s", "xoxb-1234567890-abcdefghijkl"),
    "a form body": ("body=%s", f"username=jane&password={OPAQUE}"),
    "a widget cookie header": ("Cookie: helpdesk_widget=%s", OPAQUE),
}


@pytest.fixture
def production_log() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(ContextFilter())
    install(handler, fmt=LOG_FORMAT)
    logger = logging.getLogger("tests.security.library")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield stream
    finally:
        logger.removeHandler(handler)


def test_credentials_in_log_lines_are_masked(production_log: io.StringIO) -> None:
    logger = logging.getLogger("tests.security.library")
    for name, (message, argument) in LINES.items():
        before = len(production_log.getvalue())
        logger.debug(message, argument)
        written = production_log.getvalue()[before:]
        masked = OPAQUE not in written and JWT not in written and "[masked]" in written
        LEDGER.outcome(f"credential in {name}", refused=masked and "xoxb-1" not in written)
    try:
        raise ValueError(f"refresh failed for Bearer {OPAQUE}")
    except ValueError:
        logger.exception("a failure with a token in its traceback")
    LEDGER.outcome("credential in a traceback", refused=OPAQUE not in production_log.getvalue())
    assert not LEDGER.in_this_test(), LEDGER.in_this_test()
    assert "ticket 3012 is open" in _logged(logger, production_log, "ticket 3012 is open")


def _logged(logger: logging.Logger, stream: io.StringIO, text: str) -> str:
    """Ordinary lines pass untouched (the control)."""
    logger.info(text)
    return stream.getvalue()


async def test_health_probes_tell_anonymous_callers_nothing_useful(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    nowhere = f"{sandbox.base_url}/nowhere/api/v1"  # answers 404 to everything
    settings = settings_for(sandbox, tmp_path, helpdesk_base_url=nowhere)
    secret = settings.bot_secret_key.get_secret_value() if settings.bot_secret_key else ""
    async with build_services(settings, model_stream_delay_s=0) as services:
        app = create_app(services, channels=[])
        async with TestClient(TestServer(app)) as client:
            answers = {
                path: (response.status, await response.text())
                for path in ("/healthz", "/readyz", "/no-such-page", "/readyz?verbose=1")
                for response in [await client.get(path)]
            }
    assert answers["/readyz"][0] == 503  # it did look at the unreachable helpdesk
    for path, (_status, body) in answers.items():
        told = [
            word
            for word in (
                sandbox.base_url,
                "/nowhere",
                "sqlite",
                str(tmp_path),
                secret,
                "Traceback",
                'File "',
            )
            if word and word in body
        ]
        LEDGER.outcome(f"probe {path} disclosing internals", refused=not told)
        assert not told, (path, body)


SCRAPE_TOKEN = "scrape-token-4f9aQ2kL"


async def test_metrics_need_their_token_and_carry_no_user_data(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    remember_secret("the metrics token", SCRAPE_TOKEN)
    settings = settings_for(sandbox, tmp_path, metrics_token=SCRAPE_TOKEN)
    async with open_web_app(sandbox, settings) as app:
        assert (await app.sign_in()).status == 200
        cookie = app.cookie() or ""
        ws = await app.connect()
        await turn(ws, say("My VPN keeps disconnecting, how do I fix it?"))
        attempts = {
            "no credentials": {},
            "a wrong token": {"Authorization": "Bearer not-the-token"},
            "the token as Basic": {"Authorization": f"Basic {SCRAPE_TOKEN}"},
            "the widget session cookie": {"Cookie": f"helpdesk_widget={cookie}"},
        }
        for name, headers in attempts.items():
            response = await app.client.get("/metrics", headers=headers)
            LEDGER.outcome(f"metrics scraped with {name}", refused=response.status in (401, 403))
        scraped = await app.client.get(
            "/metrics", headers={"Authorization": f"Bearer {SCRAPE_TOKEN}"}
        )
        body = await scraped.text()
    assert scraped.status == 200 and "helpdesk" in body.lower()  # the control
    private = [
        word
        for word in ("jane", "Jane", "acme", "VPN keeps", cookie, sandbox.base_url)
        if word and word in body
    ]
    LEDGER.outcome("metrics carrying user data", refused=not private)
    assert not private, private
    assert not LEDGER.in_this_test(), LEDGER.in_this_test()


async def test_metrics_without_a_token_are_for_loopback_scrapers_only(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    async with open_web_app(sandbox, settings_for(sandbox, tmp_path)) as app:
        direct = await app.client.get("/metrics")
        proxied = await app.client.get("/metrics", headers={"X-Forwarded-For": "203.0.113.7"})
    LEDGER.outcome("metrics through a reverse proxy without a token", refused=proxied.status == 403)
    assert direct.status == 200 and proxied.status == 403
