"""Widget sign-in: `/widget/session` (POST sign in, GET status, DELETE sign out) and its cookie.

The browser holds only an opaque random session id in an HttpOnly cookie; the store keeps
its SHA-256 hash (`web_sessions`), and the helpdesk tokens stay in the encrypted identity
vault on the server. No token is ever sent to page JavaScript.

Each sign-in links a fresh web user key (`web:<random>`), and the widget conversation is
keyed by it: one browser sign-in is one conversation, which survives reloads and network
drops and ends with sign-out (which revokes the session and unlinks — logs out — the
helpdesk tokens). Signing in again as the same person while the session lives (the helpdesk
refused a refresh) relinks in place and keeps the conversation.

Cookie: `HttpOnly; Path=/; SameSite=Lax` over http (the demo, same-site embeds); when
`BOT_PUBLIC_URL` is https, `__Host-` prefixed with `Secure; SameSite=None; Partitioned`, so
the chat frame still gets its cookie when embedded on another site (CHIPS: the cookie is
kept per embedding site). POST and DELETE check `Origin` (`web_protocol.OriginPolicy`) and
POST takes JSON only, so a cross-site form cannot sign anyone in or out (CSRF).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from adapters.web.protocol import OriginPolicy, RateLimiter
from bot import prompts
from bot.desk import Desk
from bot.helpdesk.errors import AuthError, HelpdeskError, PermissionDenied, RateLimited
from bot.identity import HelpdeskUser, IdentityService

log = logging.getLogger(__name__)

CHANNEL = "web"
SESSION_TTL = timedelta(days=14)
SIGN_IN_LIMIT = 10  # attempts per client address per minute
UNLINK_TIMEOUT_S = 10.0

SignedOut = Callable[[str], Awaitable[None]]  # called with the user key that signed out
Relinked = Callable[[str], Awaitable[None]]  # the same person signed in again, same key


class PasswordSignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: str = Field(min_length=1, max_length=320)
    password: str = Field(min_length=1, max_length=1024)


class TokenSignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    access_token: str = Field(min_length=1, max_length=8192)


@dataclass(frozen=True, slots=True)
class WidgetUser:
    """A signed-in widget session: its user key is also its conversation key."""

    session_hash: str
    identity_id: int
    user_key: str
    name: str
    email: str


def hash_session(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def conversation_tag(user_key: str) -> str:
    """An opaque name for the session's conversation: the page clears its transcript when
    it changes (another sign-in), and keeps it when it does not (a relink)."""
    return hashlib.sha256(f"conversation:{user_key}".encode()).hexdigest()[:16]


def cookie_name(*, secure: bool) -> str:
    return "__Host-helpdesk_widget" if secure else "helpdesk_widget"


def session_cookie(value: str, *, secure: bool, max_age: int) -> str:
    """The `Set-Cookie` value for a session (built by hand: `Partitioned` is newer than
    Python's `http.cookies`)."""
    attributes = [f"{cookie_name(secure=secure)}={value}", "Path=/", f"Max-Age={max_age}"]
    attributes.append("HttpOnly")
    attributes += ["Secure", "SameSite=None", "Partitioned"] if secure else ["SameSite=Lax"]
    return "; ".join(attributes)


def request_origin(request: web.Request) -> str:
    """The origin this request was addressed to (scheme and Host header)."""
    return f"{request.scheme}://{request.host}"


async def _read_credentials(request: web.Request) -> PasswordSignIn | TokenSignIn | web.Response:
    """The sign-in form from a JSON body, or the 4xx problem to answer with."""
    if request.content_type != "application/json":
        return _problem(415, "json_required", prompts.reply("web_sign_in_not_json"))
    try:
        data = await request.json()
        if isinstance(data, dict) and "access_token" in data:
            return TokenSignIn.model_validate(data)
        return PasswordSignIn.model_validate(data)
    except (ValueError, ValidationError):
        return _problem(400, "invalid_form", prompts.reply("web_sign_in_incomplete"))


def _problem(status: int, code: str, message: str) -> web.Response:
    return web.json_response(
        {"error": code, "message": message}, status=status, headers={"Cache-Control": "no-store"}
    )


def origin_refused() -> web.Response:
    return _problem(403, "origin_not_allowed", prompts.reply("web_site_not_allowed"))


class WidgetSessions:
    """Creates, reads and revokes widget sessions; serves `/widget/session`."""

    def __init__(
        self,
        *,
        desk: Desk,
        identities: IdentityService,
        origins: OriginPolicy,
        secure: bool,
        ttl: timedelta = SESSION_TTL,
    ) -> None:
        self._desk = desk
        self._identities = identities
        self._origins = origins
        self._secure = secure
        self._ttl = ttl
        self._limiter = RateLimiter(limit=SIGN_IN_LIMIT)
        self.on_signed_out: SignedOut | None = None
        self.on_relinked: Relinked | None = None

    @property
    def cookie_name(self) -> str:
        return cookie_name(secure=self._secure)

    def origin_allowed(self, request: web.Request) -> bool:
        origin = request.headers.get("Origin")
        return self._origins.allows(origin, request_origin=request_origin(request))

    async def current(self, request: web.Request) -> WidgetUser | None:
        """The live session this request's cookie names, or None."""
        value = request.cookies.get(self.cookie_name)
        if not value or len(value) > 128:
            return None
        session_hash = hash_session(value)
        session = await self._desk.get_session(session_hash)
        if session is None:
            return None
        identity = await self._desk.get_identity(session.identity_id)
        if identity is None or identity.channel != CHANNEL:
            return None
        return WidgetUser(
            session_hash=session_hash,
            identity_id=identity.id,
            user_key=identity.channel_user_id,
            name=identity.display_name,
            email=identity.email,
        )

    async def is_live(self, user: WidgetUser) -> bool:
        return await self._desk.get_session(user.session_hash) is not None

    # --- handlers ------------------------------------------------------------------------

    async def status(self, request: web.Request) -> web.Response:
        """GET /widget/session: whether this browser is signed in, and as whom."""
        user = await self.current(request)
        body: dict[str, Any] = {"signed_in": user is not None}
        if user is not None:
            body |= {
                "name": user.name,
                "email": user.email,
                "conversation": conversation_tag(user.user_key),
            }
        return web.json_response(body, headers={"Cache-Control": "no-store"})

    async def sign_in(self, request: web.Request) -> web.Response:
        """POST /widget/session with {email, password} or {access_token}."""
        if not self.origin_allowed(request):
            return origin_refused()
        credentials = await _read_credentials(request)
        if isinstance(credentials, web.Response):
            return credentials
        # Per address and account: guessing one password is slowed down, while colleagues
        # behind one corporate proxy do not share a budget.
        account = credentials.email.lower() if isinstance(credentials, PasswordSignIn) else ""
        if self._limiter.check(f"{request.remote}|{account}") is not None:
            return _problem(429, "too_many_attempts", prompts.reply("web_sign_in_too_many"))

        previous = await self.current(request)
        same_person = (
            previous is not None
            and isinstance(credentials, PasswordSignIn)
            and credentials.email.strip().lower() == previous.email.lower()
        )
        user_key = previous.user_key if same_person and previous else _new_user_key()
        user = await self._link_or_problem(user_key, credentials)
        if isinstance(user, web.Response):
            return user
        if previous is not None:
            await self._desk.revoke_session(previous.session_hash)
            if previous.user_key != user_key:
                await self._retire(previous.user_key)
        value = secrets.token_urlsafe(32)
        await self._desk.create_session(
            hash_session(value),
            identity_id=user.identity_id,
            expires_at=datetime.now(UTC) + self._ttl,
        )
        body = {
            "signed_in": True,
            "name": user.display_name,
            "email": user.profile.email,
            "conversation": conversation_tag(user_key),
        }
        if same_person and self.on_relinked is not None:
            await self.on_relinked(user_key)  # e.g. answer the question that waited
        response = web.json_response(body, headers={"Cache-Control": "no-store"})
        max_age = int(self._ttl.total_seconds())
        response.headers.add(
            "Set-Cookie", session_cookie(value, secure=self._secure, max_age=max_age)
        )
        return response

    async def _link_or_problem(
        self, user_key: str, credentials: PasswordSignIn | TokenSignIn
    ) -> HelpdeskUser | web.Response:
        """Link the widget user to their helpdesk account, or the problem to answer with."""
        try:
            return await self._link(user_key, credentials)
        except AuthError:
            message = (
                prompts.reply("web_sign_in_token_refused")
                if isinstance(credentials, TokenSignIn)
                else prompts.reply("web_sign_in_refused")
            )
            return _problem(401, "invalid_credentials", message)
        except PermissionDenied:
            return _problem(403, "not_permitted", prompts.reply("web_sign_in_not_permitted"))
        except RateLimited:
            return _problem(429, "helpdesk_busy", prompts.reply("web_helpdesk_busy"))
        except HelpdeskError as exc:
            log.warning("Widget sign-in failed: %s", type(exc).__name__)
            return _problem(503, "helpdesk_unavailable", prompts.reply("web_helpdesk_unreachable"))

    async def sign_out(self, request: web.Request) -> web.Response:
        """DELETE /widget/session: revoke the session and unlink its helpdesk tokens."""
        if not self.origin_allowed(request):
            return origin_refused()
        user = await self.current(request)
        if user is not None:
            await self._desk.revoke_session(user.session_hash)
            await self._retire(user.user_key)
        response = web.json_response({"signed_in": False}, headers={"Cache-Control": "no-store"})
        response.headers.add("Set-Cookie", session_cookie("", secure=self._secure, max_age=0))
        return response

    # --- helpers -------------------------------------------------------------------------

    async def _link(self, user_key: str, credentials: PasswordSignIn | TokenSignIn) -> HelpdeskUser:
        if isinstance(credentials, TokenSignIn):
            return await self._identities.link_with_access_token(
                CHANNEL, user_key, access_token=credentials.access_token
            )
        return await self._identities.link_with_password(
            CHANNEL, user_key, username=credentials.email.strip(), password=credentials.password
        )

    async def _retire(self, user_key: str) -> None:
        """Log the helpdesk tokens out, forget the link, close the key's live sockets."""
        try:
            async with asyncio.timeout(UNLINK_TIMEOUT_S):
                await self._identities.unlink(CHANNEL, user_key)
        except TimeoutError:
            log.warning("Unlinking a widget user timed out; the session is revoked anyway")
        if self.on_signed_out is not None:
            await self.on_signed_out(user_key)


def _new_user_key() -> str:
    return f"{CHANNEL}:{secrets.token_urlsafe(18)}"
