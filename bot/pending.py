"""Buttons and typed yes/no: confirm, cancel or redirect a pending write; other actions.

A confirm claims the pending action atomically in the store and runs it once; a cancel
only succeeds while it is still pending; "comment instead" turns a proposed duplicate
ticket into a proposed comment on the similar ticket. Every outcome is noted for the model.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

from bot import confirmations
from bot.conversation_ops import json_arguments
from bot.helpdesk.errors import HelpdeskError
from bot.messages import ActionInvoke, HandoffStatus, Reply
from bot.store.records import PendingAction
from bot.turn import Turn

log = logging.getLogger(__name__)


async def on_action(turn: Turn, action: ActionInvoke) -> AsyncIterator[Reply]:
    kind, _, argument = action.action_id.partition(":")
    if kind in ("confirm", "cancel", "comment_instead"):
        async for reply in on_pending(turn, kind=kind, action_id=argument, value=action.value):
            yield reply
    elif kind == "feedback" and argument.isdigit():
        await turn.store.set_feedback(
            turn.conversation.id, int(argument), value=1 if action.value == "up" else -1
        )
    elif kind == "talk_to_human":
        chat_id, _ = await turn.ops.ensure_chat(turn.conversation, turn.user)
        yield await turn.escalate(chat_id, "The user asked to talk to a person.")
    elif kind == "create_ticket":
        async for reply in propose_direct(turn, "create_ticket_from_chat", "{}"):
            yield reply
    elif kind == "propose":  # a channel form (e.g. a Slack modal) proposes a named write
        async for reply in propose_direct(turn, argument, action.value or "{}"):
            yield reply
    elif kind == "cancel_handoff":
        yield await _cancel_handoff(turn)
    elif kind == "rating" and (action.value or "").isdigit() and 1 <= int(action.value or 0) <= 5:
        await turn.store.record_rating(
            turn.conversation.id, rating_key=argument or "chat", score=int(action.value or 0)
        )
        yield await turn.say("Thanks for the feedback!")
    else:
        yield await turn.say("That button is no longer active.")


async def on_pending(
    turn: Turn, *, kind: str, action_id: str, value: str | None = None
) -> AsyncIterator[Reply]:
    store, conversation = turn.store, turn.conversation
    if kind in ("cancel", "comment_instead"):
        if not await store.cancel_pending_action(action_id, user_key=conversation.user_key):
            current = await store.get_pending_action(action_id)
            yield await turn.say(confirmations.describe_stale(current))
            return
        if kind == "cancel":
            await turn.ops.note_outcome(conversation.id, "The user cancelled the change.")
            yield await turn.say("Cancelled — nothing was changed.")
            return
        action = await store.get_pending_action(action_id)
        async for reply in _comment_instead(turn, action, value):
            yield reply
        return
    claimed = await store.claim_pending_action(action_id, user_key=conversation.user_key)
    if claimed is None:
        current = await store.get_pending_action(action_id)
        yield await turn.say(confirmations.describe_stale(current))
        return
    spec = turn.tools.get(claimed.tool_name)
    if spec is None or not spec.allowed(turn.user.capabilities):
        await store.complete_pending_action(
            claimed.id, status="failed", result={"error": "not allowed"}
        )
        yield await turn.say("You're not allowed to do that.")
        return
    outcome = await confirmations.execute(claimed, spec=spec, context=turn.tool_context())
    await store.complete_pending_action(
        claimed.id, status="done" if outcome.ok else "failed", result=dict(outcome.result)
    )
    await turn.ops.note_outcome(
        conversation.id, f"Result of {spec.name} after the user confirmed: {outcome.result}"
    )
    yield await turn.say(outcome.text)


async def _cancel_handoff(turn: Turn) -> Reply:
    """Leave the agent queue (only while nobody has joined yet)."""
    conversation = turn.conversation
    if conversation.owner != "queued":
        return await turn.say("There's no request for an agent to cancel.")
    if not await turn.store.set_owner(conversation.id, expected="queued", new="bot"):
        return await turn.say("An agent has just joined; they'll be with you shortly.")
    if conversation.helpdesk_chat_id is not None:
        try:
            await turn.helpdesk.chat_end(turn.user.auth, conversation.helpdesk_chat_id)
        except HelpdeskError as exc:
            log.info("Ending the helpdesk chat after a cancelled handoff failed: %s", exc)
        await turn.store.set_helpdesk_chat(conversation.id, None)
    await turn.ops.note_outcome(conversation.id, "The user stopped waiting for a human agent.")
    return HandoffStatus(state="cancelled", text="OK — you're no longer waiting for an agent.")


async def _comment_instead(
    turn: Turn, action: PendingAction | None, ticket_number: str | None
) -> AsyncIterator[Reply]:
    if action is None or not ticket_number or not ticket_number.isdigit():
        yield await turn.say("I couldn't find that request any more.")
        return
    description = str(action.arguments.get("description") or action.arguments.get("subject"))
    raw = json_arguments(ticket_number=int(ticket_number), comment=description)
    async for reply in propose_direct(turn, "add_ticket_comment", raw):
        yield reply


async def propose_direct(turn: Turn, tool: str, raw_arguments: str) -> AsyncIterator[Reply]:
    """Propose a write the user asked for with a button (no model involved)."""
    spec = turn.tools.get(tool)
    if spec is None or not spec.needs_confirmation or not spec.allowed(turn.user.capabilities):
        yield await turn.say("You can't do that from here.")
        return
    confirm, model_result = await confirmations.propose(
        turn.store,
        conversation_id=turn.conversation.id,
        user_key=turn.conversation.user_key,
        spec=spec,
        context=turn.tool_context(),
        tool_call_id=f"direct-{turn.stored.id}",
        raw_arguments=raw_arguments,
    )
    if confirm is None:
        yield await turn.say(f"I can't do that: {model_result['error']}")
        return
    yield await turn.say_confirm(confirm)
