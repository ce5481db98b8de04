"""Finishing a turn a crash interrupted, at the exact states a kill can leave behind.

The subprocess tests (`test_serve_killed.py`) pin the stages a user sees; a few states lie
between two database statements, where no test can aim a SIGKILL. Here they are written
into the store as the dead process left them — its turn lease (holder gone), its user
message still `pending` — and the real engine's recovery runs over them.
"""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.messages import Message, Reply
from bot.replay import persist_reply
from bot.store.records import Conversation
from sandbox.runner import RunningSandbox
from tests.faults.chat import Chat, open_chat, user_texts
from tests.faults.ledger import LEDGER

VPN_QUESTION = "How do I set up the VPN on my laptop?"


@pytest.fixture
async def chat(sandbox: RunningSandbox, tmp_path: Path) -> AsyncIterator[Chat]:
    async with open_chat(sandbox, tmp_path) as opened:
        await opened.link()
        yield opened


class Told:
    """The channel's proactive sender: what the user was told, per conversation key."""

    def __init__(self) -> None:
        self.replies: list[tuple[str, Reply]] = []

    async def __call__(self, channel: str, conversation_key: str, reply: Reply) -> bool:
        self.replies.append((conversation_key, reply))
        return True


def _dead_holder() -> str:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return f"{socket.gethostname()}:{child.pid}:0badb007/deadbeef"


async def _crashed_mid_turn(chat: Chat, text: str) -> tuple[Conversation, int]:
    """The state a kill leaves mid-turn: the message stored, the lease never released."""
    await chat.say(VPN_QUESTION)  # the conversation exists, linked, mirrored, answered
    store = chat.services.store
    conversation = await store.find_conversation("test", chat.conversation)
    assert conversation is not None
    stored, _ = await store.add_inbound_message(conversation.id, text, event_id="ev-crashed")
    assert await store.acquire_lease(f"turn:{conversation.id}", _dead_holder(), ttl_s=120)
    LEDGER.injected_here()
    return conversation, stored.id


async def test_an_unanswered_message_is_answered_once_and_mirrored_once(chat: Chat) -> None:
    conversation, message_id = await _crashed_mid_turn(chat, "How do I reset my password?")
    told = Told()
    assert await chat.services.engine.recover_interrupted_turns(notify=told) == 1
    assert await chat.services.engine.recover_interrupted_turns(notify=told) == 0, "done once"
    received = LEDGER.exchange(user_texts([reply for _, reply in told.replies]))
    assert [key for key, _ in told.replies] == [chat.conversation]
    assert len(received) == 1 and isinstance(told.replies[0][1], Message), received
    store = chat.services.store
    stored = await store.get_message(message_id)
    assert stored is not None and stored.status == "done"
    rows = await store.messages_after(conversation.id, after_seq=stored.seq)
    assert [m.role for m in rows if m.reply_to_id == message_id] == ["assistant"]
    mirrored = await chat.written("POST", f"/chat/{conversation.helpdesk_chat_id}/messages")
    assert mirrored == 2, "each of the two questions is in the helpdesk chat once"


async def test_a_message_the_dead_turn_already_answered_is_not_answered_again(
    chat: Chat,
) -> None:
    """Killed after the answer was stored, before the turn let go of its lease."""
    conversation, message_id = await _crashed_mid_turn(chat, "How do I reset my password?")
    store = chat.services.store
    answer = Message(text="Use the self-service portal to reset it.")
    await persist_reply(store, conversation.id, answer, reply_to_id=message_id)
    before = await store.recent_messages(conversation.id, limit=50)
    told = Told()
    assert await chat.services.engine.recover_interrupted_turns(notify=told) == 1
    assert told.replies == [], "the answer was already there"
    after = await store.recent_messages(conversation.id, limit=50)
    assert [m.id for m in after] == [m.id for m in before], "nothing was added"
    stored = await store.get_message(message_id)
    assert stored is not None and stored.status == "done"
    assert await store.orphaned_turn_leases() == []


async def test_a_message_the_user_wrote_past_is_left_to_the_newer_turn(chat: Chat) -> None:
    conversation, message_id = await _crashed_mid_turn(chat, "How do I reset my password?")
    store = chat.services.store
    await store.add_inbound_message(conversation.id, "Never mind", event_id="ev-later")
    before = len(await store.recent_messages(conversation.id, limit=50))
    told = Told()
    await chat.services.engine.recover_interrupted_turns(notify=told)
    assert told.replies == []
    assert len(await store.recent_messages(conversation.id, limit=50)) == before
    assert await store.orphaned_turn_leases() == [], "taken over and released"
    crashed = await store.get_message(message_id)
    assert crashed is not None and crashed.status == "pending", "not the sweep's to answer"
