"""Every fault the sandbox back office injects, under a real turn: the user always gets an
answer or a clear message within 30 s, and no ticket or comment is written twice."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.messages import ConfirmRequest
from sandbox.runner import RunningSandbox
from tests.faults.chat import Chat, confirm_id, open_chat, user_texts
from tests.faults.ledger import LEDGER

VPN_QUESTION = "How do I set up the VPN on my laptop?"
CREATE = "Please create a ticket: my laptop keyboard has sticky keys"


@pytest.fixture
async def chat(sandbox: RunningSandbox, tmp_path: Path) -> AsyncIterator[Chat]:
    async with open_chat(sandbox, tmp_path, helpdesk_retry_budget=3.0) as opened:
        await opened.link()
        yield opened


async def create_confirmed(chat: Chat) -> list[str]:
    """Ask for a ticket, confirm it; what the user read after the click."""
    proposal = await chat.say(CREATE)
    assert any(isinstance(r, ConfirmRequest) for r in proposal), user_texts(proposal)
    return user_texts(await chat.say(action=confirm_id(proposal)))


async def test_429_with_retry_after_on_the_kb_still_answers(chat: Chat) -> None:
    await chat.inject(status=429, retry_after=1, path_prefix="/kb/articles", count=1)
    answer = user_texts(await chat.say(VPN_QUESTION))
    assert any("vpn" in text.lower() for text in answer), answer


@pytest.mark.parametrize("status", [500, 503])
async def test_a_burst_of_5xx_on_a_create_writes_at_most_once(chat: Chat, status: int) -> None:
    await chat.inject(status=status, path_prefix="/tickets", method="POST", count=2)
    after_click = await create_confirmed(chat)
    written = await chat.written("POST", "/tickets")
    LEDGER.writes(written, expected=1)
    assert written <= 1
    if status == 503:  # refused before acting: retried, and it went through (fault 5)
        assert written == 1 and any("created ticket" in t.lower() for t in after_click)
    else:  # 500: the server said it failed — the user hears so, plainly
        assert written == 0, after_click
        assert not any("can't tell" in t.lower() for t in after_click), after_click


async def test_503_on_a_create_is_not_reported_unknown(chat: Chat) -> None:
    """Fault 5: a 503 means nothing was written; retried within the budget, created once."""
    await chat.inject(status=503, path_prefix="/tickets", method="POST", count=1)
    after_click = await create_confirmed(chat)
    assert any("created ticket" in t.lower() for t in after_click), after_click
    assert await chat.written("POST", "/tickets") == 1


async def test_five_seconds_of_latency_on_the_kb_is_waited_for(chat: Chat) -> None:
    await chat.inject(latency_ms=5000, path_prefix="/kb/articles", count=1)
    answer = user_texts(await chat.say(VPN_QUESTION))
    assert any("vpn" in text.lower() for text in answer), answer


async def test_twenty_seconds_of_latency_ends_in_a_clear_message(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    async with open_chat(
        sandbox, tmp_path, helpdesk_read_timeout=2.0, helpdesk_retry_budget=1.0
    ) as chat:
        await chat.link()
        await chat.inject(latency_ms=20000, path_prefix="/kb/articles")
        answer = user_texts(await chat.say(VPN_QUESTION))
        await chat.clear_faults()
    assert answer and all(text.strip() for text in answer)


async def test_an_access_token_expired_mid_conversation_is_refreshed(chat: Chat) -> None:
    await chat.say(VPN_QUESTION)
    expired = await chat.backoffice.post(
        "/sandbox/auth/expire", json={"email": "jane@acme.example"}
    )
    assert expired.status_code == 200
    LEDGER.injected_here()
    after_click = await create_confirmed(chat)
    assert any("created ticket" in t.lower() for t in after_click), after_click
    written = await chat.written("POST", "/tickets")
    LEDGER.writes(written, expected=1)
    assert written == 1


async def test_a_revoked_refresh_token_asks_the_user_to_sign_in_again(chat: Chat) -> None:
    await chat.say(VPN_QUESTION)
    revoked = await chat.backoffice.post(
        "/sandbox/auth/expire", json={"email": "jane@acme.example", "refresh": True}
    )
    assert revoked.status_code == 200
    LEDGER.injected_here()
    texts = user_texts(await chat.say("Show my tickets"))
    assert any("sign" in text.lower() and "again" in text.lower() for text in texts), texts
    assert await chat.written("POST", "/tickets") == 0
