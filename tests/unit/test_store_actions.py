"""Pending actions: a confirmed write runs exactly once, never after expiry or cancel."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from bot.store import Conversation, PendingAction, Store

T0 = datetime(2026, 3, 13, 10, 0, tzinfo=UTC)
FIFTEEN_MINUTES = timedelta(minutes=15)


@pytest.fixture
async def conversation(store: Store) -> Conversation:
    return await store.get_or_create_conversation("slack", "D1:171.1", user_key="U1")


async def propose(
    store: Store, conversation: Conversation, key: str = "turn-1:call-1", *, now: datetime = T0
) -> PendingAction:
    return await store.create_pending_action(
        conversation.id,
        user_key="U1",
        tool_name="create_ticket",
        arguments={"subject": "VPN drops", "priority": 2},
        idempotency_key=key,
        now=now,
    )


async def test_a_proposed_action_waits_fifteen_minutes_for_a_confirm(
    store: Store, conversation: Conversation
) -> None:
    action = await propose(store, conversation)

    assert action.status == "pending"
    assert action.arguments == {"subject": "VPN drops", "priority": 2}
    assert action.expires_at == T0 + FIFTEEN_MINUTES
    assert await store.latest_pending_action(conversation.id, now=T0) == action
    assert await store.get_pending_action(action.id) == action


async def test_proposing_the_same_call_again_returns_the_first_action(
    store: Store, conversation: Conversation
) -> None:
    first = await propose(store, conversation)
    again = await propose(store, conversation, now=T0 + timedelta(minutes=1))

    assert again == first


async def test_claim_succeeds_once_then_the_outcome_is_recorded(
    store: Store, conversation: Conversation
) -> None:
    action = await propose(store, conversation)
    now = T0 + timedelta(minutes=2)

    claimed = await store.claim_pending_action(action.id, user_key="U1", now=now)
    assert claimed is not None
    assert (claimed.status, claimed.executed_at) == ("executing", now)
    assert await store.claim_pending_action(action.id, now=now) is None
    assert await store.latest_pending_action(conversation.id, now=now) is None

    assert await store.complete_pending_action(
        action.id, status="done", result={"ticket_number": 3021}
    )
    assert not await store.complete_pending_action(action.id, status="failed")
    finished = await store.get_pending_action(action.id)
    assert finished is not None
    assert (finished.status, finished.result) == ("done", {"ticket_number": 3021})


async def test_concurrent_confirms_on_two_replicas_execute_once(
    store: Store, other_store: Store, conversation: Conversation
) -> None:
    action = await propose(store, conversation)
    now = T0 + timedelta(minutes=1)
    replicas = [store, other_store] * 15

    claims = await asyncio.gather(
        *(replica.claim_pending_action(action.id, now=now) for replica in replicas)
    )

    winners = [claim for claim in claims if claim is not None]
    assert len(winners) == 1
    assert winners[0].id == action.id


async def test_confirm_racing_cancel_has_exactly_one_outcome(
    store: Store, other_store: Store, conversation: Conversation
) -> None:
    for n in range(10):
        action = await propose(store, conversation, key=f"turn-{n}")
        claimed, cancelled = await asyncio.gather(
            store.claim_pending_action(action.id, now=T0),
            other_store.cancel_pending_action(action.id, now=T0),
        )

        assert (claimed is not None) != cancelled
        final = await store.get_pending_action(action.id)
        assert final is not None
        assert final.status == ("executing" if claimed else "cancelled")


async def test_a_confirm_after_expiry_is_refused(store: Store, conversation: Conversation) -> None:
    action = await propose(store, conversation)

    assert await store.claim_pending_action(action.id, now=T0 + FIFTEEN_MINUTES) is None
    assert await store.latest_pending_action(conversation.id, now=T0 + FIFTEEN_MINUTES) is None
    still_live = T0 + FIFTEEN_MINUTES - timedelta(microseconds=1)
    assert await store.claim_pending_action(action.id, now=still_live) is not None


async def test_expiry_sweep_marks_only_overdue_actions(
    store: Store, conversation: Conversation
) -> None:
    old = await propose(store, conversation, key="old", now=T0)
    fresh = await propose(store, conversation, key="fresh", now=T0 + timedelta(minutes=10))

    expired = await store.expire_pending_actions(now=T0 + FIFTEEN_MINUTES)

    assert [action.id for action in expired] == [old.id]
    assert expired[0].status == "expired"
    assert await store.claim_pending_action(old.id, now=T0) is None  # even with an early clock
    assert await store.claim_pending_action(fresh.id, now=T0 + FIFTEEN_MINUTES) is not None


async def test_a_cancelled_action_cannot_be_confirmed(
    store: Store, conversation: Conversation
) -> None:
    action = await propose(store, conversation)

    assert await store.cancel_pending_action(action.id, now=T0) is True
    assert await store.cancel_pending_action(action.id, now=T0) is False
    assert await store.claim_pending_action(action.id, now=T0) is None
    cancelled = await store.get_pending_action(action.id)
    assert cancelled is not None
    assert cancelled.status == "cancelled"


async def test_an_executing_action_cannot_be_cancelled(
    store: Store, conversation: Conversation
) -> None:
    action = await propose(store, conversation)
    await store.claim_pending_action(action.id, now=T0)

    assert await store.cancel_pending_action(action.id, now=T0) is False


async def test_only_the_proposing_user_can_confirm_or_cancel(
    store: Store, conversation: Conversation
) -> None:
    action = await propose(store, conversation)

    assert await store.claim_pending_action(action.id, user_key="U2", now=T0) is None
    assert await store.cancel_pending_action(action.id, user_key="U2", now=T0) is False
    assert await store.claim_pending_action(action.id, user_key="U1", now=T0) is not None


async def test_latest_pending_action_is_the_newest_live_one(
    store: Store, conversation: Conversation
) -> None:
    first = await propose(store, conversation, key="a", now=T0)
    second = await propose(store, conversation, key="b", now=T0 + timedelta(minutes=1))

    assert await store.latest_pending_action(conversation.id, now=T0 + timedelta(minutes=2)) == (
        second
    )
    await store.cancel_pending_action(second.id)
    assert await store.latest_pending_action(conversation.id, now=T0 + timedelta(minutes=2)) == (
        first
    )
