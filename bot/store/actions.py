"""Pending actions: write tool calls that wait for the user's confirm and run exactly once.

Life of an action::

    pending ──claim──▶ executing ──complete──▶ done | failed
                          │  (interrupted: settled later by bot.recovery, also via complete)
       │
       ├──cancel──▶ cancelled
       └──(expires_at passed; expire_pending_actions)──▶ expired

Only ``claim_pending_action`` leaves ``pending`` towards execution, and it is one atomic
UPDATE guarded by ``status = 'pending' AND expires_at > now``, so of any number of
concurrent confirms (double clicks, retried deliveries, two replicas) exactly one wins.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import select, update

from bot.store._base import StoreBase, resolve_now
from bot.store.models import PendingActionRow
from bot.store.records import PendingAction, pending_action_from_row

_A = PendingActionRow

#: How long a proposed write waits for a confirm (issue 3: 15 minutes).
DEFAULT_ACTION_TTL_S = 15 * 60


class ActionStore(StoreBase):
    async def create_pending_action(
        self,
        conversation_id: int,
        *,
        user_key: str,
        tool_name: str,
        arguments: Mapping[str, Any],
        idempotency_key: str,
        ttl_s: float = DEFAULT_ACTION_TTL_S,
        now: datetime | None = None,
    ) -> PendingAction:
        """Store a proposed write. A second create with the same ``idempotency_key`` (a
        replayed turn) returns the first action unchanged instead of proposing it again."""
        now = resolve_now(now)
        insert = (
            self._insert(_A)
            .values(
                id=uuid.uuid4().hex,
                conversation_id=conversation_id,
                user_key=user_key,
                tool_name=tool_name,
                arguments=dict(arguments),
                idempotency_key=idempotency_key,
                status="pending",
                created_at=now,
                expires_at=now + timedelta(seconds=ttl_s),
            )
            .on_conflict_do_nothing(index_elements=["idempotency_key"])
            .returning(_A)
        )
        async with self._writing() as session:
            row = await session.scalar(insert)
            if row is None:
                row = (
                    await session.scalars(select(_A).where(_A.idempotency_key == idempotency_key))
                ).one()
            return pending_action_from_row(row)

    async def claim_pending_action(
        self, action_id: str, *, user_key: str | None = None, now: datetime | None = None
    ) -> PendingAction | None:
        """Move a live pending action to ``executing`` and return it, for exactly one caller.

        None when it does not exist, is not pending any more (already claimed, cancelled,
        expired), has expired, or — when ``user_key`` is given — was proposed to someone
        else (a colleague clicking Confirm in a shared Slack thread).
        """
        now = resolve_now(now)
        conditions = [_A.id == action_id, _A.status == "pending", _A.expires_at > now]
        if user_key is not None:
            conditions.append(_A.user_key == user_key)
        statement = (
            update(_A)
            .where(*conditions)
            .values(status="executing", executed_at=now)
            .returning(_A)
            .execution_options(synchronize_session=False)
        )
        async with self._writing() as session:
            row = await session.scalar(statement)
            return pending_action_from_row(row) if row is not None else None

    async def complete_pending_action(
        self,
        action_id: str,
        *,
        status: Literal["done", "failed"],
        result: Mapping[str, Any] | None = None,
        now: datetime | None = None,
    ) -> bool:
        """Record the outcome of a claimed action; False unless it was ``executing``."""
        statement = (
            update(_A)
            .where(_A.id == action_id, _A.status == "executing")
            .values(
                status=status,
                result=dict(result) if result is not None else None,
                finished_at=resolve_now(now),
            )
        )
        return await self._update_action(statement)

    async def cancel_pending_action(
        self, action_id: str, *, user_key: str | None = None, now: datetime | None = None
    ) -> bool:
        """Cancel an action still pending; False if it was already claimed or finished."""
        conditions = [_A.id == action_id, _A.status == "pending"]
        if user_key is not None:
            conditions.append(_A.user_key == user_key)
        statement = (
            update(_A).where(*conditions).values(status="cancelled", finished_at=resolve_now(now))
        )
        return await self._update_action(statement)

    async def get_pending_action(self, action_id: str) -> PendingAction | None:
        """The action in whatever state it is in (to tell the user why a confirm failed)."""
        async with self._reading() as session:
            row = await session.get(_A, action_id)
            return pending_action_from_row(row) if row is not None else None

    async def latest_pending_action(
        self, conversation_id: int, *, now: datetime | None = None
    ) -> PendingAction | None:
        """The newest action of the conversation still awaiting a confirm (for a typed
        "yes"/"no"), or None."""
        query = (
            select(_A)
            .where(
                _A.conversation_id == conversation_id,
                _A.status == "pending",
                _A.expires_at > resolve_now(now),
            )
            .order_by(_A.created_at.desc(), _A.id.desc())
            .limit(1)
        )
        async with self._reading() as session:
            row = await session.scalar(query)
            return pending_action_from_row(row) if row is not None else None

    async def interrupted_pending_actions(
        self,
        *,
        older_than_s: float,
        conversation_id: int | None = None,
        now: datetime | None = None,
    ) -> list[PendingAction]:
        """Actions claimed more than ``older_than_s`` ago and still ``executing`` (of one
        conversation, or of all): their runner stopped (a crash or restart) before recording
        the outcome. Oldest first."""
        cutoff = resolve_now(now) - timedelta(seconds=older_than_s)
        conditions = [_A.status == "executing", _A.executed_at <= cutoff]
        if conversation_id is not None:
            conditions.append(_A.conversation_id == conversation_id)
        query = select(_A).where(*conditions).order_by(_A.executed_at, _A.id)
        async with self._reading() as session:
            return [pending_action_from_row(row) for row in await session.scalars(query)]

    async def expire_pending_actions(self, *, now: datetime | None = None) -> list[PendingAction]:
        """Mark every pending action past its expiry as ``expired``; returns them (so the
        channel can update the confirm card). Claims already refuse them without this."""
        now = resolve_now(now)
        statement = (
            update(_A)
            .where(_A.status == "pending", _A.expires_at <= now)
            .values(status="expired", finished_at=now)
            .returning(_A)
            .execution_options(synchronize_session=False)
        )
        async with self._writing() as session:
            return [pending_action_from_row(row) for row in await session.scalars(statement)]

    async def _update_action(self, statement: Any) -> bool:
        statement = statement.returning(_A.id).execution_options(synchronize_session=False)
        async with self._writing() as session:
            return (await session.scalar(statement)) is not None
