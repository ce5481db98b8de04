"""HelpdeskClient: one typed async method per Valethon Helpdesk API call the bot makes.

One instance per process, on one shared ``httpx.AsyncClient`` (one connection pool for all
users). The user is per call: authenticated methods take a ``UserAuth`` first, whose tokens
the client renews in place on a 401 (see ``credentials``). Retries, deadlines and error
translation live in ``transport``; every failure is a ``bot.helpdesk.errors.HelpdeskError``.

    async with HelpdeskClient(base_url) as helpdesk:
        login = await helpdesk.login("jane@acme.example", "demo-jane")
        auth = UserAuth("slack:T1:U1", login.access_token, login.refresh_token)
        page = await helpdesk.list_tickets(auth, status="open")
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from http.cookiejar import CookieJar, DefaultCookiePolicy
from types import TracebackType
from typing import Any, Self

import httpx

from bot.helpdesk import paths
from bot.helpdesk.credentials import TokenRefresher, TokensRefreshed, UserAuth
from bot.helpdesk.errors import ReauthRequired
from bot.helpdesk.models import (
    ApprovalsCount,
    AssetDetail,
    AssetPage,
    AuthStatus,
    ChatMessage,
    ChatMessages,
    ChatSession,
    ChatStatus,
    Comment,
    CreatedTicket,
    Features,
    JobType,
    JobTypes,
    KbArticle,
    KbPage,
    LoginResult,
    ModelT,
    OAuthProvider,
    OAuthProviders,
    OAuthUrl,
    Outages,
    Profile,
    TenantInit,
    Ticket,
    TicketDetail,
    TicketPage,
    TokenRefresh,
    parse_body,
)
from bot.helpdesk.transport import Params, RetryPolicy, Transport

__all__ = ["HelpdeskClient", "UserAuth"]

log = logging.getLogger(__name__)

_TICKET_SEARCH_PAGE = 100  # the API's maximum `limit`


def _without_none(**values: Any) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}


def _iso_utc(moment: datetime | str) -> str:
    if isinstance(moment, str):
        return moment
    if moment.tzinfo is None:
        raise ValueError("since must be timezone-aware (the API speaks UTC)")
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _refuse_cookies() -> CookieJar:
    # Login answers with a session cookie; a pool shared by all users must not keep it.
    return CookieJar(policy=DefaultCookiePolicy(allowed_domains=[]))


class HelpdeskClient:
    """The Valethon Helpdesk API v1, one async method per endpoint the bot uses."""

    def __init__(
        self,
        base_url: str,
        *,
        http: httpx.AsyncClient | None = None,
        connect_timeout: float = 5.0,
        read_timeout: float = 15.0,
        retry_budget: float = 10.0,
        backoff_base: float = 0.5,
        backoff_max: float = 8.0,
        on_tokens_refreshed: TokensRefreshed | None = None,
    ) -> None:
        """``http`` is shared and stays open if given (its cookies are never sent); else owned."""
        self._owns_http = http is None
        self._http = http if http is not None else httpx.AsyncClient(cookies=_refuse_cookies())
        timeout = httpx.Timeout(
            connect=connect_timeout, read=read_timeout, write=read_timeout, pool=connect_timeout
        )
        policy = RetryPolicy(
            budget=retry_budget, backoff_base=backoff_base, backoff_max=backoff_max
        )
        self._transport = Transport(self._http, base_url=base_url, timeout=timeout, policy=policy)
        # How long one call may take when the helpdesk is slow but answers: connect, then
        # wait for the answer. Callers derive their deadlines from it (see bot.tooling).
        self.call_timeout_s = connect_timeout + read_timeout
        self._refresher = TokenRefresher(self.refresh, on_refreshed=on_tokens_refreshed)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool if this client created it."""
        if self._owns_http:
            await self._http.aclose()

    # --- plumbing -----------------------------------------------------------------------

    async def _call(
        self,
        model: type[ModelT],
        method: str,
        path: str,
        *,
        auth: UserAuth | None = None,
        json: object = None,
        params: Params | None = None,
        idempotent: bool | None = None,
        renew: bool = True,
    ) -> ModelT:
        body, status = await self._request(
            method, path, auth=auth, json=json, params=params, idempotent=idempotent, renew=renew
        )
        return parse_body(model, body, method=method, path=path, status=status)

    async def _request(
        self,
        method: str,
        path: str,
        *,
        auth: UserAuth | None,
        json: object = None,
        params: Params | None = None,
        idempotent: bool | None = None,
        renew: bool = True,
    ) -> tuple[Any, int]:
        safe = method in ("GET", "PUT") if idempotent is None else idempotent
        token = auth.access_token if auth is not None else None
        send = self._transport.send
        response = await send(method, path, token=token, json=json, params=params, idempotent=safe)
        if response.status_code == 401 and auth is not None and token is not None and renew:
            # A 401 means the server did not act, so even a non-idempotent call may repeat.
            await self._refresher.renew(auth, rejected=token, method=method, path=path)
            response = await send(
                method, path, token=auth.access_token, json=json, params=params, idempotent=safe
            )
            if response.status_code == 401:
                raise ReauthRequired(
                    "The renewed access token was refused",
                    user_key=auth.user_key,
                    method=method,
                    path=path,
                )
        body = self._transport.decode(response, method=method, path=path)
        return body, response.status_code

    # --- auth ---------------------------------------------------------------------------

    async def login(self, username: str, password: str) -> LoginResult:
        body = {"username": username, "password": password}
        return await self._call(LoginResult, "POST", paths.AUTH_LOGIN, json=body, idempotent=True)

    async def refresh(self, refresh_token: str) -> TokenRefresh:
        body = {"refresh_token": refresh_token}
        return await self._call(
            TokenRefresh, "POST", paths.AUTH_REFRESH, json=body, idempotent=True
        )

    async def auth_status(self, auth: UserAuth) -> AuthStatus:
        # Never 401: an invalid token answers {"authenticated": false}, which is the point.
        return await self._call(AuthStatus, "GET", paths.AUTH_STATUS, auth=auth, renew=False)

    async def logout(self, auth: UserAuth) -> None:
        """Revoke the access token presented and the refresh token, if the holder has one."""
        body = _without_none(refresh_token=auth.refresh_token)
        await self._request(
            "POST", paths.AUTH_LOGOUT, auth=auth, json=body, idempotent=True, renew=False
        )

    async def oauth_providers(self) -> list[OAuthProvider]:
        result = await self._call(OAuthProviders, "GET", paths.OAUTH_PROVIDERS)
        return result.providers

    async def oauth_url(self, provider: str, *, redirect_uri: str | None = None) -> OAuthUrl:
        params = _without_none(provider=provider, redirect_uri=redirect_uri)
        return await self._call(OAuthUrl, "GET", paths.OAUTH_URL, params=params)

    async def get_profile(self, auth: UserAuth) -> Profile:
        return await self._call(Profile, "GET", paths.PROFILE, auth=auth)

    # --- tickets ------------------------------------------------------------------------

    async def list_tickets(
        self, auth: UserAuth, *, status: str = "all", page: int = 1, limit: int = 20
    ) -> TicketPage:
        params: Params = {"status": status, "page": page, "limit": limit}
        return await self._call(TicketPage, "GET", paths.TICKETS, auth=auth, params=params)

    async def create_ticket(
        self,
        auth: UserAuth,
        *,
        subject: str,
        description: str,
        priority: int | None = None,
        job_type: str | None = None,
    ) -> CreatedTicket:
        body = _without_none(
            subject=subject, description=description, priority=priority, job_type=job_type
        )
        return await self._call(CreatedTicket, "POST", paths.TICKETS, auth=auth, json=body)

    async def get_ticket(self, auth: UserAuth, ticket_id: int) -> TicketDetail:
        return await self._call(TicketDetail, "GET", paths.ticket(ticket_id), auth=auth)

    async def update_ticket(
        self,
        auth: UserAuth,
        ticket_id: int,
        *,
        status: str | None = None,
        priority: int | None = None,
        subject: str | None = None,
        job_type: str | None = None,
    ) -> Ticket:
        body = _without_none(status=status, priority=priority, subject=subject, job_type=job_type)
        if not body:
            raise ValueError("update_ticket needs at least one field to change")
        return await self._call(Ticket, "PUT", paths.ticket(ticket_id), auth=auth, json=body)

    async def add_comment(self, auth: UserAuth, ticket_id: int, comment: str) -> Comment:
        path = paths.ticket_comments(ticket_id)
        return await self._call(Comment, "POST", path, auth=auth, json={"comment": comment})

    async def find_ticket_by_number(
        self, auth: UserAuth, ticket_number: int, *, max_pages: int = 10
    ) -> Ticket | None:
        """The user's ticket with this number (tools speak numbers, the API ids), or None.

        Pages through all of the user's tickets, at most ``max_pages`` of 100.
        """
        for page in range(1, max_pages + 1):
            result = await self.list_tickets(
                auth, status="all", page=page, limit=_TICKET_SEARCH_PAGE
            )
            for ticket in result.tickets:
                if ticket.ticket_number == ticket_number:
                    return ticket
            if page >= result.pagination.total_pages:
                return None
        log.warning("find_ticket_by_number stopped after %d pages", max_pages)
        return None

    # --- approvals ----------------------------------------------------------------------

    async def list_approvals(self, auth: UserAuth, *, page: int = 1, limit: int = 20) -> TicketPage:
        params: Params = {"page": page, "limit": limit}
        return await self._call(TicketPage, "GET", paths.APPROVALS, auth=auth, params=params)

    async def approvals_count(self, auth: UserAuth) -> ApprovalsCount:
        return await self._call(ApprovalsCount, "GET", paths.APPROVALS_COUNT, auth=auth)

    async def approve_ticket(self, auth: UserAuth, ticket_id: int) -> Ticket:
        return await self._call(Ticket, "POST", paths.ticket_approve(ticket_id), auth=auth)

    async def reject_ticket(self, auth: UserAuth, ticket_id: int, reason: str) -> Ticket:
        path = paths.ticket_reject(ticket_id)
        return await self._call(Ticket, "POST", path, auth=auth, json={"reason": reason})

    # --- assets -------------------------------------------------------------------------

    async def list_assets(
        self,
        auth: UserAuth,
        *,
        page: int = 1,
        per_page: int = 20,
        type: str | None = None,
        status: str | None = None,
        q: str | None = None,
        mine: bool | None = None,
    ) -> AssetPage:
        params = _without_none(
            page=page, per_page=per_page, type=type, status=status, q=q, mine=mine
        )
        return await self._call(AssetPage, "GET", paths.ASSETS, auth=auth, params=params)

    async def get_asset(self, auth: UserAuth, asset_id: int) -> AssetDetail:
        return await self._call(AssetDetail, "GET", paths.asset(asset_id), auth=auth)

    # --- chat ---------------------------------------------------------------------------

    async def chat_start(self, auth: UserAuth) -> ChatSession:
        """Start a chat, or resume the user's newest one that has not ended (so: retry-safe)."""
        return await self._call(
            ChatSession, "POST", paths.CHAT_START, auth=auth, json={}, idempotent=True
        )

    async def chat_messages(
        self,
        auth: UserAuth,
        chat_id: int,
        *,
        since: datetime | str | None = None,
        page: int | None = None,
        per_page: int | None = None,
    ) -> ChatMessages:
        """Messages oldest first; ``since`` (aware datetime or ISO-8601) means strictly after."""
        params = _without_none(
            since=_iso_utc(since) if since is not None else None, page=page, per_page=per_page
        )
        path = paths.chat_messages(chat_id)
        return await self._call(ChatMessages, "GET", path, auth=auth, params=params)

    async def chat_send(self, auth: UserAuth, chat_id: int, message: str) -> ChatMessage:
        path = paths.chat_messages(chat_id)
        return await self._call(ChatMessage, "POST", path, auth=auth, json={"message": message})

    async def chat_create_ticket(
        self,
        auth: UserAuth,
        chat_id: int,
        *,
        subject: str | None = None,
        description: str | None = None,
        priority: int | None = None,
        job_type: str | None = None,
    ) -> CreatedTicket:
        """A ticket from the conversation (description defaults to the transcript)."""
        body = _without_none(
            subject=subject, description=description, priority=priority, job_type=job_type
        )
        path = paths.chat_ticket(chat_id)
        return await self._call(CreatedTicket, "POST", path, auth=auth, json=body)

    async def chat_transfer(
        self, auth: UserAuth, chat_id: int, *, reason: str | None = None
    ) -> ChatStatus:
        """Ask for a human agent; idempotent while waiting for or talking to one."""
        path = paths.chat_transfer(chat_id)
        body = _without_none(reason=reason)
        return await self._call(ChatStatus, "POST", path, auth=auth, json=body, idempotent=True)

    async def chat_end(self, auth: UserAuth, chat_id: int) -> ChatStatus:
        path = paths.chat_end(chat_id)
        return await self._call(ChatStatus, "POST", path, auth=auth, json={}, idempotent=True)

    # --- knowledge base -----------------------------------------------------------------

    async def search_kb(
        self,
        auth: UserAuth,
        *,
        search: str | None = None,
        category: str | None = None,
        page: int = 1,
        per_page: int = 10,
    ) -> KbPage:
        params = _without_none(search=search, category=category, page=page, per_page=per_page)
        return await self._call(KbPage, "GET", paths.KB_ARTICLES, auth=auth, params=params)

    async def get_kb_article(self, auth: UserAuth, article_id: int) -> KbArticle:
        return await self._call(KbArticle, "GET", paths.kb_article(article_id), auth=auth)

    # --- tenant and company data --------------------------------------------------------

    async def init(self) -> TenantInit:
        """Tenant branding, features and OAuth providers; needs no authentication."""
        return await self._call(TenantInit, "GET", paths.INIT)

    async def outages(self, auth: UserAuth, *, include_resolved: bool = False) -> Outages:
        params = {"include_resolved": True} if include_resolved else None
        return await self._call(Outages, "GET", paths.OUTAGES, auth=auth, params=params)

    async def job_types(self, auth: UserAuth) -> list[JobType]:
        result = await self._call(JobTypes, "GET", paths.JOB_TYPES, auth=auth)
        return result.job_types

    async def features(self, auth: UserAuth) -> Features:
        return await self._call(Features, "GET", paths.FEATURES, auth=auth)
