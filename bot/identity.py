"""Who a channel user is on the helpdesk: linking, the encrypted token vault, per-user auth.

A channel user (a Slack user, a Teams user, a widget session, a terminal) is linked to one
helpdesk account. Its tokens are stored encrypted (Fernet, with a key derived from
`BOT_SECRET_KEY`); a refresh the client performs is written back at once, so every replica
and every later turn uses the newest token. When the helpdesk refuses the refresh token,
callers get `ReauthRequired` and ask the user to link again; the conversation is kept.
"""

from __future__ import annotations

import base64
import logging
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from bot.helpdesk.client import HelpdeskClient
from bot.helpdesk.credentials import UserAuth
from bot.helpdesk.errors import HelpdeskError, ReauthRequired
from bot.helpdesk.models import Profile
from bot.store.records import Identity
from bot.store.store import Store
from bot.tooling import Capabilities

log = logging.getLogger(__name__)

SECRET_KEY_NAME = "bot_secret_key"  # noqa: S105 - the name it is stored under
_USER_KEY_PREFIX = "identity:"


def derive_key(secret: str, *, purpose: str) -> bytes:
    """A 32-byte key for one purpose (token vault, link signing, ...) from the bot secret."""
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose.encode())
    return hkdf.derive(secret.encode())


async def load_secret_key(store: Store, configured: str | None) -> str:
    """`BOT_SECRET_KEY` if set; else the one generated into the database on first start."""
    if configured:
        return configured
    return await store.get_or_create_secret(SECRET_KEY_NAME, secrets.token_urlsafe(48))


class TokenVault:
    """Encrypts helpdesk tokens at rest and writes refreshed tokens back to the store."""

    def __init__(self, store: Store, secret: str) -> None:
        self._store = store
        key = derive_key(secret, purpose="helpdesk-bot token vault v1")
        self._fernet = Fernet(base64.urlsafe_b64encode(key))

    def seal(self, token: str) -> bytes:
        return self._fernet.encrypt(token.encode())

    def open(self, sealed: bytes | None) -> str | None:
        """The token, or None when absent or undecryptable (e.g. the secret key changed)."""
        if not sealed:
            return None
        try:
            return self._fernet.decrypt(sealed).decode()
        except InvalidToken:
            log.warning("A stored helpdesk token could not be decrypted; the user must relink")
            return None

    async def persist_refreshed(self, auth: UserAuth) -> None:
        """The client's `on_tokens_refreshed` hook: store the new tokens of a linked user."""
        identity_id = identity_id_of(auth)
        if identity_id is None:
            return
        await self._store.update_tokens(
            identity_id,
            access_token=self.seal(auth.access_token),
            access_expires_at=None,
            refresh_token=self.seal(auth.refresh_token) if auth.refresh_token else None,
        )


def identity_id_of(auth: UserAuth) -> int | None:
    if auth.user_key.startswith(_USER_KEY_PREFIX):
        suffix = auth.user_key[len(_USER_KEY_PREFIX) :]
        return int(suffix) if suffix.isdigit() else None
    return None


@dataclass(frozen=True, slots=True)
class HelpdeskUser:
    """A linked user, ready to act on the helpdesk with their own token."""

    identity_id: int
    auth: UserAuth
    profile: Profile
    capabilities: Capabilities

    @property
    def display_name(self) -> str:
        return f"{self.profile.first_name} {self.profile.last_name}".strip()


class UserDirectory(Protocol):
    """Who a channel user is on the helpdesk: what the engine needs of `IdentityService`."""

    async def resolve(self, channel: str, user_key: str) -> HelpdeskUser | None:
        """The linked helpdesk user, or None; raises `ReauthRequired` when the helpdesk
        refuses the stored sign-in."""
        ...


class IdentityService:
    """Links channel users to helpdesk accounts and resolves them for each turn."""

    def __init__(
        self,
        *,
        store: Store,
        helpdesk: HelpdeskClient,
        vault: TokenVault,
        profile_ttl_s: float = 300.0,
    ) -> None:
        self._store = store
        self._helpdesk = helpdesk
        self._vault = vault
        self._profile_ttl_s = profile_ttl_s
        self._profiles: dict[int, tuple[float, Profile, Capabilities]] = {}

    async def resolve(self, channel: str, user_key: str) -> HelpdeskUser | None:
        """The linked helpdesk user, or None when not linked (or tokens unusable).

        Raises `ReauthRequired` when the helpdesk refuses the stored refresh token.
        """
        identity = await self._store.get_identity(channel, user_key)
        if identity is None:
            return None
        auth = self._auth_for(identity)
        if auth is None:
            return None
        profile, capabilities = await self._profile(identity.id, auth)
        return HelpdeskUser(
            identity_id=identity.id, auth=auth, profile=profile, capabilities=capabilities
        )

    async def link_with_password(
        self, channel: str, user_key: str, *, username: str, password: str
    ) -> HelpdeskUser:
        """Sign in to the helpdesk and link the channel user (raises AuthError if refused)."""
        login = await self._helpdesk.login(username, password)
        return await self._link(
            channel,
            user_key,
            access_token=login.access_token,
            refresh_token=login.refresh_token,
            expires_in=login.expires_in,
        )

    async def link_with_access_token(
        self, channel: str, user_key: str, *, access_token: str
    ) -> HelpdeskUser:
        """Link with a token the helpdesk portal already holds (embedded widget)."""
        return await self._link(
            channel, user_key, access_token=access_token, refresh_token=None, expires_in=None
        )

    async def link_with_tokens(
        self,
        channel: str,
        user_key: str,
        *,
        access_token: str,
        refresh_token: str | None,
        expires_in: int | None = None,
    ) -> HelpdeskUser:
        """Link with tokens the helpdesk issued elsewhere (e.g. an OAuth sign-in)."""
        return await self._link(
            channel,
            user_key,
            access_token=access_token,
            refresh_token=refresh_token,
            expires_in=expires_in,
        )

    async def note_channel_login(self, channel: str, user_key: str, login: str | None) -> bool:
        """Keep the channel's sign-in name (e.g. the Teams UPN) with the user's link, if any."""
        if not login:
            return False
        return await self._store.note_channel_login(channel, user_key, login)

    async def unlink(self, channel: str, user_key: str) -> bool:
        """Revoke the helpdesk tokens (best effort) and forget the link."""
        identity = await self._store.get_identity(channel, user_key)
        if identity is None:
            return False
        auth = self._auth_for(identity)
        if auth is not None:
            try:
                await self._helpdesk.logout(auth)
            except HelpdeskError as exc:
                log.info("Logout during unlink failed (%s); forgetting the link anyway", exc)
        self._profiles.pop(identity.id, None)
        return await self._store.unlink_identity(channel, user_key)

    async def _link(
        self,
        channel: str,
        user_key: str,
        *,
        access_token: str,
        refresh_token: str | None,
        expires_in: int | None,
    ) -> HelpdeskUser:
        probe = UserAuth(user_key="linking", access_token=access_token, refresh_token=None)
        profile = await self._helpdesk.get_profile(probe)
        expires_at = datetime.now(UTC) + timedelta(seconds=expires_in) if expires_in else None
        identity = await self._store.link_identity(
            channel,
            user_key,
            employee_number=str(profile.employee_number),
            email=profile.email,
            display_name=f"{profile.first_name} {profile.last_name}".strip(),
            company=profile.company_name,
            access_token=self._vault.seal(access_token),
            refresh_token=self._vault.seal(refresh_token) if refresh_token else None,
            access_expires_at=expires_at,
        )
        auth = UserAuth(
            user_key=f"{_USER_KEY_PREFIX}{identity.id}",
            access_token=access_token,
            refresh_token=refresh_token,
        )
        capabilities = await self._capabilities(auth, profile)
        self._profiles[identity.id] = (time.monotonic(), profile, capabilities)
        return HelpdeskUser(
            identity_id=identity.id, auth=auth, profile=profile, capabilities=capabilities
        )

    def _auth_for(self, identity: Identity) -> UserAuth | None:
        access = self._vault.open(identity.access_token)
        if access is None:
            return None
        return UserAuth(
            user_key=f"{_USER_KEY_PREFIX}{identity.id}",
            access_token=access,
            refresh_token=self._vault.open(identity.refresh_token),
        )

    async def _profile(self, identity_id: int, auth: UserAuth) -> tuple[Profile, Capabilities]:
        cached = self._profiles.get(identity_id)
        if cached is not None and time.monotonic() - cached[0] < self._profile_ttl_s:
            return cached[1], cached[2]
        profile = await self._helpdesk.get_profile(auth)
        capabilities = await self._capabilities(auth, profile)
        self._profiles[identity_id] = (time.monotonic(), profile, capabilities)
        return profile, capabilities

    async def _capabilities(self, auth: UserAuth, profile: Profile) -> Capabilities:
        try:
            features = await self._helpdesk.features(auth)
        except ReauthRequired:
            raise
        except HelpdeskError as exc:
            log.info("Could not read enabled modules (%s); assuming the defaults", exc)
            return Capabilities.from_profile(profile)
        modules = [name for name, on in features.modules.model_dump().items() if on]
        return Capabilities.from_profile(profile, modules)
