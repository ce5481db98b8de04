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
from bot.history import History, recorded_rows, stored_usage
from bot.messages import Action, ConfirmRequest, Message, Reply
from bot.replay import reply_row, stored_reply
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
        self,
        turn: Turn,
        chat_id: int | None,
        mirrored_at: datetime | None,
        history: list[HistoryItem],
    ) -> AsyncIterator[Reply]:
        """Answer with the model; `history` is the conversation after `turn.conversation`'s
        summary (`History.current`)."""
        started = time.monotonic()
        context = turn.tool_context(self._helpdesk, chat_id)
        offered = self._tools.offered(turn.user.capabilities, in_chat=context.chat_id is not None)
        plan = self._plan(turn, history, offered)
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
                deadline=turn.reply_by,
            )

        return propose

    async def _conclude(
        self, turn: Turn, chat_id: int | None, result: LoopResult, history: list[HistoryItem]
    ) -> AsyncIterator[Reply]:
        """Persist the run and say what it decided: the answer, a confirm card, a handoff.

        The run's steps, the answer and the confirm card are stored in one transaction."""
        recorded = result.recorded[:-1] if result.text else result.recorded
        rows = recorded_rows(recorded)
        replies: list[Message | ConfirmRequest] = []
        if result.text:
            final_usage = result.recorded[-1].usage if result.recorded else None
            answer = Message(
                text=result.text,
                sources=result.sources,
                actions=self._offers(turn, result, history),
            )
            replies.append(answer)
            rows.append(
                reply_row(
                    answer,
                    reply_to_id=turn.stored.id,
                    feedback=True,
                    usage=stored_usage(final_usage),
                )
            )
        if result.confirm is not None:
            replies.append(result.confirm)
            rows.append(reply_row(result.confirm, reply_to_id=turn.stored.id))
        # The inbound is done with this write, unless a handoff is still to be made.
        settles = turn.stored.id if result.handoff_reason is None else None
        saved = await self._store.add_messages(turn.conversation.id, rows, settles=settles)
        turn.settlement.done = settles is not None
        for reply, row in zip(replies, saved[len(saved) - len(replies) :], strict=True):
            yield stored_reply(reply, row)
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
