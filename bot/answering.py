"""The model's answer to a turn: plan the context, run the loop, then reply, confirm or hand off.

The context is the system prompt, the rolling summary and as much recent history as the
token budget allows (`bot.context.plan_context`); what no longer fits is folded into the
summary after the reply. When the model keeps failing, the answer degrades to the
helpdesk's own AI (Val AI) or a fixed apology, always with ways forward as buttons.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from bot import confirmations, metrics, prompts
from bot.agent_loop import AgentLoop, LoopResult, ModelGaveUp, ProposeWrite
from bot.config import EngineConfig
from bot.context import ContextPlan, HistoryItem, plan_context
from bot.escalation import Escalation
from bot.frustration import wants_a_person
from bot.helpdesk.client import HelpdeskClient
from bot.history import History, stored_usage
from bot.messages import Action, ConfirmRequest, Message, Reply
from bot.store.store import Store
from bot.tooling import ToolContext, ToolRegistry, ToolSpec
from bot.turn import Turn, reply_to
from bot.val_ai import ValAi

log = logging.getLogger(__name__)


def offer_actions() -> tuple[Action, ...]:
    """The ways forward when the answer did not help: a ticket, or a person."""
    return (
        Action(
            id="create_ticket", kind="create_ticket", label=prompts.reply("label_create_ticket")
        ),
        Action(
            id="talk_to_human", kind="talk_to_human", label=prompts.reply("label_talk_to_human")
        ),
    )


class Answering:
    """Answers a turn with the model (one per engine)."""

    def __init__(
        self,
        *,
        store: Store,
        helpdesk: HelpdeskClient,
        tools: ToolRegistry,
        loop: AgentLoop,
        history: History,
        escalation: Escalation,
        val_ai: ValAi,
        config: EngineConfig,
    ) -> None:
        self._store = store
        self._helpdesk = helpdesk
        self._tools = tools
        self._loop = loop
        self._history = history
        self._escalation = escalation
        self._val_ai = val_ai
        self._config = config

    async def answer(
        self, turn: Turn, chat_id: int | None, mirrored_at: datetime | None
    ) -> AsyncIterator[Reply]:
        started = time.monotonic()
        offered = self._tools.offered(turn.user.capabilities)
        history = await self._history.load(turn.conversation)
        plan = self._plan(turn, history, offered)
        context = turn.tool_context(self._helpdesk, chat_id)
        result: LoopResult | None = None
        try:
            async for event in self._loop.run(
                plan.messages,
                offered=offered,
                context=context,
                propose_write=self._proposer(turn, context),
                deadline=min(started + self._config.reply_deadline_s, turn.deadline),
            ):
                if isinstance(event, LoopResult):
                    result = event
                else:
                    yield event
        except ModelGaveUp as exc:
            log.warning("Model gave up after retries (%s); degrading", type(exc.last).__name__)
            await self._history.record(turn.conversation.id, exc.recorded)
            yield await self._degraded(turn, chat_id, mirrored_at, exc)
            return
        assert result is not None
        async for reply in self._conclude(turn, chat_id, result, history):
            yield reply
        await self._history.fold(turn.conversation, plan.fold, turn.user, deadline=turn.deadline)

    def _plan(
        self, turn: Turn, history: list[HistoryItem], offered: list[ToolSpec[Any]]
    ) -> ContextPlan:
        user = turn.user
        system = prompts.render(
            "system",
            tenant_name=self._config.tenant_name,
            user_name=user.display_name,
            company_name=user.profile.company_name or "your company",
            date=datetime.now(UTC).strftime("%A %d %B %Y"),
        )
        return plan_context(
            system=system,
            summary=turn.conversation.summary,
            history=history,
            tools=[spec.schema() for spec in offered],
            budget=self._config.input_token_budget,
        )

    def _proposer(self, turn: Turn, context: ToolContext) -> ProposeWrite:
        async def propose(
            spec: ToolSpec[Any], call_id: str, raw: str
        ) -> tuple[ConfirmRequest | None, dict[str, Any]]:
            return await confirmations.propose(
                self._store,
                conversation_id=turn.conversation.id,
                user_key=turn.conversation.user_key,
                spec=spec,
                context=context,
                tool_call_id=call_id,
                raw_arguments=raw,
            )

        return propose

    async def _conclude(
        self, turn: Turn, chat_id: int | None, result: LoopResult, history: list[HistoryItem]
    ) -> AsyncIterator[Reply]:
        """Persist the run and say what it decided: the answer, a confirm card, a handoff."""
        recorded = result.recorded[:-1] if result.text else result.recorded
        await self._history.record(turn.conversation.id, recorded)
        if result.text:
            final_usage = result.recorded[-1].usage if result.recorded else None
            answer = Message(
                text=result.text,
                sources=result.sources,
                actions=self._offers(turn, result, history),
            )
            yield await reply_to(
                self._store, turn, answer, feedback=True, usage=stored_usage(final_usage)
            )
        if result.confirm is not None:
            yield await reply_to(self._store, turn, result.confirm)
        if result.handoff_reason is not None:
            status = await self._escalation.escalate(
                turn.conversation, turn.user, chat_id, result.handoff_reason, deadline=turn.deadline
            )
            yield await reply_to(self._store, turn, status)

    @staticmethod
    def _offers(turn: Turn, result: LoopResult, history: list[HistoryItem]) -> tuple[Action, ...]:
        """Nothing in the knowledge base, or a frustrated user: offer the ways forward as
        buttons, not just words."""
        earlier = [i.message.content or "" for i in history if i.message.role == "user"][:-1]
        needs_person = wants_a_person(turn.stored.content, earlier)
        stuck = result.nothing_found and not result.sources
        return offer_actions() if stuck or needs_person else ()

    async def _degraded(
        self, turn: Turn, chat_id: int | None, mirrored_at: datetime | None, failure: ModelGaveUp
    ) -> Reply:
        val_ai = await self._val_ai.answer(turn.user, chat_id, mirrored_at)
        if val_ai:
            text = prompts.reply("turn_val_ai_suggests", answer=val_ai)
        else:
            text = prompts.load("degraded")
        metrics.current().degraded.labels(fallback="val_ai" if val_ai else "apology").inc()
        if failure.streamed_text:
            text = failure.streamed_text + "\n\n" + text
        message = Message(text=text, actions=offer_actions(), degraded=True)
        return await reply_to(self._store, turn, message)
