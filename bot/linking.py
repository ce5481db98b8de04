"""One-time account-link URLs: signed, single-use, expiring, bound to one channel user.

A Slack or Teams user who is not linked yet gets `{BOT_PUBLIC_URL}/link/{token}`. The token
is a JWT (HS256, key derived from the bot secret for this purpose only) naming the channel,
the channel user and, when there is one, the conversation and the message that was waiting,
so the channel can answer that question once the link is made. `redeem` refuses a tampered,
expired or already used token; spending it is atomic in the store, so two tabs submitting
the same link cannot both link.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import jwt

from bot.identity import derive_key
from bot.store.store import Store

LINK_TTL_S = 600
_AUDIENCE = "helpdesk-bot:link"


class LinkError(Exception):
    """A link token that cannot be used; `reason` is safe to show on the page."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


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
            raise LinkError("This link has expired. Ask the assistant for a new one.") from exc
        except jwt.PyJWTError as exc:
            raise LinkError("This link is not valid.") from exc
        if now is not None and claims["exp"] <= now:
            raise LinkError("This link has expired. Ask the assistant for a new one.")
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
            raise LinkError("This link has already been used.")

    def on_linked(self, listener: OnLinked) -> None:
        """Channels register here to tell their user "you're linked" and resume."""
        self._listeners.append(listener)

    async def announce(self, linked: Linked) -> None:
        for listener in self._listeners:
            await listener(linked)
