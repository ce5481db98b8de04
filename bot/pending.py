"""Buttons and typed yes/no: confirm, cancel or redirect a pending write; other actions.

A confirm claims the pending action atomically in the store and runs it once; a cancel
only succeeds while it is still pending; "comment instead" turns a proposed duplicate
ticket into the write its tool declares instead (`ToolSpec.instead_on_similar`). Every
outcome is noted for the model.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from bot import confirmations, metrics, prompts
from bot.chat_session import ChatSessions
from bot.escalation import Escalation
from bot.helpdesk.client import HelpdeskClient
from bot.history import History
from bot.messages import ActionInvoke, HandoffStatus, Reply
from bot.store.records import PendingAction
from bot.store.store import Store
from bot.tooling import ToolRegistry
from bot.turn import Turn, reply_to, say


class PendingWrites:
    """Answers button presses and typed yes/no within a turn (one per engine)."""

    def __init__(
        self,
        *,
        store: Store,
        helpdesk: HelpdeskClient,
        tools: ToolRegistry,
        chats: ChatSessions,
        history: History,
        escalation: Escalation,
    ) -> None:
        self._store = store
        self._helpdesk = helpdesk
        self._tools = tools
        self._chats = chats
        self._history = history
        self._escalation = escalation

    async def on_action(self, turn: Turn, action: ActionInvoke) -> AsyncIterator[Reply]:
        kind, _, argument = action.action_id.partition(":")
        if kind in ("confirm", "cancel", "comment_instead"):
            async for reply in self.on_pending(
                turn, kind=kind, action_id=argument, value=action.value
            ):
                yield reply
        elif kind == "feedback" and argument.isdigit():
            if await self._store.set_feedback(
                turn.conversation.id, int(argument), value=1 if action.value == "up" else -1
            ):
                metrics.current().feedback.labels(
                    value="up" if action.value == "up" else "down"
                ).inc()
        elif kind == "talk_to_human":
            chat_id, _ = await self._chats.ensure_chat(turn.conversation, turn.user)
            yield await self._escalate(turn, chat_id, prompts.note("user_asked_for_person"))
        elif kind == "propose":  # a channel form (e.g. a Slack modal) proposes a named write
            async for reply in self.propose_direct(turn, argument, action.value or "{}"):
                yield reply
        elif kind == "cancel_handoff":
            yield await self._cancel_handoff(turn)
        elif kind == "rating" and _score(action.value) is not None:
            await self._store.record_rating(
                turn.conversation.id, rating_key=argument or "chat", score=_score(action.value) or 0
            )
            metrics.current().csat.observe(_score(action.value) or 0)
            yield await say(self._store, turn, prompts.reply("button_rating_thanks"))
        elif (spec := self._tools.proposed_by(kind)) is not None:  # e.g. "Create a ticket"
            async for reply in self.propose_direct(turn, spec.name, "{}"):
                yield reply
        else:
            yield await say(self._store, turn, prompts.reply("button_inactive"))

    async def on_pending(
        self, turn: Turn, *, kind: str, action_id: str, value: str | None = None
    ) -> AsyncIterator[Reply]:
        if kind in ("cancel", "comment_instead"):
            async for reply in self._cancel(turn, kind=kind, action_id=action_id, value=value):
                yield reply
            return
        yield await self._confirm(turn, action_id)

    async def propose_direct(
        self, turn: Turn, tool: str, raw_arguments: str
    ) -> AsyncIterator[Reply]:
        """Propose a write the user asked for with a button (no model involved)."""
        spec = self._tools.get(tool)
        if spec is None or not spec.needs_confirmation or not spec.allowed(turn.user.capabilities):
            yield await say(self._store, turn, prompts.reply("button_not_here"))
            return
        confirm, model_result = await confirmations.propose(
            self._store,
            conversation_id=turn.conversation.id,
            user_key=turn.conversation.user_key,
            spec=spec,
            context=turn.tool_context(self._helpdesk),
            tool_call_id=f"direct-{turn.stored.id}",
            raw_arguments=raw_arguments,
            deadline=turn.reply_by,
        )
        if confirm is None:
            error = model_result["error"]
            yield await say(self._store, turn, prompts.reply("button_cannot", error=error))
            return
        yield await reply_to(self._store, turn, confirm)

    # --- steps -----------------------------------------------------------------------------

    async def _confirm(self, turn: Turn, action_id: str) -> Reply:
        store, conversation = self._store, turn.conversation
        claimed = await store.claim_pending_action(action_id, user_key=conversation.user_key)
        if claimed is None:
            current = await store.get_pending_action(action_id)
            return await say(store, turn, confirmations.describe_stale(current))
        spec = self._tools.get(claimed.tool_name)
        if spec is None or not spec.allowed(turn.user.capabilities):
            await store.complete_pending_action(
                claimed.id, status="failed", result={"error": "not allowed"}
            )
            return await say(store, turn, prompts.reply("write_not_allowed"))
        outcome = await confirmations.execute(
            claimed, spec=spec, context=turn.tool_context(self._helpdesk), reply_by=turn.reply_by
        )
        await store.complete_pending_action(
            claimed.id, status="done" if outcome.ok else "failed", result=dict(outcome.result)
        )
        result = "confirmed" if outcome.ok else "failed"
        metrics.current().confirms.labels(tool=spec.name, result=result).inc()
        note = prompts.note("write_result", tool=spec.name, result=outcome.result)
        await self._history.note(conversation.id, note)
        return await say(store, turn, outcome.text)

    async def _cancel(
        self, turn: Turn, *, kind: str, action_id: str, value: str | None
    ) -> AsyncIterator[Reply]:
        store, conversation = self._store, turn.conversation
        if not await store.cancel_pending_action(action_id, user_key=conversation.user_key):
            current = await store.get_pending_action(action_id)
            yield await say(store, turn, confirmations.describe_stale(current))
            return
        action = await store.get_pending_action(action_id)
        tool = action.tool_name if action is not None else "unknown"
        result = "cancelled" if kind == "cancel" else "redirected"
        metrics.current().confirms.labels(tool=tool, result=result).inc()
        if kind == "cancel":
            await self._history.note(conversation.id, prompts.note("user_cancelled"))
            yield await say(store, turn, prompts.reply("write_cancelled"))
            return
        async for reply in self._comment_instead(turn, action, value):
            yield reply

    async def _comment_instead(
        self, turn: Turn, action: PendingAction | None, ticket_number: str | None
    ) -> AsyncIterator[Reply]:
        spec = self._tools.get(action.tool_name) if action is not None else None
        if (
            action is None
            or spec is None
            or spec.instead_on_similar is None
            or not ticket_number
            or not ticket_number.isdigit()
        ):
            yield await say(self._store, turn, prompts.reply("write_missing"))
            return
        tool, raw = spec.instead_on_similar(action.arguments, int(ticket_number))
        async for reply in self.propose_direct(turn, tool, raw):
            yield reply

    async def _cancel_handoff(self, turn: Turn) -> Reply:
        """Leave the agent queue (only while nobody has joined yet)."""
        conversation = turn.conversation
        if conversation.owner != "queued":
            return await say(self._store, turn, prompts.reply("handoff_nothing_to_cancel"))
        if not await self._store.set_owner(conversation.id, expected="queued", new="bot"):
            return await say(self._store, turn, prompts.reply("handoff_agent_just_joined"))
        await self._chats.end(conversation, turn.user)
        metrics.current().handoffs.labels(state="cancelled").inc()
        await self._history.note(conversation.id, prompts.note("user_stopped_waiting"))
        return HandoffStatus(state="cancelled", text=prompts.reply("handoff_stopped_waiting"))

    async def _escalate(self, turn: Turn, chat_id: int | None, reason: str) -> Reply:
        status = await self._escalation.escalate(
            turn.conversation, turn.user, chat_id, reason, deadline=turn.deadline
        )
        return await reply_to(self._store, turn, status)


def _score(value: str | None) -> int | None:
    """A 1-5 rating from a rating button's value, or None."""
    if value is not None and value.isdigit() and 1 <= int(value) <= 5:
        return int(value)
    return None
