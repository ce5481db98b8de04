"""Expiring leases and the per-conversation turn lock, across coroutines and replicas."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from datetime import UTC, datetime, timedelta
from typing import TypeVar

import pytest

from bot.store import LockTimeout, Store
from tests.store_fixtures import StoreFactory

T0 = datetime(2026, 3, 13, 10, 0, tzinfo=UTC)
DEADLINE_S = 20
T = TypeVar("T")


async def within_deadline(awaitable: Awaitable[T]) -> T:
    async with asyncio.timeout(DEADLINE_S):
        return await awaitable


async def test_a_held_lease_refuses_others_and_extends_for_its_holder(store: Store) -> None:
    assert await store.acquire_lease("relay:1", "replica-a", ttl_s=10, now=T0) is True
    assert await store.acquire_lease("relay:1", "replica-b", ttl_s=10, now=T0) is False

    assert await store.acquire_lease(
        "relay:1", "replica-a", ttl_s=10, now=T0 + timedelta(seconds=5)
    )

    lease = await store.get_lease("relay:1")
    assert lease is not None
    assert (lease.holder, lease.expires_at) == ("replica-a", T0 + timedelta(seconds=15))


async def test_an_expired_lease_is_taken_over_and_the_old_holder_loses_it(store: Store) -> None:
    await store.acquire_lease("relay:1", "replica-a", ttl_s=10, now=T0)

    just_before = T0 + timedelta(seconds=10) - timedelta(microseconds=1)
    assert await store.acquire_lease("relay:1", "replica-b", ttl_s=10, now=just_before) is False
    at_expiry = T0 + timedelta(seconds=10)
    assert await store.acquire_lease("relay:1", "replica-b", ttl_s=10, now=at_expiry) is True

    later = at_expiry + timedelta(seconds=1)
    assert await store.renew_lease("relay:1", "replica-a", ttl_s=10, now=later) is False
    assert await store.acquire_lease("relay:1", "replica-a", ttl_s=10, now=later) is False
    assert await store.release_lease("relay:1", "replica-a") is False
    lease = await store.get_lease("relay:1")
    assert lease is not None
    assert lease.holder == "replica-b"


async def test_renew_extends_only_for_the_holder(store: Store) -> None:
    await store.acquire_lease("relay:1", "replica-a", ttl_s=10, now=T0)

    assert await store.renew_lease("relay:1", "replica-b", ttl_s=10, now=T0) is False
    assert await store.renew_lease("relay:1", "replica-a", ttl_s=30, now=T0 + timedelta(seconds=8))

    lease = await store.get_lease("relay:1")
    assert lease is not None
    assert lease.expires_at == T0 + timedelta(seconds=38)
    assert (
        await store.acquire_lease("relay:1", "replica-b", ttl_s=10, now=T0 + timedelta(seconds=37))
        is False
    )


async def test_release_frees_the_lease_for_the_next_holder(store: Store) -> None:
    await store.acquire_lease("relay:1", "replica-a", ttl_s=10, now=T0)

    assert await store.release_lease("relay:1", "replica-b") is False
    assert await store.release_lease("relay:1", "replica-a") is True

    assert await store.get_lease("relay:1") is None
    assert await store.acquire_lease("relay:1", "replica-b", ttl_s=10, now=T0) is True


async def test_concurrent_acquirers_on_two_replicas_get_one_holder(
    store: Store, other_store: Store
) -> None:
    holders = [f"replica-{n}" for n in range(20)]
    replicas = [store, other_store] * 10

    outcomes = await asyncio.gather(
        *(r.acquire_lease("relay:7", h, ttl_s=15) for r, h in zip(replicas, holders, strict=True))
    )

    assert outcomes.count(True) == 1
    lease = await store.get_lease("relay:7")
    assert lease is not None
    assert lease.holder == holders[outcomes.index(True)]


async def test_concurrent_takeover_of_an_expired_lease_has_one_winner(
    store: Store, other_store: Store
) -> None:
    await store.acquire_lease("relay:7", "dead-replica", ttl_s=15, now=T0)
    later = T0 + timedelta(seconds=20)
    replicas = [store, other_store] * 10

    outcomes = await asyncio.gather(
        *(r.acquire_lease("relay:7", f"r{n}", ttl_s=15, now=later) for n, r in enumerate(replicas))
    )

    assert outcomes.count(True) == 1


@pytest.mark.parametrize("replicas", [1, 2], ids=["one-replica", "two-replicas"])
async def test_turn_lock_serializes_turns_of_one_conversation(
    store_factory: StoreFactory, replicas: int
) -> None:
    second_turn_waits = asyncio.Event()

    async def observed_sleep(delay: float) -> None:
        # Retry backoffs are short; the lease renewer sleeps ttl/3 (40 s) and is ignored.
        if delay < 1:
            second_turn_waits.set()
        await asyncio.sleep(delay)

    if replicas == 1:
        first = second = await store_factory(sleep=observed_sleep)
    else:
        first, second = await store_factory(), await store_factory(sleep=observed_sleep)
    conversation = await first.get_or_create_conversation("web", "c1", user_key="u1")
    log: list[str] = []
    first_inside = asyncio.Event()
    first_may_leave = asyncio.Event()

    async def first_turn() -> None:
        # Same holder name on purpose: one process runs both turns in the one-replica case.
        async with first.turn_lock(conversation.id, holder="replica"):
            log.append("first enters")
            first_inside.set()
            await first_may_leave.wait()
            log.append("first leaves")

    async def second_turn() -> None:
        async with second.turn_lock(conversation.id, holder="replica"):
            log.append("second enters")

    first_task = asyncio.create_task(first_turn())
    await within_deadline(first_inside.wait())
    second_task = asyncio.create_task(second_turn())
    await within_deadline(second_turn_waits.wait())
    assert log == ["first enters"]

    first_may_leave.set()
    await within_deadline(asyncio.gather(first_task, second_task))

    assert log == ["first enters", "first leaves", "second enters"]


async def test_many_turns_of_one_conversation_never_overlap(
    store: Store, other_store: Store
) -> None:
    conversation = await store.get_or_create_conversation("web", "c1", user_key="u1")
    inside = 0
    most_inside = 0

    async def turn(replica: Store, n: int) -> None:
        nonlocal inside, most_inside
        async with replica.turn_lock(conversation.id, holder="replica"):
            inside += 1
            most_inside = max(most_inside, inside)
            # Database round trips inside the turn give an unserialized turn every chance
            # to interleave with another.
            await replica.add_message(conversation.id, role="assistant", content=f"turn {n}")
            await replica.get_conversation(conversation.id)
            inside -= 1

    await within_deadline(asyncio.gather(*(turn((store, other_store)[n % 2], n) for n in range(8))))

    assert most_inside == 1
    assert len(await store.recent_messages(conversation.id, limit=20)) == 8


async def test_turns_of_different_conversations_run_at_the_same_time(
    store: Store, other_store: Store
) -> None:
    one = await store.get_or_create_conversation("web", "c1", user_key="u1")
    two = await store.get_or_create_conversation("web", "c2", user_key="u2")

    async with store.turn_lock(one.id, holder="replica-a"):
        # wait_s=0: a single attempt; a lock shared between conversations would refuse it.
        async with other_store.turn_lock(two.id, holder="replica-b", wait_s=0) as held:
            assert held.name == f"turn:{two.id}"
        with pytest.raises(LockTimeout) as refused:
            async with other_store.turn_lock(one.id, holder="replica-b", wait_s=0):
                pytest.fail("a second turn of one conversation got in")

    assert refused.value.name == f"turn:{one.id}"


async def test_turn_lock_is_released_when_the_turn_fails(store: Store) -> None:
    conversation = await store.get_or_create_conversation("web", "c1", user_key="u1")

    with pytest.raises(RuntimeError, match="model exploded"):
        async with store.turn_lock(conversation.id, holder="replica") as held:
            raise RuntimeError("model exploded")

    assert await store.get_lease(held.name) is None
    async with store.turn_lock(conversation.id, holder="replica", wait_s=0):
        pass


async def test_turn_lock_waits_then_gives_up_with_lock_timeout(store: Store) -> None:
    conversation = await store.get_or_create_conversation("web", "c1", user_key="u1")

    async with store.turn_lock(conversation.id, holder="replica"):
        with pytest.raises(LockTimeout) as raised:
            async with store.turn_lock(conversation.id, holder="replica", wait_s=0.2):
                pytest.fail("got in while the turn was held")

    assert raised.value.waited_s == 0.2


async def test_turn_lock_is_renewed_while_held(store_factory: StoreFactory) -> None:
    sleeps: asyncio.Queue[float] = asyncio.Queue()
    ticks: asyncio.Queue[None] = asyncio.Queue()

    async def controlled_sleep(delay: float) -> None:
        await sleeps.put(delay)
        await ticks.get()

    store = await store_factory(sleep=controlled_sleep)
    conversation = await store.get_or_create_conversation("web", "c1", user_key="u1")

    async with store.turn_lock(conversation.id, holder="replica", ttl_s=30) as held:
        assert await within_deadline(sleeps.get()) == 10  # renews every ttl/3
        before = await store.get_lease(held.name)
        ticks.put_nowait(None)
        await within_deadline(sleeps.get())  # renewed; waiting for the next tick
        after = await store.get_lease(held.name)

        assert before is not None and after is not None
        assert after.holder == before.holder == held.holder
        assert after.expires_at > before.expires_at
        assert not held.lost


async def test_turn_lock_reports_a_lease_taken_over_while_held(
    store_factory: StoreFactory,
) -> None:
    sleeps: asyncio.Queue[float] = asyncio.Queue()
    ticks: asyncio.Queue[None] = asyncio.Queue()

    async def controlled_sleep(delay: float) -> None:
        await sleeps.put(delay)
        await ticks.get()

    store = await store_factory(sleep=controlled_sleep)
    conversation = await store.get_or_create_conversation("web", "c1", user_key="u1")

    async with store.turn_lock(conversation.id, holder="replica", ttl_s=30) as held:
        await within_deadline(sleeps.get())
        # The turn stalled past its TTL and another replica took the conversation over.
        far_future = datetime.now(UTC) + timedelta(hours=1)
        assert await store.acquire_lease(held.name, "replica-b", ttl_s=30, now=far_future)
        ticks.put_nowait(None)
        await within_deadline(held.wait_lost())
        assert held.lost

    # Leaving the turn must not release the new holder's lease.
    lease = await store.get_lease(held.name)
    assert lease is not None
    assert lease.holder == "replica-b"
