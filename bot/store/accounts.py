"""Linked helpdesk identities, widget sessions, generated secrets and satisfaction ratings.

Tokens arrive already encrypted (bot.identity holds the key); the store keeps ciphertext.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update

from bot.store._base import StoreBase, resolve_now
from bot.store.models import AppSecretRow, IdentityRow, RatingRow, WebSessionRow
from bot.store.records import (
    Identity,
    Rating,
    WebSession,
    identity_from_row,
    rating_from_row,
    web_session_from_row,
)

_I = IdentityRow
_S = WebSessionRow


class AccountStore(StoreBase):
    async def link_identity(
        self,
        channel: str,
        channel_user_id: str,
        *,
        employee_number: str,
        email: str,
        display_name: str,
        company: str | None,
        access_token: bytes | None,
        refresh_token: bytes | None,
        access_expires_at: datetime | None,
        now: datetime | None = None,
    ) -> Identity:
        """Link (or re-link) a channel user to a helpdesk account; the last link wins."""
        now = resolve_now(now)
        profile: dict[str, Any] = {
            "employee_number": employee_number,
            "email": email,
            "display_name": display_name,
            "company": company,
            "access_token": access_token,
            "refresh_token": refresh_token,
            "access_expires_at": access_expires_at,
        }
        insert = self._insert(_I).values(
            channel=channel,
            channel_user_id=channel_user_id,
            linked_at=now,
            updated_at=now,
            **profile,
        )
        statement = insert.on_conflict_do_update(
            index_elements=["channel", "channel_user_id"],
            set_={**profile, "linked_at": now, "updated_at": now},
        ).returning(_I)
        async with self._writing() as session:
            row = await session.scalar(statement)
            assert row is not None
            return identity_from_row(row)

    async def get_identity(self, channel: str, channel_user_id: str) -> Identity | None:
        query = select(_I).where(_I.channel == channel, _I.channel_user_id == channel_user_id)
        async with self._reading() as session:
            row = await session.scalar(query)
            return identity_from_row(row) if row is not None else None

    async def get_identity_by_id(self, identity_id: int) -> Identity | None:
        async with self._reading() as session:
            row = await session.get(_I, identity_id)
            return identity_from_row(row) if row is not None else None

    async def update_tokens(
        self,
        identity_id: int,
        *,
        access_token: bytes,
        access_expires_at: datetime | None,
        refresh_token: bytes | None = None,
        now: datetime | None = None,
    ) -> bool:
        """Store refreshed tokens; the refresh token is kept unless a new one is given."""
        values: dict[str, Any] = {
            "access_token": access_token,
            "access_expires_at": access_expires_at,
            "updated_at": resolve_now(now),
        }
        if refresh_token is not None:
            values["refresh_token"] = refresh_token
        statement = (
            update(_I)
            .where(_I.id == identity_id)
            .values(values)
            .returning(_I.id)
            .execution_options(synchronize_session=False)
        )
        async with self._writing() as session:
            return (await session.scalar(statement)) is not None

    async def note_channel_login(self, channel: str, channel_user_id: str, login: str) -> bool:
        """Keep the channel's sign-in name (Teams UPN) with a link; False if not linked."""
        statement = (
            update(_I)
            .where(
                _I.channel == channel,
                _I.channel_user_id == channel_user_id,
                _I.channel_login.is_distinct_from(login),
            )
            .values(channel_login=login)
            .returning(_I.id)
            .execution_options(synchronize_session=False)
        )
        async with self._writing() as session:
            return (await session.scalar(statement)) is not None

    async def unlink_identity(self, channel: str, channel_user_id: str) -> bool:
        """Forget the link and its tokens; the user's widget sessions go with it."""
        statement = (
            delete(_I)
            .where(_I.channel == channel, _I.channel_user_id == channel_user_id)
            .returning(_I.id)
        )
        async with self._writing() as session:
            return (await session.scalar(statement)) is not None

    async def create_web_session(
        self,
        session_hash: str,
        *,
        identity_id: int,
        expires_at: datetime,
        now: datetime | None = None,
    ) -> WebSession:
        """Record a widget session by the hash of its cookie value (never the value)."""
        row = _S(
            session_hash=session_hash,
            identity_id=identity_id,
            created_at=resolve_now(now),
            expires_at=expires_at,
            revoked_at=None,
        )
        async with self._writing() as session:
            session.add(row)
            await session.flush()
            return web_session_from_row(row)

    async def get_web_session(
        self, session_hash: str, *, now: datetime | None = None
    ) -> WebSession | None:
        """The session if it exists, is not revoked and has not expired; else None."""
        query = select(_S).where(
            _S.session_hash == session_hash,
            _S.revoked_at.is_(None),
            _S.expires_at > resolve_now(now),
        )
        async with self._reading() as session:
            row = await session.scalar(query)
            return web_session_from_row(row) if row is not None else None

    async def revoke_web_session(self, session_hash: str, *, now: datetime | None = None) -> bool:
        statement = (
            update(_S)
            .where(_S.session_hash == session_hash, _S.revoked_at.is_(None))
            .values(revoked_at=resolve_now(now))
            .returning(_S.session_hash)
            .execution_options(synchronize_session=False)
        )
        async with self._writing() as session:
            return (await session.scalar(statement)) is not None

    async def get_secret(self, key: str) -> str | None:
        async with self._reading() as session:
            row = await session.get(AppSecretRow, key)
            return row.value if row is not None else None

    async def get_or_create_secret(
        self, key: str, value: str, *, now: datetime | None = None
    ) -> str:
        """The stored secret under ``key``; ``value`` is stored only if there is none yet.

        Two replicas starting at once with freshly generated values both get the one that
        was stored first, so they sign and encrypt with the same key.
        """
        insert = (
            self._insert(AppSecretRow)
            .values(key=key, value=value, created_at=resolve_now(now))
            .on_conflict_do_nothing(index_elements=["key"])
        )
        async with self._writing() as session:
            await session.execute(insert)
            stored = await session.scalar(select(AppSecretRow.value).where(AppSecretRow.key == key))
            assert stored is not None
            return stored

    async def record_rating(
        self,
        conversation_id: int,
        *,
        rating_key: str,
        score: int,
        now: datetime | None = None,
    ) -> Rating:
        """Store a 1-5 satisfaction rating; rating the same ``rating_key`` (e.g. the
        helpdesk chat id) again replaces the score, so a double click counts once."""
        if not 1 <= score <= 5:
            raise ValueError("score must be between 1 and 5")
        now = resolve_now(now)
        insert = self._insert(RatingRow).values(
            conversation_id=conversation_id,
            rating_key=rating_key,
            score=score,
            created_at=now,
            updated_at=now,
        )
        statement = insert.on_conflict_do_update(
            index_elements=["conversation_id", "rating_key"],
            set_={"score": score, "updated_at": now},
        ).returning(RatingRow)
        async with self._writing() as session:
            row = await session.scalar(statement)
            assert row is not None
            return rating_from_row(row)

    async def ratings_for(self, conversation_id: int) -> list[Rating]:
        query = (
            select(RatingRow)
            .where(RatingRow.conversation_id == conversation_id)
            .order_by(RatingRow.created_at, RatingRow.id)
        )
        async with self._reading() as session:
            return [rating_from_row(row) for row in await session.scalars(query)]
