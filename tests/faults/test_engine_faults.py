"""Faults whose fix lies in the engine or the tools (not in this suite's files): written as
strict xfails, so they turn into failures the day they are fixed and must be un-marked."""

from __future__ import annotations

import os
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from sandbox.runner import RunningSandbox
from tests.faults.chat import Chat, open_chat, user_texts
from tests.faults.ledger import LEDGER


@pytest.fixture
async def chat(sandbox: RunningSandbox, tmp_path: Path) -> AsyncIterator[Chat]:
    async with open_chat(sandbox, tmp_path) as opened:
        await opened.link()
        yield opened


@pytest.mark.xfail(
    strict=True,
    reason="fault 3: get_ticket makes two 5 s calls in a row under a 10 s cap on the whole "
    "tool; tool deadlines must come from the per-call timeouts and the turn deadline, and "
    "independent calls must run concurrently (tools/, bot/tooling.py)",
)
async def test_a_slow_helpdesk_still_answers_a_ticket_lookup(chat: Chat) -> None:
    await chat.inject(latency_ms=5000, path_prefix="/tickets", method="GET")
    texts = user_texts(await chat.say("What is the status of ticket 3012?"))
    await chat.clear_faults()
    assert any("3012" in t and "sorry" not in t.lower() for t in texts), texts


@pytest.mark.xfail(
    strict=True,
    reason="fault 1 (engine part): a turn that waits for a held turn lock must tell the user "
    "'still working on your last message' at once instead of failing after 30 s (bot/engine.py)",
)
async def test_a_message_during_a_running_turn_hears_still_working(chat: Chat) -> None:
    await chat.say("How do I set up the VPN on my laptop?")
    store = chat.services.store
    conversation = await store.find_conversation("test", chat.conversation)
    assert conversation is not None
    LEDGER.injected_here()
    other_turn = f"{socket.gethostname()}:{os.getpid()}:busy"  # alive: this very process
    async with store.turn_lock(conversation.id, holder=other_turn):
        texts = user_texts(await chat.say("Are you there?"))
    assert any("still working" in t.lower() for t in texts), texts
