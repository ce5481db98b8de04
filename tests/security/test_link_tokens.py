"""Forged, altered, expired and replayed account-link tokens, tried on every link endpoint.

The link page, its form post and its OAuth callback are served by the real app; a refusal
counts only when each endpoint refused, the helpdesk saw no sign-in and nothing was linked.
"""

from __future__ import annotations

import base64
import json
import time
from typing import Any
from urllib.parse import urlsplit

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from adapters.linking.pages import CSRF_FIELD
from bot.identity import derive_key
from bot.linking import LINK_TTL_S, LinkTokens
from tests.contract.test_linking import JANE, JANE_PASSWORD, SECRET, SLACK_USER, Bot, bot, services
from tests.security.conftest import remember_secret
from tests.security.ledger import LEDGER

__all__ = ["bot", "services"]

MALLORY = "slack:T01:U99MALLORY"
NONE_HEADER = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').rstrip(b"=").decode()
LINK_KEY = derive_key(SECRET, purpose="helpdesk-bot link tokens v1")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _parts(token: str) -> tuple[dict[str, Any], dict[str, Any], str]:
    header, payload, signature = token.split(".")
    return _unb64(header), _unb64(payload), signature


def _unb64(part: str) -> dict[str, Any]:
    decoded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return decoded


def _claims(**changes: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {
        "aud": "helpdesk-bot:link",
        "ch": "slack",
        "sub": SLACK_USER,
        "jti": f"forged-{now}",
        "iat": now,
        "exp": now + LINK_TTL_S,
    }
    return {key: value for key, value in (claims | changes).items() if value is not None}


def forged_tokens(genuine: str) -> dict[str, str]:
    """What an attacker can make, from a genuine token of theirs or from nothing."""
    header, payload, signature = genuine.split(".")
    _, claims, _ = _parts(genuine)
    as_mallory = _b64(json.dumps(claims | {"sub": MALLORY}).encode())
    flipped = signature[:10] + ("A" if signature[10] != "A" else "B") + signature[11:]
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return {
        "payload changed, signature kept": f"{header}.{as_mallory}.{signature}",
        "signature altered": f"{header}.{payload}.{flipped}",
        "signature removed": f"{header}.{payload}.",
        "alg none": jwt.encode(_claims(), key=None, algorithm="none"),
        "alg none, hand-made": f"{NONE_HEADER}.{payload}.",
        "HS512 with the right key": jwt.encode(_claims(), LINK_KEY, algorithm="HS512"),
        "RS256 with the attacker's key": jwt.encode(_claims(), rsa_key, algorithm="RS256"),
        "signed with the raw bot secret": jwt.encode(_claims(), SECRET, algorithm="HS256"),
        "signed by another bot": jwt.encode(
            _claims(), derive_key("another-bot", purpose="helpdesk-bot link tokens v1")
        ),
        "another audience": jwt.encode(_claims(aud="helpdesk-bot:session"), LINK_KEY),
        "no expiry": jwt.encode(_claims(exp=None), LINK_KEY),
        "no subject": jwt.encode(_claims(sub=None), LINK_KEY),
        "expired": jwt.encode(_claims(iat=int(time.time()) - 2 * LINK_TTL_S, exp=1), LINK_KEY),
        "not a token": "not-a-token",
    }


async def _sandbox_logins(bot: Bot) -> int:
    return await bot.helpdesk_logins()


async def _endpoints_refuse(bot: Bot, token: str, access_token: str) -> bool:
    """The page, the form post and the OAuth callback all refuse the token."""
    path = f"/link/{token}"
    page = await bot.open(path)
    posted = await bot.client.post(path, data={"username": JANE, "password": JANE_PASSWORD})
    oauth = await bot.open(f"{path}/oauth?access_token={access_token}")
    statuses = (page.status, posted.status, oauth.status)
    return all(status in (400, 403, 404, 410) for status in statuses) and "username" not in (
        page.inputs
    )


async def _portal_tokens(bot: Bot) -> dict[str, str]:
    async with httpx.AsyncClient(timeout=10) as http:
        login = await http.post(
            f"{bot.sandbox.api_base}/auth/login", json={"username": JANE, "password": JANE_PASSWORD}
        )
    tokens: dict[str, str] = login.json()
    remember_secret("a helpdesk access token", tokens["access_token"])
    remember_secret("a helpdesk refresh token", tokens["refresh_token"])
    return tokens


async def test_forged_and_altered_link_tokens_link_nobody(bot: Bot) -> None:
    genuine = urlsplit(bot.services.links.issue_url(channel="slack", user_key=MALLORY)).path
    token = genuine.rsplit("/", 1)[1]
    remember_secret("a link token", token)
    access_token = (await _portal_tokens(bot))["access_token"]
    logins_before = await _sandbox_logins(bot)

    for name, forged in forged_tokens(token).items():
        refused = await _endpoints_refuse(bot, forged, access_token)
        LEDGER.outcome(f"link token: {name}", refused=refused)

    nobody = all(
        [
            await bot.services.identities.resolve("slack", SLACK_USER) is None,
            await bot.services.identities.resolve("slack", MALLORY) is None,
            await _sandbox_logins(bot) == logins_before,
            await bot.settled() == [],
        ]
    )
    LEDGER.outcome("link token forgeries linking someone", refused=nobody)
    assert not LEDGER.in_this_test(), LEDGER.in_this_test()


async def test_a_link_token_is_spent_once_and_links_only_its_own_user(bot: Bot) -> None:
    path = bot.link_path()  # issued for SLACK_USER
    token = path.rsplit("/", 1)[1]
    form = await bot.open(path)
    assert (await bot.sign_in(path, form)).status == 200
    jane = await bot.services.identities.resolve("slack", SLACK_USER)
    assert jane is not None and jane.profile.email == JANE

    again = await bot.open(path)
    replayed = await bot.client.post(
        path, data={"username": "mike@acme.example", "password": "demo-mike", CSRF_FIELD: "x"}
    )
    access_token = (await _portal_tokens(bot))["access_token"]
    oauth = await bot.open(f"{path}/oauth?access_token={access_token}")

    LEDGER.outcome("link token replayed (page)", refused=again.status == 410)
    LEDGER.outcome("link token replayed (form post)", refused=replayed.status == 410)
    LEDGER.outcome("link token replayed (OAuth callback)", refused=oauth.status == 410)
    still_jane = await bot.services.identities.resolve("slack", SLACK_USER)
    LEDGER.outcome(
        "link token replay relinking",
        refused=still_jane is not None and still_jane.profile.email == JANE,
    )
    LEDGER.outcome(
        "link token linking another channel user",
        refused=await bot.services.identities.resolve("slack", MALLORY) is None,
    )
    announced = await bot.settled()
    assert [linked.claim.user_key for linked in announced] == [SLACK_USER]
    assert not LEDGER.in_this_test(), LEDGER.in_this_test()
    assert token not in (await bot.open("/link/" + token)).html  # the used page echoes nothing


async def test_tokens_from_another_bot_secret_are_refused_by_the_verifier(bot: Bot) -> None:
    other = LinkTokens(store=bot.services.store, secret="another-bot", public_url="http://x")
    foreign = other.issue_url(channel="slack", user_key=SLACK_USER).rsplit("/", 1)[1]
    _, claims, _ = _parts(foreign)
    assert claims["sub"] == SLACK_USER  # well-formed, just not ours
    refused = await _endpoints_refuse(bot, foreign, "unused")
    LEDGER.outcome("link token of another deployment", refused=refused)
    assert refused
