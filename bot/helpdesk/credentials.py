"""A user's Helpdesk tokens as the client holds them, and their single-flight renewal.

Many calls of one user run at once (a turn's tools, the handoff relay), often each with its
own ``UserAuth`` loaded from the token vault. When the access token expires they all get 401
together; ``TokenRefresher`` makes them share ONE ``/auth/refresh``: a lock per user_key, and
a short memory of which rejected token was replaced by which new one, so a call that arrives
after the refresh adopts the new token instead of refreshing again.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from bot.helpdesk.errors import AuthError, ReauthRequired, ValidationFailed
from bot.helpdesk.models import TokenRefresh

__all__ = ["TokenRefresher", "TokensRefreshed", "UserAuth"]

log = logging.getLogger(__name__)


@dataclass(eq=False)
class UserAuth:
    """One user's credentials; the client replaces the tokens in place when it refreshes them."""

    user_key: str
    access_token: str = field(repr=False)
    refresh_token: str | None = field(default=None, repr=False)


TokensRefreshed = Callable[[UserAuth], Awaitable[None]]


@dataclass(frozen=True)
class _Renewal:
    rejected: str  # the access token the API refused
    refresh_token: str  # the refresh token that was presented
    access_token: str | None  # its replacement; None: the refresh token was refused too
    new_refresh_token: str | None = None


class _KeyedLocks:
    """An asyncio.Lock per key that exists only while someone holds or awaits it."""

    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users == 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)


class TokenRefresher:
    """Renews a user's access token at most once per rejected token, however many calls ask."""

    def __init__(
        self,
        exchange: Callable[[str], Awaitable[TokenRefresh]],
        *,
        on_refreshed: TokensRefreshed | None = None,
        memory: int = 4096,
    ) -> None:
        self._exchange = exchange
        self._on_refreshed = on_refreshed
        self._locks = _KeyedLocks()
        self._renewals: OrderedDict[str, _Renewal] = OrderedDict()
        self._memory = memory

    async def renew(self, auth: UserAuth, *, rejected: str, method: str, path: str) -> None:
        """Give ``auth`` an access token newer than ``rejected``, or raise ReauthRequired."""
        async with self._locks.hold(auth.user_key):
            if auth.access_token != rejected:
                return  # a call sharing this holder renewed it while we waited
            renewal = self._renewals.get(auth.user_key)
            if renewal is not None and renewal.rejected == rejected:
                if renewal.access_token is not None:
                    auth.access_token = renewal.access_token
                    auth.refresh_token = renewal.new_refresh_token or auth.refresh_token
                    return
                if renewal.refresh_token == auth.refresh_token:
                    raise self._reauth(auth, method, path, "The refresh token was refused")
            await self._refresh(auth, rejected=rejected, method=method, path=path)

    async def _refresh(self, auth: UserAuth, *, rejected: str, method: str, path: str) -> None:
        refresh_token = auth.refresh_token
        if not refresh_token:
            raise self._reauth(auth, method, path, "No refresh token")
        try:
            result = await self._exchange(refresh_token)
        except (AuthError, ValidationFailed) as exc:
            self._remember(auth.user_key, _Renewal(rejected, refresh_token, None))
            log.info("helpdesk refresh token refused for user %s", auth.user_key)
            raise self._reauth(auth, method, path, "The refresh token was refused") from exc
        auth.access_token = result.access_token
        auth.refresh_token = result.refresh_token or refresh_token
        self._remember(
            auth.user_key,
            _Renewal(rejected, refresh_token, result.access_token, result.refresh_token),
        )
        log.info("helpdesk access token refreshed for user %s", auth.user_key)
        if self._on_refreshed is not None:
            try:
                await self._on_refreshed(auth)
            except Exception:
                # The call can go on with the new token; the vault keeps the old refresh
                # token, which stays valid, so a failure to persist costs one refresh later.
                log.exception("on_tokens_refreshed failed for user %s", auth.user_key)

    def _remember(self, user_key: str, renewal: _Renewal) -> None:
        self._renewals[user_key] = renewal
        self._renewals.move_to_end(user_key)
        while len(self._renewals) > self._memory:
            self._renewals.popitem(last=False)

    @staticmethod
    def _reauth(auth: UserAuth, method: str, path: str, summary: str) -> ReauthRequired:
        return ReauthRequired(summary, user_key=auth.user_key, method=method, path=path)
