"""Secrets a user pastes into the chat reach neither the transcript, the model, nor the
helpdesk's copy of the chat (the request log of the sandbox holds every body it got)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest

from bot.store.store import Store
from sandbox.runner import RunningSandbox
from tests.contract.engine_harness import HarnessFactory, harness_factory
from tests.fakes.scripted_model import Reply as Step
from tests.security.conftest import remember_secret
from tests.security.ledger import LEDGER

PASTES = {
    "a password": ("my password is {}", "Tr0ub4dor&3xQ"),
    "a password with a colon": ("password: {}", "correct-Horse-9-battery"),
    "an API key": ("here's our api key {} for the integration", "sk-live-4f9aQ2kLmN8pR7sT1vWx"),
    "an AWS access key": ("the key is {}", "AKIAIOSFODNN7EXAMPLE"),
    "a bearer token": ("it sends Bearer {}", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOjF9.c2ln"),
    "a Slack token": ("our bot token {} stopped working", "xoxb-2222-3333-AbCdEfGhIjKl"),
    "an MFA code": ("my MFA code is {}", "482913"),
}  # fmt: skip


@pytest.fixture
async def make(sandbox: RunningSandbox, store: Store) -> AsyncIterator[HarnessFactory]:
    async for factory in harness_factory(sandbox, store):
        yield factory


@pytest.mark.parametrize("kind", list(PASTES))
async def test_a_pasted_secret_is_masked_everywhere(make: HarnessFactory, kind: str) -> None:
    template, secret = PASTES[kind]
    remember_secret(f"a pasted secret ({kind})", secret)
    h = make(Step(text="Thanks — please change it; I can help with the problem itself."))
    await h.link("jane@acme.example")

    await h.say(template.format(secret))

    conversation = await h.store.find_conversation("test", h.conversation)
    assert conversation is not None
    transcript = " ".join(
        m.content for m in await h.store.recent_messages(conversation.id, limit=50)
    )
    context = " ".join(m.content or "" for m in h.model.requests[0].messages)
    mirrored = json.dumps(await h.requests("/chat/", method="POST"))
    assert "[redacted]" in transcript  # the control: the message itself was stored
    places = {"transcript": transcript, "model context": context, "helpdesk chat": mirrored}
    found = [place for place, text in places.items() if secret in text]
    LEDGER.outcome(f"pasted {kind} kept", refused=not found)
    assert not found, found
