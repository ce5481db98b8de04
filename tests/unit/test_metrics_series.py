"""The pieces of `bot.metrics` that decide label values: path templates, a turn's outcome,
and a channel's dedupe claims counted as hits (over the real store)."""

from __future__ import annotations

import httpx
import pytest

from bot.desk import Desk
from bot.helpdesk.client import HelpdeskClient
from bot.messages import ConfirmRequest, HandoffStatus, Message, Typing
from bot.metrics import Metrics, endpoint_template
from bot.store.store import Store
from tests.metrics_fixtures import registry_fixture, sample  # noqa: F401 - the `registry` fixture


@pytest.mark.parametrize(
    ("path", "template"),
    [
        ("/tickets/3012", "/tickets/{id}"),
        ("/tickets/3012/comments", "/tickets/{id}/comments"),
        ("/chat/77/messages", "/chat/{id}/messages"),
        ("/kb/articles/12?x=1", "/kb/articles/{id}"),
        ("/assets/A-100", "/assets/{id}"),
        ("/tickets/approvals/count", "/tickets/approvals/count"),
        ("/auth/login", "/auth/login"),
    ],
)
def test_helpdesk_paths_become_templates(path: str, template: str) -> None:
    assert endpoint_template(path) == template


def test_a_turn_is_named_by_its_strongest_reply(registry: Metrics) -> None:
    confirm = ConfirmRequest(pending_action_id="a1", title="Create a ticket", fields=())
    with registry.turn("web").timing() as meter:
        for reply in (Typing(), Message(text="Let me check."), confirm, Message(text="Done")):
            meter.saw(reply)
    with registry.turn("web").timing() as meter:
        meter.saw(Message(text="Queued", notice=True))
        meter.saw(HandoffStatus(state="queued", text="queued"))

    turns = "helpdesk_bot_turns_total"
    assert sample(registry, turns, channel="web", outcome="confirm_requested") == 1
    assert sample(registry, "helpdesk_bot_turns_total", channel="web", outcome="handoff") == 1
    assert sample(registry, "helpdesk_bot_turn_seconds_count", channel="web") == 2


def test_a_turn_that_raises_is_counted_as_failed(registry: Metrics) -> None:
    with pytest.raises(RuntimeError), registry.turn("slack").timing() as meter:
        meter.saw(Message(text="partial"))
        raise RuntimeError("boom")

    assert sample(registry, "helpdesk_bot_turns_total", channel="slack", outcome="failed") == 1


async def test_a_second_claim_of_an_event_is_a_dedupe_hit(registry: Metrics, store: Store) -> None:
    async with httpx.AsyncClient() as http:  # never used: claims touch only the store
        desk = Desk(store=store, helpdesk=HelpdeskClient("http://127.0.0.1:9", http=http))

        assert await desk.claim("slack", "event:Ev01")
        assert not await desk.claim("slack", "event:Ev01")  # Slack retried the delivery
        assert await desk.claim("slack", "event:Ev02")

    assert sample(registry, "helpdesk_bot_dedupe_hits_total", source="slack") == 1
