"""Faults whose fix lies in the engine or the tools: a busy conversation (fault 1), a slow
helpdesk (fault 3), a write whose answer is lost (fault 5), a message too long for the
helpdesk chat (fault 6)."""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.chat_parts import MAX_PARTS
from bot.engine import EngineConfig
from bot.messages import ConfirmRequest, Inbound, Message, Reply
from sandbox.runner import RunningSandbox
from tests.faults.chat import REPLY_WITHIN_S, Chat, confirm_id, open_chat, user_texts
from tests.faults.ledger import LEDGER

VPN_QUESTION = "How do I set up the VPN on my laptop?"
_OTHER_TURN = f"{socket.gethostname()}:{os.getpid()}:busy"  # alive: this very process


def _inbound(chat: Chat, text: str) -> Inbound:
    return Inbound(
        channel="test",
        conversation_key=chat.conversation,
        user_key="test:jane@acme.example",
        text=text,
        event_id=uuid.uuid4().hex,
    )


@pytest.fixture
async def chat(sandbox: RunningSandbox, tmp_path: Path) -> AsyncIterator[Chat]:
    async with open_chat(sandbox, tmp_path) as opened:
        await opened.link()
        yield opened


async def test_a_slow_helpdesk_still_answers_a_ticket_lookup(chat: Chat) -> None:
    """Fault 3: get_ticket's two 5 s calls in a row fit its deadline, which comes from the
    per-call timeout and the turn's time left (it was a flat 10 s on the whole tool)."""
    await chat.inject(latency_ms=5000, path_prefix="/tickets", method="GET")
    texts = user_texts(await chat.say("What is the status of ticket 3012?"))
    await chat.clear_faults()
    assert any("3012" in t and "sorry" not in t.lower() for t in texts), texts


async def test_a_slow_helpdesk_is_asked_the_independent_lookups_of_a_preview_at_once(
    chat: Chat,
) -> None:
    """Fault 3: the create preview's job types, outages and tickets do not wait on each
    other — the sandbox saw all three in flight together."""
    for path in ("/job-types", "/outages", "/tickets"):
        await chat.inject(latency_ms=3000, path_prefix=path, method="GET")
    replies = await chat.say("Please create a ticket: my laptop keyboard has sticky keys")
    await chat.clear_faults()
    assert any(isinstance(r, ConfirmRequest) for r in replies), user_texts(replies)
    log = (await chat.backoffice.get("/sandbox/requests", params={"method": "GET"})).json()
    lookups = [r for r in log["requests"] if r["path"] in ("/job-types", "/outages", "/tickets")]
    assert {r["path"] for r in lookups} == {"/job-types", "/outages", "/tickets"}, lookups
    assert max(r["in_flight"] for r in lookups) >= 3, lookups


async def test_a_message_during_a_running_turn_hears_still_working_then_is_answered(
    chat: Chat,
) -> None:
    """Fault 1 (engine part): "still working" comes while the other turn still holds the
    lock (not a failure 30 s later); once it ends, the waiting message is answered."""
    await chat.say(VPN_QUESTION)
    conversation = await chat.services.store.find_conversation("test", chat.conversation)
    assert conversation is not None
    LEDGER.injected_here()
    stream = chat.services.engine.handle(_inbound(chat, "How do I reset my password?"))
    replies: list[Reply] = []
    async with asyncio.timeout(REPLY_WITHIN_S):
        async with chat.services.store.turn_lock(conversation.id, holder=_OTHER_TURN):
            while not any("still working" in t.lower() for t in user_texts(replies)):
                replies.append(await anext(stream))
        replies += [reply async for reply in stream]  # the other turn ended: answered now
    texts = LEDGER.exchange(user_texts(replies))
    answer = [r for r in replies if isinstance(r, Message) and not r.notice]
    assert answer and "password" in answer[-1].text.lower(), texts
    stored = await chat.services.store.messages_after(conversation.id, after_seq=0)
    asked = next(m for m in stored if m.content == "How do I reset my password?")
    assert asked.status == "done"
    assert answer[-1].message_id in {m.id for m in stored if m.reply_to_id == asked.id}


async def test_a_turn_lock_that_never_comes_ends_in_a_clear_message(chat: Chat) -> None:
    await chat.say(VPN_QUESTION)
    conversation = await chat.services.store.find_conversation("test", chat.conversation)
    assert conversation is not None
    LEDGER.injected_here()
    impatient = chat.with_config(EngineConfig(busy_wait_s=1.0))
    impatient.conversation = chat.conversation
    async with chat.services.store.turn_lock(conversation.id, holder=_OTHER_TURN):
        texts = user_texts(await impatient.say("How do I reset my password?"))
    assert any("still working" in t.lower() for t in texts), texts
    assert "send it again" in texts[-1], texts
    stored = await chat.services.store.messages_after(conversation.id, after_seq=0)
    asked = next(m for m in stored if m.content == "How do I reset my password?")
    assert [m.content for m in stored if m.reply_to_id == asked.id] == [texts[-1]]


async def test_a_ticket_the_helpdesk_creates_20_s_late_is_found_and_told(chat: Chat) -> None:
    """Fault 5: the create's answer is lost (20 s > the 15 s read timeout), but the ticket is
    made a little later; the lookup keeps looking until the reply is due, so the user reads
    its number instead of "I can't tell", and it exists exactly once."""
    proposal = await chat.say("Please create a ticket: my laptop keyboard has sticky keys")
    card = next(r for r in proposal if isinstance(r, ConfirmRequest))
    subject = next(f.value for f in card.fields if f.label == "Subject")
    await chat.inject(latency_ms=20000, path_prefix="/tickets", method="POST", count=1)
    after_click = user_texts(await chat.say(action=confirm_id(proposal)))
    assert not any("can't tell" in t for t in after_click), after_click
    written = await chat.written("POST", "/tickets")
    LEDGER.writes(written, expected=1)
    assert written == 1
    user = await chat.services.identities.resolve("test", "test:jane@acme.example")
    assert user is not None
    page = await chat.services.helpdesk.list_tickets(user.auth, limit=100)
    same = [t for t in page.tickets if t.subject == subject]
    assert len(same) == 1, same
    assert any(f"**{same[0].ticket_number}**" in t for t in after_click), after_click


async def test_a_create_that_truly_stays_unknown_is_told_so_within_the_reply_deadline(
    chat: Chat,
) -> None:
    """A 504 on the create: nothing was written (the sandbox answered for the gateway), but
    the bot cannot know that; it looks until the reply is due, then says it can't tell."""
    proposal = await chat.say("Please create a ticket: my laptop keyboard has sticky keys")
    await chat.inject(status=504, path_prefix="/tickets", method="POST", count=1)
    after_click = user_texts(await chat.say(action=confirm_id(proposal)))  # within 30 s
    assert any("can't tell" in t for t in after_click), after_click
    lookups = (await chat.backoffice.get("/sandbox/requests", params={"method": "GET"})).json()
    newest_20 = {"status": "all", "page": "1", "limit": "20"}  # the create's lookup
    reconciles = [
        r for r in lookups["requests"] if (r["path"], r["query"]) == ("/tickets", newest_20)
    ]
    assert len(reconciles) >= 2, "the lookup was tried again before giving up"
    LEDGER.writes(await chat.written("POST", "/tickets"), expected=0)
    assert await chat.written("POST", "/tickets") == 0


async def _chat_holds(chat: Chat) -> list[str]:
    """The user's messages the conversation's helpdesk chat session holds, oldest first."""
    conversation = await chat.services.store.find_conversation("test", chat.conversation)
    user = await chat.services.identities.resolve("test", "test:jane@acme.example")
    assert conversation is not None and conversation.helpdesk_chat_id is not None
    assert user is not None
    page = await chat.services.helpdesk.chat_messages(
        user.auth, conversation.helpdesk_chat_id, per_page=100
    )
    return [m.message for m in page.messages if m.sender_type == "user"]


def _no_space(text: str) -> str:
    return "".join(text.split())


async def test_a_long_message_reaches_the_helpdesk_chat_whole_in_parts(chat: Chat) -> None:
    """Fault 6: 30,000 characters (within Slack's 40,000) against the chat's 10,000: the
    helpdesk's record holds all of it, in numbered parts, and the user hears the limit."""
    LEDGER.injected_here()
    text = "My VPN log: " + " ".join(f"line{i} connect timeout" for i in range(1400))
    assert len(text) > 30_000
    texts = user_texts(await chat.say(text))
    assert any("10,000" in t and "4 parts" in t for t in texts), texts
    held = await _chat_holds(chat)
    assert len(held) == 4 and all(len(part) <= 10_000 for part in held), [len(p) for p in held]
    assert [p.split(")")[0] for p in held] == [f"(part {i} of 4" for i in (1, 2, 3, 4)]
    body = "".join(_no_space(p.split(") ", 1)[1]) for p in held)
    assert body == _no_space(text), "the helpdesk's record has a gap"


async def test_a_megabyte_message_is_cut_with_a_visible_marker_and_the_user_told(
    chat: Chat,
) -> None:
    LEDGER.injected_here()
    text = "#" * 1_000_000
    texts = user_texts(await chat.say(text))
    held = await _chat_holds(chat)
    assert len(held) == MAX_PARTS and all(len(part) <= 10_000 for part in held)
    omitted = len(text) - sum(part.count("#") for part in held)
    assert f"{omitted:,} more characters" in held[-1], held[-1][-200:]
    assert any("10,000" in t and f"{omitted:,}" in t for t in texts), texts
