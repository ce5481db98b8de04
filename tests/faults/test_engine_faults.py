"""Faults whose fix lies in the engine or the tools (not in this suite's files): written as
strict xfails, so they turn into failures the day they are fixed and must be un-marked."""

from __future__ import annotations

import os
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.messages import ConfirmRequest
from sandbox.runner import RunningSandbox
from tests.faults.chat import Chat, confirm_id, open_chat, user_texts
from tests.faults.ledger import LEDGER


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
