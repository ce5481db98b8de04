"""Conversations: race-safe creation, the ownership state machine, the relay cursor."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta

import pytest

from bot.store import OWNER_TRANSITIONS, Conversation, InvalidTransition, Owner, Store

T0 = datetime(2026, 3, 13, 10, 0, tzinfo=UTC)
ADDRESS = {"channel": "D024BE91L", "thread_ts": "1710324000.000100"}


@pytest.fixture
async def conversation(store: Store) -> Conversation:
    return await store.get_or_create_conversation("slack", "D1:1710.1", user_key="U1")


async def test_a_new_conversation_belongs_to_the_bot(store: Store) -> None:
    created = await store.get_or_create_conversation(
        "slack", "D1:1710.1", user_key="U1", address=ADDRESS, now=T0
    )

    assert (created.owner, created.address, created.helpdesk_chat_id) == ("bot", ADDRESS, None)
    assert created.created_at == T0
    assert created.created_at.tzinfo is UTC
    assert await store.find_conversation("slack", "D1:1710.1") == created
    assert await store.get_conversation(created.id) == created


async def test_concurrent_get_or_create_on_two_replicas_makes_one_conversation(
    store: Store, other_store: Store
) -> None:
    replicas = [store, other_store] * 10

    found = await asyncio.gather(
        *(r.get_or_create_conversation("web", "w-1", user_key="E7") for r in replicas)
    )

    assert {conversation.id for conversation in found} == {found[0].id}


async def test_the_latest_address_is_kept_for_proactive_sends(store: Store) -> None:
    first = await store.get_or_create_conversation("teams", "19:a", user_key="A1", address=ADDRESS)
    moved = {**ADDRESS, "serviceUrl": "https://smba.example/emea/"}

    again = await store.get_or_create_conversation("teams", "19:a", user_key="A1", address=moved)
    unchanged = await store.get_or_create_conversation("teams", "19:a", user_key="A1")

    assert again.id == first.id
    assert again.address == moved
    assert unchanged.address == moved


async def test_set_owner_is_a_compare_and_set(store: Store, conversation: Conversation) -> None:
    assert await store.set_owner(conversation.id, expected="bot", new="queued", now=T0)
    assert not await store.set_owner(conversation.id, expected="bot", new="queued")

    queued = await store.get_conversation(conversation.id)
    assert queued is not None
    assert (queued.owner, queued.owner_changed_at, queued.in_handoff) == ("queued", T0, True)


async def test_concurrent_agent_joins_move_the_conversation_once(
    store: Store, other_store: Store, conversation: Conversation
) -> None:
    await store.set_owner(conversation.id, expected="bot", new="queued")
    replicas = [store, other_store] * 5

    moves = await asyncio.gather(
        *(
            r.set_owner(conversation.id, expected="queued", new="human", agent_name=f"Agent {n}")
            for n, r in enumerate(replicas)
        )
    )

    assert moves.count(True) == 1
    human = await store.get_conversation(conversation.id)
    assert human is not None
    assert (human.owner, human.agent_name) == ("human", f"Agent {moves.index(True)}")


async def test_back_to_the_bot_forgets_the_agent(store: Store, conversation: Conversation) -> None:
    await store.set_owner(conversation.id, expected="bot", new="queued")
    await store.set_owner(conversation.id, expected="queued", new="human", agent_name="Mike Tech")

    assert await store.set_owner(conversation.id, expected="human", new="bot")

    back = await store.get_conversation(conversation.id)
    assert back is not None
    assert (back.owner, back.agent_name) == ("bot", None)


@pytest.mark.parametrize(
    ("current", "new"),
    [
        (a, b)
        for a in ("bot", "queued", "human")
        for b in ("bot", "queued", "human")
        if (a, b) not in OWNER_TRANSITIONS
    ],
)
async def test_moves_outside_the_state_machine_are_refused(
    store: Store, conversation: Conversation, current: Owner, new: Owner
) -> None:
    with pytest.raises(InvalidTransition) as raised:
        await store.set_owner(conversation.id, expected=current, new=new)

    assert (raised.value.current, raised.value.new) == (current, new)
    unchanged = await store.get_conversation(conversation.id)
    assert unchanged is not None
    assert unchanged.owner == "bot"


async def test_conversations_in_handoff_are_the_queued_and_human_ones(store: Store) -> None:
    bot = await store.get_or_create_conversation("web", "a", user_key="u")
    queued = await store.get_or_create_conversation("web", "b", user_key="u")
    human = await store.get_or_create_conversation("web", "c", user_key="u")
    await store.set_owner(queued.id, expected="bot", new="queued")
    await store.set_owner(human.id, expected="bot", new="queued")
    await store.set_owner(human.id, expected="queued", new="human")

    in_handoff = await store.conversations_in_handoff()

    assert [c.id for c in in_handoff] == [queued.id, human.id]
    assert bot.id not in {c.id for c in in_handoff}


async def test_conversations_in_handoff_of_one_channel_leave_the_others_out(
    store: Store,
) -> None:
    web = await store.get_or_create_conversation("web", "a", user_key="u")
    slack = await store.get_or_create_conversation("slack", "a", user_key="u")
    for conversation in (web, slack):
        await store.set_owner(conversation.id, expected="bot", new="queued")

    assert [c.id for c in await store.conversations_in_handoff("web")] == [web.id]
    assert [c.id for c in await store.conversations_in_handoff("slack")] == [slack.id]
    assert [c.id for c in await store.conversations_in_handoff()] == [web.id, slack.id]


async def test_relay_cursor_only_moves_forward(store: Store, conversation: Conversation) -> None:
    await store.set_helpdesk_chat(conversation.id, 101)
    t1, t2 = T0 + timedelta(seconds=1), T0 + timedelta(seconds=2)

    assert await store.advance_relay_cursor(
        conversation.id, chat_id=101, cursor=t1, last_message_id=7
    )
    assert not await store.advance_relay_cursor(
        conversation.id, chat_id=101, cursor=T0, last_message_id=5
    )
    assert not await store.advance_relay_cursor(
        conversation.id, chat_id=101, cursor=t1, last_message_id=7
    )
    after_stale = await store.get_conversation(conversation.id)
    assert after_stale is not None
    assert (after_stale.relay_cursor, after_stale.relay_last_message_id) == (t1, 7)

    assert await store.advance_relay_cursor(
        conversation.id, chat_id=101, cursor=t2, last_message_id=9
    )
    advanced = await store.get_conversation(conversation.id)
    assert advanced is not None
    assert (advanced.relay_cursor, advanced.relay_last_message_id) == (t2, 9)


async def test_concurrent_relay_advances_end_at_the_newest_cursor(
    store: Store, other_store: Store, conversation: Conversation
) -> None:
    await store.set_helpdesk_chat(conversation.id, 101)
    steps = list(range(1, 21))
    random.Random(7).shuffle(steps)

    await asyncio.gather(
        *(
            (store, other_store)[n % 2].advance_relay_cursor(
                conversation.id, chat_id=101, cursor=T0 + timedelta(seconds=s), last_message_id=s
            )
            for n, s in enumerate(steps)
        )
    )

    final = await store.get_conversation(conversation.id)
    assert final is not None
    assert (final.relay_cursor, final.relay_last_message_id) == (T0 + timedelta(seconds=20), 20)


async def test_a_stale_relay_of_a_previous_chat_cannot_move_the_cursor(
    store: Store, conversation: Conversation
) -> None:
    await store.set_helpdesk_chat(conversation.id, 101)
    await store.advance_relay_cursor(conversation.id, chat_id=101, cursor=T0, last_message_id=3)

    await store.set_helpdesk_chat(conversation.id, 101)  # the same chat again: cursor kept
    kept = await store.get_conversation(conversation.id)
    assert kept is not None
    assert kept.relay_cursor == T0

    await store.set_helpdesk_chat(conversation.id, 202)  # a new chat: cursor reset
    reset = await store.get_conversation(conversation.id)
    assert reset is not None
    assert (reset.helpdesk_chat_id, reset.relay_cursor, reset.relay_last_message_id) == (
        202,
        None,
        None,
    )
    later = T0 + timedelta(hours=1)
    assert not await store.advance_relay_cursor(
        conversation.id, chat_id=101, cursor=later, last_message_id=99
    )


async def test_summary_only_moves_forward(store: Store, conversation: Conversation) -> None:
    assert await store.set_summary(conversation.id, summary="VPN drops; tried reboot", up_to_seq=8)
    assert not await store.set_summary(conversation.id, summary="older", up_to_seq=4)

    current = await store.get_conversation(conversation.id)
    assert current is not None
    assert (current.summary, current.summary_up_to_seq) == ("VPN drops; tried reboot", 8)
