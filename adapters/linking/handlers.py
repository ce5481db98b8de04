"""The account-link pages: a Slack or Teams user signs in to the helpdesk from a one-time link.

Routes (`mount`):
  GET  /link/{token}        the sign-in form: Email + Password, and the helpdesk's OAuth
                            providers (from `/auth/oauth/providers`) as buttons
  POST /link/{token}        sign in and link; the token is spent only when sign-in succeeds
                            (`LinkTokens.redeem`), then the channel is told (`announce`)
  GET  /link/{token}/oauth  where the helpdesk's OAuth flow sends the browser back

CSRF: signed double submit. The form page sets a random nonce in an HttpOnly,
SameSite=Strict cookie scoped to this link's path, and puts HMAC(key, jti + nonce) in a
hidden field (key derived from the bot secret). A post is accepted only when the field
matches the cookie it came with: a cross-site form post carries no Strict cookie, and no one
without the secret can mint a field for a nonce, nor reuse one across links.

OAuth: the Helpdesk API's contract ends at `/auth/oauth/url` (an authorization URL; the
sandbox points it at the real providers and has no stand-in authorize page), and it defines
no endpoint that turns an authorization `code` into helpdesk tokens. We assume the helpdesk
finishes the exchange itself and redirects to our `redirect_uri` with `access_token` (and
`refresh_token`) query parameters, the shape of its login response. A callback with only a
`code` is explained on the form, and the link stays usable for email and password.

Nothing here logs a password, a token or an email address.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from aiohttp import web

from adapters.channel import ChannelServices
from adapters.linking.pages import (
    CONTENT_SECURITY_POLICY,
    CSRF_FIELD,
    ProviderLink,
    RefusalKind,
    SignInForm,
    refusal_for,
    render_linked,
    render_refused,
    render_sign_in,
    safe_link,
)
from adapters.tasks import TaskGroup
from bot import prompts
from bot.helpdesk.errors import AuthError, HelpdeskError, RateLimited
from bot.identity import HelpdeskUser, derive_key
from bot.linking import LINK_TTL_S, LinkClaim, Linked, LinkError

log = logging.getLogger(__name__)

CSRF_COOKIE = "hd_link_csrf"
PROVIDERS_TIMEOUT_S = 5.0
MAX_FAILED_SIGN_INS = 5  # per link, per process: then the user asks for a new link
_MAX_USERNAME = 320
_MAX_PASSWORD = 1000
_MAX_TOKEN = 8192

_STATUS = {"invalid": 400, "expired": 410, "used": 410, "busy": 409, "csrf": 403, "locked": 429}

SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Cache-Control": "no-store",
    "Pragma": "no-cache",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}


def mount(app: web.Application, services: ChannelServices, tasks: TaskGroup) -> None:
    pages = LinkPages(services, tasks)
    app.router.add_get("/link/{token}", pages.show)
    app.router.add_post("/link/{token}", pages.submit)
    app.router.add_get("/link/{token}/oauth", pages.oauth_callback)


class CsrfGuard:
    """Mints and checks the form's CSRF field: HMAC over the link's jti and a cookie nonce."""

    def __init__(self, secret: str) -> None:
        self._key = derive_key(secret, purpose="helpdesk-bot link csrf v1")

    def issue(self, jti: str) -> tuple[str, str]:
        """A fresh (cookie nonce, form field) pair for the link `jti`."""
        nonce = secrets.token_urlsafe(32)
        return nonce, self._field(jti, nonce)

    def valid(self, jti: str, *, nonce: str | None, field: str | None) -> bool:
        if not nonce or not field:
            return False
        return hmac.compare_digest(self._field(jti, nonce), field)

    def _field(self, jti: str, nonce: str) -> str:
        return hmac.new(self._key, f"{jti}\n{nonce}".encode(), hashlib.sha256).hexdigest()


class FailedSignIns:
    """Counts wrong passwords per link, so one link cannot drive password guessing."""

    def __init__(self, limit: int = MAX_FAILED_SIGN_INS) -> None:
        self._limit = limit
        self._failures: dict[str, tuple[int, float]] = {}

    def locked(self, jti: str) -> bool:
        count, _ = self._failures.get(jti, (0, 0.0))
        return count >= self._limit

    def record(self, jti: str) -> None:
        now = time.monotonic()
        self._failures = {k: v for k, v in self._failures.items() if v[1] > now}
        count, _ = self._failures.get(jti, (0, 0.0))
        self._failures[jti] = (count + 1, now + LINK_TTL_S)

    def forget(self, jti: str) -> None:
        self._failures.pop(jti, None)


class LinkPages:
    """The handlers; they verify, render and call `links` and `identities`, nothing else."""

    def __init__(self, services: ChannelServices, tasks: TaskGroup) -> None:
        self._services = services
        self._tasks = tasks
        self._csrf = CsrfGuard(services.secret_key)
        self._failures = FailedSignIns()
        public = services.settings.bot_public_url.rstrip("/")
        self._public_url = public
        self._base_path = urlsplit(public).path
        self._secure_cookie = public.startswith("https://")

    # --- handlers ------------------------------------------------------------------------

    async def show(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        claim = await self._usable(token)
        if isinstance(claim, web.Response):
            return claim
        return await self._form(token, claim)

    async def submit(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        # Before the CSRF check: a form resubmitted from history after success (its
        # cookie is gone by then) should hear "already used", not "form expired".
        claim = await self._usable(token)
        if isinstance(claim, web.Response):
            return claim
        form = await request.post()
        field = form.get(CSRF_FIELD)
        nonce = request.cookies.get(CSRF_COOKIE)
        if not self._csrf.valid(
            claim.jti, nonce=nonce, field=field if isinstance(field, str) else None
        ):
            log.info("Refused a link form post from a %s user: bad CSRF token", claim.channel)
            return self._refused("csrf", channel=claim.channel, retry_url=self._link_path(token))
        username, password = form.get("username"), form.get("password")
        if not isinstance(username, str) or not isinstance(password, str):
            error = prompts.reply("link_form_incomplete")
            return await self._form(token, claim, error=error, status=400)
        username = username.strip()
        if (
            not username
            or not password
            or len(username) > _MAX_USERNAME
            or len(password) > _MAX_PASSWORD
        ):
            return await self._form(
                token,
                claim,
                username=username[:_MAX_USERNAME],
                error=prompts.reply("link_form_incomplete"),
                status=400,
            )

        def sign_in() -> Awaitable[HelpdeskUser]:
            return self._services.identities.link_with_password(
                claim.channel, claim.user_key, username=username, password=password
            )

        refused = prompts.reply("link_form_refused", tenant_name=self._services.tenant_name)
        return await self._link(token, claim, sign_in, username=username, refused=refused)

    async def oauth_callback(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        claim = await self._usable(token)
        if isinstance(claim, web.Response):
            return claim
        access_token = request.query.get("access_token", "")
        if not access_token or len(access_token) > _MAX_TOKEN:
            if request.query.get("error"):
                error = prompts.reply("link_form_provider_failed")
            else:
                error = prompts.reply("link_form_provider_unusable")
            return await self._form(token, claim, error=error, status=400)
        refresh_token = request.query.get("refresh_token", "")[:_MAX_TOKEN] or None

        def sign_in() -> Awaitable[HelpdeskUser]:
            return self._services.identities.link_with_tokens(
                claim.channel,
                claim.user_key,
                access_token=access_token,
                refresh_token=refresh_token,
            )

        refused = prompts.reply("link_form_token_refused")
        return await self._link(token, claim, sign_in, username="", refused=refused)

    # --- steps ---------------------------------------------------------------------------

    async def _usable(self, token: str) -> LinkClaim | web.Response:
        """The link's claim, or the page that refuses it (invalid, expired or used)."""
        try:
            claim = self._services.links.inspect(token)
        except LinkError as exc:
            return self._refused(exc.kind)
        try:
            await self._services.links.ensure_unused(claim)
        except LinkError as exc:
            return self._refused(exc.kind, channel=claim.channel)
        return claim

    async def _link(
        self,
        token: str,
        claim: LinkClaim,
        sign_in: Callable[[], Awaitable[HelpdeskUser]],
        *,
        username: str,
        refused: str,
    ) -> web.Response:
        if self._failures.locked(claim.jti):
            return self._refused("locked", channel=claim.channel)
        try:
            user = await self._services.links.redeem(claim, sign_in)
        except LinkError as exc:
            return self._refused(exc.kind, channel=claim.channel)
        except RateLimited:
            error = prompts.reply("link_form_helpdesk_busy")
            return await self._form(token, claim, username=username, error=error, status=429)
        except AuthError:
            self._failures.record(claim.jti)
            log.info("Helpdesk sign-in refused for a %s user on the link page", claim.channel)
            return await self._form(token, claim, username=username, error=refused)
        except (HelpdeskError, TimeoutError) as exc:
            log.warning("Helpdesk sign-in failed on the link page: %s", type(exc).__name__)
            error = prompts.reply("link_form_helpdesk_down")
            return await self._form(token, claim, username=username, error=error, status=503)
        self._failures.forget(claim.jti)
        log.info("Linked a %s user to their helpdesk account", claim.channel)
        self._announce(Linked(claim=claim, helpdesk_name=user.display_name))
        body = render_linked(
            tenant_name=self._services.tenant_name,
            helpdesk_name=user.display_name,
            channel=claim.channel,
            resumes=claim.pending_message_id is not None,
        )
        response = _page(body, status=200)
        response.del_cookie(CSRF_COOKIE, path=self._link_path(token))
        return response

    def _announce(self, linked: Linked) -> None:
        """Tell the channel after the response: its listener may answer the waiting
        question, which must not hold this page."""
        try:
            self._tasks.spawn(
                self._services.links.announce(linked),
                name=f"announce link ({linked.claim.channel})",
            )
        except RuntimeError:  # shutting down: the link is made; the user asks again
            log.warning(
                "Shutting down: the %s user was not told they are linked", linked.claim.channel
            )

    async def _form(
        self,
        token: str,
        claim: LinkClaim,
        *,
        username: str = "",
        error: str | None = None,
        status: int = 200,
    ) -> web.Response:
        nonce, field = self._csrf.issue(claim.jti)
        form = SignInForm(
            tenant_name=self._services.tenant_name,
            channel=claim.channel,
            csrf_token=field,
            providers=await self._providers(token),
            display_name=claim.display_name,
            username=username,
            error=error,
        )
        response = _page(render_sign_in(form), status=status)
        response.set_cookie(
            CSRF_COOKIE,
            nonce,
            path=self._link_path(token),
            max_age=LINK_TTL_S,
            httponly=True,
            samesite="Strict",
            secure=self._secure_cookie,
        )
        return response

    async def _providers(self, token: str) -> list[ProviderLink]:
        """The helpdesk's OAuth buttons; none if it offers none or does not answer in time."""
        desk = self._services.desk
        redirect_uri = f"{self._public_url}/link/{token}/oauth"

        async def one(key: str, name: str) -> ProviderLink | None:
            try:
                url = await desk.oauth_url(key, redirect_uri=redirect_uri)
            except HelpdeskError as exc:
                log.info("No OAuth URL for provider %s: %s", key, type(exc).__name__)
                return None
            return ProviderLink(name=name, url=url) if safe_link(url) else None

        try:
            async with asyncio.timeout(PROVIDERS_TIMEOUT_S):
                providers = await desk.oauth_providers()
                links = await asyncio.gather(*(one(p.key, p.name) for p in providers))
        except (HelpdeskError, TimeoutError) as exc:
            log.info("OAuth providers unavailable for the link page: %s", type(exc).__name__)
            return []
        return [link for link in links if link is not None]

    def _refused(
        self, kind: RefusalKind, *, channel: str | None = None, retry_url: str | None = None
    ) -> web.Response:
        body = render_refused(
            tenant_name=self._services.tenant_name,
            refusal=refusal_for(kind, channel=channel),
            retry_url=retry_url,
        )
        return _page(body, status=_STATUS[kind])

    def _link_path(self, token: str) -> str:
        return f"{self._base_path}/link/{token}"


def _page(body: str, *, status: int) -> web.Response:
    response = web.Response(text=body, status=status, content_type="text/html", charset="utf-8")
    response.headers.update(SECURITY_HEADERS)
    return response
