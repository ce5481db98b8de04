"""Who may post to the Teams endpoint, checked by the real Bot Framework validation.

With `MicrosoftAppId` set, botbuilder validates each token against the signing keys it
fetches from the Bot Framework's OpenID metadata. Here that metadata is served locally
(the SDK's own `TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL` and `_TOKEN_ISSUER` settings)
with a key the test holds, so a correctly signed token is ACCEPTED (the control: refusals
are not just a network failure) and each forgery is refused for what it is. Dev mode: only loopback
serviceUrls; redelivered activities and twice-submitted cards act once.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from adapters.teams import auth
from sandbox.runner import RunningSandbox
from tests.contract.test_teams_actions import card_actions, confirm_card, submit
from tests.contract.test_teams_http import (
    PERSONAL,
    TeamsHarness,
    activity,
    serve_teams,
    teams_fixture,
)
from tests.fakes.bot_connector import BotConnectorFake
from tests.security.ledger import LEDGER

__all__ = ["teams_fixture"]

APP_ID = "app-id-123"
APP_PASSWORD = "app-secret"
ISSUER = "https://api.botframework.com"
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
ATTACKER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _jwk(key: rsa.RSAPrivateKey, kid: str, endorsements: list[str]) -> dict[str, Any]:
    public: dict[str, Any] = RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
    return public | {"kid": kid, "use": "sig", "endorsements": endorsements}


@pytest.fixture
async def openid() -> AsyncIterator[str]:
    """The Bot Framework's OpenID metadata and signing keys, served locally."""
    app = web.Application()

    async def metadata(request: web.Request) -> web.Response:
        base = f"{request.scheme}://{request.host}"
        return web.json_response({"issuer": ISSUER, "jwks_uri": f"{base}/keys"})

    async def keys(_: web.Request) -> web.Response:
        endorsed = _jwk(KEY, "teams-key", ["msteams"])
        return web.json_response({"keys": [endorsed, _jwk(KEY, "skype-key", ["skype"])]})

    app.router.add_get("/openid", metadata)
    app.router.add_get("/keys", keys)
    async with TestServer(app) as server:
        yield str(server.make_url("/openid"))


@dataclass(frozen=True)
class _Configuration:
    APP_ID: str | None
    APP_PASSWORD: str | None
    APP_TYPE: str
    APP_TENANTID: str | None
    TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL: str
    TO_BOT_FROM_CHANNEL_TOKEN_ISSUER: str = ISSUER


def _token(
    service_url: str, *, key: Any = KEY, kid: str = "teams-key", alg: str = "RS256", **claims: Any
) -> str:
    now = int(time.time())
    body = {"iss": ISSUER, "aud": APP_ID, "serviceurl": service_url, "nbf": now - 10}
    body |= {"exp": now + 600} | claims
    return jwt.encode(body, key, algorithm=alg, headers={"kid": kid})


def forged(service_url: str) -> dict[str, str | None]:
    """Authorization headers an attacker can send (None: no header at all)."""
    now = int(time.time())

    def bearer(**options: Any) -> str:
        return f"Bearer {_token(options.pop('url', service_url), **options)}"

    return {
        "no Authorization header": None,
        "an empty Authorization header": "",
        "not a JWT": "Bearer not-a-token",
        "alg none": bearer(key=None, alg="none"),
        "HS256 with the app password": bearer(key=APP_PASSWORD, alg="HS256"),
        "signed by another key, known kid": bearer(key=ATTACKER_KEY),
        "signed by another key, unknown kid": bearer(key=ATTACKER_KEY, kid="x"),
        "another bot's audience": bearer(aud="another-app"),
        "another issuer": bearer(iss="https://evil.example"),
        "expired": bearer(exp=now - 3600, nbf=now - 7200),
        "another serviceUrl": bearer(url="https://smba.evil.example/"),
        "a key not endorsed for Teams": bearer(kid="skype-key"),
        "Basic instead of Bearer": "Basic " + _token(service_url),
    }


async def test_only_a_token_signed_by_the_bot_framework_is_accepted(
    sandbox: RunningSandbox, tmp_path: Path, openid: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def configuration(settings: Any) -> _Configuration:
        return _Configuration(APP_ID, APP_PASSWORD, "MultiTenant", None, openid)

    monkeypatch.setattr(auth, "sdk_configuration", configuration)
    overrides = {"microsoft_app_id": APP_ID, "microsoft_app_password": APP_PASSWORD}
    async with (
        BotConnectorFake() as connector,
        serve_teams(sandbox, tmp_path, connector, teams_dev_mode=False, **overrides) as teams,
    ):
        body = activity(connector, text="   ")  # accepted, then ignored: nothing is sent
        for name, header in forged(connector.service_url).items():
            headers = {} if header is None else {"Authorization": header}
            response = await teams.post(body, **headers)
            LEDGER.outcome(f"teams token: {name}", refused=response.status_code == 401)
            assert response.status_code == 401, (name, response.text)
        genuine = await teams.post(body, Authorization=f"Bearer {_token(connector.service_url)}")
        await teams.settle()
    assert genuine.status_code == 201, genuine.text  # the control: validation really ran
    assert connector.requests == []


LOOKALIKES = (
    "https://smba.trafficmanager.net/amer/",
    "http://169.254.169.254/latest/meta-data/",  # a cloud metadata address
    "http://127.0.0.1.evil.example/",
    "http://localhost.evil.example/",
    "http://evil.example/http://127.0.0.1/",
    "http://10.0.0.5:3978/",
    "file:///etc/passwd",
    "not a url",
)


async def test_dev_mode_sends_nowhere_but_loopback(teams: TeamsHarness) -> None:
    await teams.link()
    for service_url in LOOKALIKES:
        response = await teams.post(activity(teams.connector, text="hi", service_url=service_url))
        LEDGER.outcome(
            f"teams dev mode serviceUrl {service_url}", refused=response.status_code == 403
        )
    await teams.settle()
    assert teams.connector.requests == []
    assert not LEDGER.in_this_test(), LEDGER.in_this_test()


async def test_a_redelivered_activity_and_a_twice_submitted_card_act_once(
    teams: TeamsHarness,
) -> None:
    await teams.link()
    body = activity(teams.connector, text="My VPN keeps disconnecting, how do I fix it?")
    await asyncio.gather(*(teams.post(body) for _ in range(3)))
    await teams.settle()
    answers = len(teams.connector.messages(PERSONAL))
    LEDGER.outcome("teams redelivered activity", refused=answers == 1)

    message, card = await confirm_card(teams)
    presses = [submit(teams, message, card, "Confirm") for _ in range(3)]
    await asyncio.gather(*(teams.post(press) for press in presses))
    await teams.settle()
    tickets = await teams.sandbox_requests("/tickets", "POST")
    LEDGER.outcome("teams card submitted three times", refused=len(tickets) == 1)
    assert answers == 1 and len(tickets) == 1
    assert card_actions(card)  # the card had buttons to press
