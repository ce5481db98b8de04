"""Buttons and typed yes/no: confirm, cancel or redirect a pending write; other actions.

A confirm claims the pending action atomically in the store and runs it once; a cancel
only succeeds while it is still pending; "comment instead" turns a proposed duplicate
ticket into a proposed comment on the similar ticket. Every outcome is noted for the model.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from bot import confirmations
from bot.conversation_ops import json_arguments
from bot.messages import ActionInvoke, Reply
from bot.store.records import PendingAction
from bot.turn import Turn


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
    if spec is None or not spec.allowed(turn.user.capabilities):
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
