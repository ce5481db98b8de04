"""Exactly-once claims of platform events and link tokens, within and across replicas."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from bot.store import Store

T0 = datetime(2026, 3, 13, 10, 0, tzinfo=UTC)


async def test_first_claim_wins_and_repeats_lose(store: Store) -> None:
    assert await store.claim_event("slack", "Ev01") is True
    assert await store.claim_event("slack", "Ev01") is False
    # The same id from another source is another event.
    assert await store.claim_event("slack-action", "Ev01") is True


async def test_fifty_concurrent_claims_of_one_event_yield_one_winner(store: Store) -> None:
    outcomes = await asyncio.gather(*(store.claim_event("slack", "Ev02") for _ in range(50)))

    assert outcomes.count(True) == 1
    assert outcomes.count(False) == 49


async def test_two_replicas_claiming_the_same_events_split_them_exactly(
    store: Store, other_store: Store
) -> None:
    event_ids = [f"Ev{n}" for n in range(10)]
    claims = [
        (replica, event_id)
        for event_id in event_ids
        for replica in (store, other_store, store, other_store)
    ]

    outcomes = await asyncio.gather(*(r.claim_event("slack", e) for r, e in claims))

    wins = [event_id for (_replica, event_id), won in zip(claims, outcomes, strict=True) if won]
    assert sorted(wins) == sorted(event_ids)


async def test_link_token_is_spent_once_even_when_raced(store: Store, other_store: Store) -> None:
    racers = [store, other_store] * 10

    outcomes = await asyncio.gather(*(replica.use_link_token("jti-1") for replica in racers))

    assert outcomes.count(True) == 1
    assert await store.use_link_token("jti-1") is False
    assert await store.use_link_token("jti-2") is True


async def test_prune_forgets_only_old_ids(store: Store) -> None:
    await store.claim_event("slack", "old", now=T0)
    await store.claim_event("slack", "new", now=T0 + timedelta(days=2))

    pruned = await store.prune_events(older_than=T0 + timedelta(days=1))

    assert pruned == 1
    assert await store.claim_event("slack", "new") is False
    assert await store.claim_event("slack", "old") is True  # forgotten, so claimable again


async def test_a_naive_timestamp_is_refused(store: Store) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        await store.claim_event("slack", "Ev03", now=datetime(2026, 3, 13, 10, 0))
