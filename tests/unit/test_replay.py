"""Stored replies come back as the same Reply the user saw live (sources, cards, buttons)."""

from __future__ import annotations

from adapters.web.render import render_stored
from bot.messages import (
    Action,
    AgentMessage,
    ConfirmField,
    ConfirmRequest,
    HandoffStatus,
    Message,
    Source,
)
from bot.replay import persist_reply, reply_from_stored
from bot.store.store import Store


async def _conversation(store: Store) -> int:
    conversation = await store.get_or_create_conversation("web", "k", user_key="u")
    return conversation.id


async def test_an_answer_keeps_its_sources_and_feedback_buttons(store: Store) -> None:
    cid = await _conversation(store)
    answer = Message(
        text="Reconnect GlobalProtect.",
        sources=(Source(7, "Connect to the VPN", "http://kb/7"),),
        actions=(Action(id="talk_to_human", kind="talk_to_human", label="Talk to a human"),),
    )
    live, row = await persist_reply(store, cid, answer, feedback=True)

    assert live.message_id == row.id
    assert [a.kind for a in live.actions] == ["talk_to_human", "feedback", "feedback"]
    assert reply_from_stored(row) == live


async def test_confirm_cards_handoff_and_agent_messages_round_trip(store: Store) -> None:
    cid = await _conversation(store)
    card = ConfirmRequest(
        pending_action_id="abc",
        title="Create a ticket",
        fields=(ConfirmField("Subject", "VPN drops"),),
        notices=("VPN is degraded",),
        actions=(
            Action(id="confirm:abc", kind="confirm", label="Confirm", style="primary"),
            Action(id="cancel:abc", kind="cancel", label="Cancel"),
        ),
    )
    for reply in (
        card,
        HandoffStatus(state="joined", text="Mike Tech joined", agent_name="Mike Tech"),
        AgentMessage(agent_name="Mike Tech", text="On it."),
        Message(text="Cancelled — nothing was changed.", notice=True),
    ):
        live, row = await persist_reply(store, cid, reply)
        assert reply_from_stored(row) == live


async def test_a_replayed_confirm_card_has_buttons_only_while_its_action_waits(
    store: Store,
) -> None:
    cid = await _conversation(store)
    action = await store.create_pending_action(
        cid, user_key="u", tool_name="create_ticket", arguments={}, idempotency_key="k1"
    )
    card = ConfirmRequest(
        pending_action_id=action.id,
        title="Create a ticket",
        fields=(),
        actions=(Action(id=f"confirm:{action.id}", kind="confirm", label="Confirm"),),
    )
    _, row = await persist_reply(store, cid, card)

    waiting = render_stored(row, live_confirm=action)
    answered = render_stored(row, live_confirm=None)

    assert waiting is not None and [a["label"] for a in waiting["actions"]] == ["Confirm"]
    assert answered is not None and answered["actions"] == []
    assert answered["title"] == "Create a ticket" and answered["seq"] == row.seq
