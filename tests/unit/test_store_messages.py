"""The transcript: inbound dedupe, commit-ordered replay, replies to an event, feedback."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy.event import listen, remove
from sqlalchemy.exc import SQLAlchemyError

from bot.store import Conversation, NewMessage, NotFound, Store, TokenUsage


@pytest.fixture
async def conversation(store: Store) -> Conversation:
    return await store.get_or_create_conversation("web", "w-1", user_key="E7")


async def test_a_replayed_inbound_event_returns_the_stored_message(
    store: Store, conversation: Conversation
) -> None:
    first, created = await store.add_inbound_message(conversation.id, "VPN drops", event_id="m-1")
    replay, created_again = await store.add_inbound_message(
        conversation.id, "VPN drops", event_id="m-1"
    )

    assert created is True
    assert created_again is False
    assert replay == first
    assert (first.role, first.status, first.seq) == ("user", "pending", 1)
    assert await store.recent_messages(conversation.id, limit=10) == [first]


async def test_concurrent_deliveries_of_one_event_store_one_message(
    store: Store, other_store: Store, conversation: Conversation
) -> None:
    replicas = [store, other_store] * 10

    results = await asyncio.gather(
        *(r.add_inbound_message(conversation.id, "hello", event_id="Ev9") for r in replicas)
    )

    assert [created for _message, created in results].count(True) == 1
    assert {message.id for message, _created in results} == {results[0][0].id}
    assert len(await store.recent_messages(conversation.id, limit=50)) == 1


async def test_the_same_event_id_in_another_conversation_is_another_message(
    store: Store, conversation: Conversation
) -> None:
    other = await store.get_or_create_conversation("web", "w-2", user_key="E8")

    _, here = await store.add_inbound_message(conversation.id, "hi", event_id="m-1")
    _, there = await store.add_inbound_message(other.id, "hi", event_id="m-1")

    assert here and there


async def test_messages_without_event_id_are_never_deduplicated(
    store: Store, conversation: Conversation
) -> None:
    _, first = await store.add_inbound_message(conversation.id, "again", event_id=None)
    _, second = await store.add_inbound_message(conversation.id, "again", event_id=None)

    assert first and second
    assert len(await store.recent_messages(conversation.id, limit=10)) == 2


async def test_concurrent_appends_get_consecutive_sequence_numbers(
    store: Store, other_store: Store, conversation: Conversation
) -> None:
    await asyncio.gather(
        *(
            (store, other_store)[n % 2].add_message(
                conversation.id, role="agent", content=f"agent line {n}", author="Mike Tech"
            )
            for n in range(20)
        )
    )

    stored = await store.messages_after(conversation.id, after_seq=0)
    assert [message.seq for message in stored] == list(range(1, 21))
    assert sorted(message.id for message in stored) == [message.id for message in stored]


async def test_a_reconnecting_client_gets_exactly_what_it_missed(
    store: Store, conversation: Conversation
) -> None:
    seen, _ = await store.add_inbound_message(conversation.id, "q1", event_id="c-1")
    answer = await store.add_message(
        conversation.id, role="assistant", content="a1", reply_to_id=seen.id
    )
    missed = [
        await store.add_message(conversation.id, role="notice", content="Waiting for an agent…"),
        await store.add_message(conversation.id, role="agent", content="Hi", author="Mike Tech"),
    ]

    assert await store.messages_after(conversation.id, after_seq=answer.seq) == missed
    assert await store.messages_after(conversation.id, after_seq=answer.seq, limit=1) == missed[:1]
    assert await store.messages_after(conversation.id, after_seq=missed[-1].seq) == []


async def test_recent_messages_are_the_last_ones_oldest_first(
    store: Store, conversation: Conversation
) -> None:
    for n in range(5):
        await store.add_message(conversation.id, role="user", content=f"m{n}")

    recent = await store.recent_messages(conversation.id, limit=3)

    assert [message.content for message in recent] == ["m2", "m3", "m4"]


async def test_replies_for_event_answer_a_replay_from_the_store(
    store: Store, conversation: Conversation
) -> None:
    inbound, _ = await store.add_inbound_message(conversation.id, "my tickets?", event_id="Ev1")
    assert await store.replies_for_event(conversation.id, "Ev1") == []

    calls = [{"id": "call_1", "name": "list_my_tickets", "arguments": "{}"}]
    tool_turn = await store.add_message(
        conversation.id, role="assistant", content="", tool_calls=calls, reply_to_id=inbound.id
    )
    result = await store.add_message(
        conversation.id,
        role="tool",
        content="[3012]",
        tool_call_id="call_1",
        reply_to_id=inbound.id,
    )
    final = await store.add_message(
        conversation.id,
        role="assistant",
        content="You have ticket 3012 open.",
        reply_to_id=inbound.id,
        usage=TokenUsage(input_tokens=812, output_tokens=40),
    )
    assert await store.set_message_status(inbound.id, "done")

    assert await store.replies_for_event(conversation.id, "Ev1") == [tool_turn, result, final]
    assert tool_turn.tool_calls == calls
    assert (final.input_tokens, final.output_tokens) == (812, 40)
    replayed, created = await store.add_inbound_message(
        conversation.id, "my tickets?", event_id="Ev1"
    )
    assert (created, replayed.status) == (False, "done")


async def test_token_usage_adds_up_per_conversation(
    store: Store, conversation: Conversation
) -> None:
    for spent_in, spent_out in [(800, 40), (1200, 75)]:
        await store.add_message(
            conversation.id,
            role="assistant",
            content="...",
            usage=TokenUsage(input_tokens=spent_in, output_tokens=spent_out),
        )
    await store.add_message(conversation.id, role="user", content="thanks")

    assert await store.token_usage(conversation.id) == TokenUsage(2000, 115)


async def test_feedback_is_recorded_on_an_answer_of_the_same_conversation(
    store: Store, conversation: Conversation
) -> None:
    question, _ = await store.add_inbound_message(conversation.id, "q", event_id=None)
    answer = await store.add_message(conversation.id, role="assistant", content="a")
    other = await store.get_or_create_conversation("web", "w-2", user_key="E8")

    assert await store.set_feedback(conversation.id, answer.id, value=1)
    assert await store.set_feedback(conversation.id, answer.id, value=-1)  # changed their mind
    assert not await store.set_feedback(other.id, answer.id, value=1)
    assert not await store.set_feedback(conversation.id, question.id, value=1)

    stored = await store.get_message(answer.id)
    assert stored is not None
    assert stored.feedback == -1
    with pytest.raises(ValueError, match="feedback"):
        await store.set_feedback(conversation.id, answer.id, value=0)  # type: ignore[arg-type]


async def test_adding_to_an_unknown_conversation_raises_not_found(store: Store) -> None:
    with pytest.raises(NotFound):
        await store.add_message(404, role="user", content="hello?")


async def test_a_turns_messages_are_added_in_one_transaction_in_order(
    store: Store, other_store: Store, conversation: Conversation
) -> None:
    question, _ = await store.add_inbound_message(conversation.id, "VPN?", event_id="t-1")
    call = [{"id": "c1", "name": "search_kb", "arguments": '{"query": "vpn"}'}]
    turn = [
        NewMessage(role="assistant", content="", tool_calls=call, usage=TokenUsage(90, 5)),
        NewMessage(role="tool", content='{"articles": []}', tool_call_id="c1"),
        NewMessage(role="assistant", content="Reconnect.", reply_to_id=question.id, meta={"k": 1}),
    ]
    batches = [[NewMessage(role="agent", content=f"agent {n}")] * 3 for n in range(4)]

    added, *others = await asyncio.gather(
        store.add_messages(conversation.id, turn),
        *(other_store.add_messages(conversation.id, batch) for batch in batches),
    )

    assert [(m.role, m.content) for m in added] == [(m.role, m.content) for m in turn]
    for batch in (added, *others):  # each batch's seqs are unbroken by the others
        assert [m.seq for m in batch] == list(range(batch[0].seq, batch[0].seq + 3))
    assert (added[0].tool_calls, added[0].input_tokens, added[1].tool_call_id) == (call, 90, "c1")
    assert (added[2].reply_to_id, added[2].meta) == (question.id, {"k": 1})
    stored = await store.messages_after(conversation.id, after_seq=0)
    assert [m.seq for m in stored] == list(range(1, 1 + 1 + 3 + 4 * 3))
    assert await store.replies_for_event(conversation.id, "t-1") == [added[2]]


async def test_a_batch_is_all_or_nothing(store: Store, conversation: Conversation) -> None:
    good = NewMessage(role="assistant", content="kept?")
    bad = NewMessage(role="assistant", content="x", status="bogus")  # type: ignore[arg-type]

    with pytest.raises(SQLAlchemyError):
        await store.add_messages(conversation.id, [good, bad])

    assert await store.recent_messages(conversation.id, limit=10) == []
    [after] = await store.add_messages(conversation.id, [good])
    assert after.seq == 1, "the failed batch took no sequence numbers"


async def test_a_turn_reads_the_conversation_and_its_unsummarised_history_at_once(
    store: Store, conversation: Conversation
) -> None:
    for n in range(1, 6):
        await store.add_message(conversation.id, role="assistant", content=f"line {n}")
    assert await store.set_summary(conversation.id, summary="lines 1-2", up_to_seq=2)

    current, history = await store.conversation_with_history(conversation.id, limit=2)

    assert current is not None and current.summary == "lines 1-2"
    assert [m.content for m in history] == ["line 4", "line 5"], "the newest, oldest first"
    _, after_summary = await store.conversation_with_history(conversation.id, limit=10)
    assert [m.seq for m in after_summary] == [3, 4, 5]
    assert await store.set_owner(conversation.id, expected="bot", new="queued")
    queued, nothing = await store.conversation_with_history(conversation.id, limit=10)
    assert queued is not None and queued.owner == "queued" and nothing == []
    assert await store.conversation_with_history(404, limit=10) == (None, [])


async def test_an_inbound_message_and_its_conversation_are_stored_in_one_transaction(
    store: Store, other_store: Store
) -> None:
    commits: list[object] = []

    def on_commit(connection: object) -> None:
        commits.append(connection)

    listen(store.engine.sync_engine, "commit", on_commit)
    try:
        conversation, first, created = await store.receive_inbound(
            "web", "w-9", user_key="E7", address={"room": "a"}, content="VPN?", event_id="i-1"
        )
    finally:
        remove(store.engine.sync_engine, "commit", on_commit)
    assert len(commits) == 1
    assert created and (first.conversation_id, first.seq, first.status) == (
        conversation.id,
        1,
        "pending",
    )

    replays = await asyncio.gather(
        *(
            r.receive_inbound(
                "web", "w-9", user_key="E7", address={"room": "b"}, content="VPN?", event_id="i-1"
            )
            for r in (store, other_store) * 3
        )
    )
    assert {(c.id, m.id, made) for c, m, made in replays} == {(conversation.id, first.id, False)}
    assert all(c.address == {"room": "b"} for c, _, _ in replays), "the newest address is kept"
    assert await store.recent_messages(conversation.id, limit=10) == [first]


async def test_a_message_from_someone_else_is_not_stored_in_a_conversation(store: Store) -> None:
    conversation, first, _ = await store.receive_inbound(
        "slack", "thread-1", user_key="U1", address=None, content="my VPN", event_id="e-1"
    )
    assert first is not None
    same, other, created = await store.receive_inbound(
        "slack", "thread-1", user_key="U2", address=None, content="me too", event_id="e-2"
    )
    assert (same.id, same.user_key, other, created) == (conversation.id, "U1", None, False)
    assert await store.recent_messages(conversation.id, limit=10) == [first]
