"""One-time account-link URLs: signed, single-use, expiring, bound to one channel user.

A Slack or Teams user who is not linked yet gets `{BOT_PUBLIC_URL}/link/{token}`. The token
is a JWT (HS256, key derived from the bot secret for this purpose only) naming the channel,
the channel user and, when there is one, the conversation and the message that was waiting,
so the channel can answer that question once the link is made. `inspect` refuses a tampered
or expired token; `redeem` runs the sign-in under a per-token lease and spends the token only
when the sign-in succeeds, so a wrong password leaves the link usable while two tabs (or two
replicas) submitting the same link can never both link.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal, TypeVar

import jwt

from bot import prompts
from bot.errors import BotError
from bot.identity import derive_key
from bot.store.store import Store

log = logging.getLogger(__name__)

LINK_TTL_S = 600
_AUDIENCE = "helpdesk-bot:link"

# One sign-in attempt per token at a time. The attempt has a deadline well inside the
# lease's TTL, so a lease only expires under a holder that crashed.
ATTEMPT_DEADLINE_S = 60.0
_ATTEMPT_LEASE_TTL_S = 2 * ATTEMPT_DEADLINE_S
_ATTEMPT_WAIT_S = 30.0
# A readable "used" marker: it must outlive any token, whose signature expires anyway.
_USED_MARKER_TTL_S = LINK_TTL_S + 120.0
_USED_HOLDER = "used"

T = TypeVar("T")

LinkProblem = Literal["invalid", "expired", "used", "busy"]


class LinkError(BotError):
    """A link token that cannot be used; `reason` is safe to show on the page.

    `kind` says why: "invalid" (tampered or malformed), "expired", "used", or "busy" (another
    tab is signing in with it right now and did not finish in time).
    """

    def __init__(self, reason: str, *, kind: LinkProblem = "invalid") -> None:
        super().__init__(reason)
        self.reason = reason
        self.kind = kind


_EXPIRED = prompts.reply("link_page_expired")
_USED = prompts.reply("link_page_used")


@dataclass(frozen=True, slots=True)
class LinkClaim:
    """Who a link is for, and what was waiting when it was issued."""

    channel: str
    user_key: str
    jti: str
    conversation_key: str | None = None
    pending_message_id: int | None = None
    display_name: str | None = None


@dataclass(frozen=True, slots=True)
class Linked:
    """A completed link, announced to the channel the user came from."""

    claim: LinkClaim
    helpdesk_name: str  # "Jane Smith"


OnLinked = Callable[[Linked], Awaitable[None]]


class LinkTokens:
    def __init__(self, *, store: Store, secret: str, public_url: str) -> None:
        self._store = store
        self._key = derive_key(secret, purpose="helpdesk-bot link tokens v1")
        self._public_url = public_url.rstrip("/")
        self._listeners: list[OnLinked] = []

    def issue_url(
        self,
        *,
        channel: str,
        user_key: str,
        conversation_key: str | None = None,
        pending_message_id: int | None = None,
        display_name: str | None = None,
        now: float | None = None,
    ) -> str:
        issued = int(now if now is not None else time.time())
        claims: dict[str, object] = {
            "aud": _AUDIENCE,
            "ch": channel,
            "sub": user_key,
            "jti": secrets.token_urlsafe(12),
            "iat": issued,
            "exp": issued + LINK_TTL_S,
        }
        if conversation_key is not None:
            claims["conv"] = conversation_key
        if pending_message_id is not None:
            claims["msg"] = pending_message_id
        if display_name:
            claims["name"] = display_name[:80]
        token = jwt.encode(claims, self._key, algorithm="HS256")
        return f"{self._public_url}/link/{token}"

    def inspect(self, token: str, *, now: float | None = None) -> LinkClaim:
        """The claim of a well-formed, unexpired token (not yet spent); else LinkError."""
        try:
            claims = jwt.decode(
                token,
                self._key,
                algorithms=["HS256"],
                audience=_AUDIENCE,
                options={"require": ["exp", "iat", "jti", "sub", "ch"]},
                leeway=0,
            )
        except jwt.ExpiredSignatureError as exc:
            raise LinkError(_EXPIRED, kind="expired") from exc
        except jwt.PyJWTError as exc:
            raise LinkError(prompts.reply("link_page_invalid")) from exc
        if now is not None and claims["exp"] <= now:
            raise LinkError(_EXPIRED, kind="expired")
        message = claims.get("msg")
        return LinkClaim(
            channel=str(claims["ch"]),
            user_key=str(claims["sub"]),
            jti=str(claims["jti"]),
            conversation_key=str(claims["conv"]) if "conv" in claims else None,
            pending_message_id=int(message) if isinstance(message, int) else None,
            display_name=str(claims["name"]) if "name" in claims else None,
        )

    async def spend(self, claim: LinkClaim) -> None:
        """Mark the token used; LinkError if it already was (exactly one caller succeeds)."""
        if not await self._store.use_link_token(claim.jti):
            raise LinkError(_USED, kind="used")

    async def ensure_unused(self, claim: LinkClaim) -> None:
        """LinkError(kind="used") if a sign-in with this token already succeeded."""
        if await self._store.get_lease(_used_marker(claim.jti)) is not None:
            raise LinkError(_USED, kind="used")

    async def redeem(self, claim: LinkClaim, link: Callable[[], Awaitable[T]]) -> T:
        """Run `link` (the sign-in that stores the identity) and spend the token, once.

        Why this order: spending first would burn the link on a wrong password; linking
        first without a lock would let two tabs both link (the second overwriting the
        first) before one of them loses the spend. So an attempt holds a per-token lease,
        checks the token is unused, runs `link`, then leaves a "used" marker for later
        attempts to read and spends the token. A second submission waits for the first to finish and
        is refused if it succeeded; if `link` raises (wrong password, helpdesk down), the
        token stays usable and the exception propagates.
        """
        attempt = f"link-attempt:{claim.jti}"
        holder = uuid.uuid4().hex
        await self._wait_for_attempt(attempt, holder)
        try:
            await self.ensure_unused(claim)
            async with asyncio.timeout(ATTEMPT_DEADLINE_S):
                result = await link()
            # The marker first: if writing it fails, the token is not spent either and a
            # retry relinks; the spend then makes single use hold even if this attempt's
            # lease was taken over after a stall.
            await self._store.acquire_lease(
                _used_marker(claim.jti), _USED_HOLDER, ttl_s=_USED_MARKER_TTL_S
            )
            await self.spend(claim)
            return result
        finally:
            await self._store.release_lease(attempt, holder)

    async def _wait_for_attempt(self, name: str, holder: str) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + _ATTEMPT_WAIT_S
        delay = 0.02
        while not await self._store.acquire_lease(name, holder, ttl_s=_ATTEMPT_LEASE_TTL_S):
            if loop.time() >= deadline:
                raise LinkError(prompts.reply("link_page_busy"), kind="busy")
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.5)

    def on_linked(self, listener: OnLinked) -> None:
        """Channels register here to tell their user "you're linked" and resume."""
        self._listeners.append(listener)

    async def announce(self, linked: Linked) -> None:
        """Call every listener; one that fails is logged and does not stop the others."""
        for listener in self._listeners:
            try:
                await listener(linked)
            except Exception:
                log.exception("A link listener failed for a %s user", linked.claim.channel)


def _used_marker(jti: str) -> str:
    return f"link-used:{jti}"
