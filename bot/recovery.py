"""Settling writes a crash left `executing`: ask the helpdesk, record the outcome, tell the user.

A confirmed write is claimed (`executing`) before it runs and completed after it; a process
that dies in between leaves it executing for ever. The sweep takes each action executing
for longer than any turn may run and asks the helpdesk, as the user, whether the write
happened — the tool's `reconcile`, the same lookup an unknown outcome uses:

- it did → `done`; the user reads what was done ("Created ticket **3051** — …");
- it did not → `failed`; the user gets a fresh confirm card for the same arguments, so the
  write runs again only after a new confirm (never twice on its own);
- the tool cannot look (no `reconcile`) → `failed` as unknown; the user is asked to check;
- the lookup failed (helpdesk down, sign-in gone, user unlinked) → left as it is, for the
  next sweep.

The outcome is recorded with a compare-and-set (`executing` → done | failed), so of two
replicas sweeping at once exactly one tells the user; the retry card has an idempotency key
derived from the interrupted action, so it is proposed once however often the sweep runs.
The reply is stored in the conversation first, then handed to `notify` (in the composition
root, `HandoffRelay.send`: the channel's proactive sender).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from bot import confirmations, prompts
from bot.helpdesk.client import HelpdeskClient
from bot.helpdesk.errors import HelpdeskError
from bot.identity import UserDirectory
from bot.messages import Message, Reply
from bot.replay import persist_reply
from bot.store.records import Conversation, PendingAction
from bot.store.store import Store
from bot.tooling import ToolContext, ToolRegistry, ToolSpec

log = logging.getLogger(__name__)

# (channel, conversation_key, reply) -> delivered; e.g. `HandoffRelay.send`.
Notify = Callable[[str, str, Reply], Awaitable[bool]]


@dataclass(frozen=True, slots=True)
class Settled:
    """What the sweep decided about one interrupted write."""

    action_id: str
    status: Literal["done", "failed"]
    retry_action_id: str | None = None  # the fresh confirm card offered instead


async def settle_interrupted_writes(
    *,
    store: Store,
    identities: UserDirectory,
    helpdesk: HelpdeskClient,
    tools: ToolRegistry,
    notify: Notify,
    older_than_s: float,
    conversation_id: int | None = None,
    now: datetime | None = None,
) -> list[Settled]:
    """Settle every write left `executing` for more than `older_than_s` (in one conversation,
    or in all); returns what was settled (an action whose lookup failed is left for the next
    sweep)."""
    sweep = _Sweep(store=store, identities=identities, helpdesk=helpdesk, notify=notify)
    settled: list[Settled] = []
    interrupted = await store.interrupted_pending_actions(
        older_than_s=older_than_s, conversation_id=conversation_id, now=now
    )
    for action in interrupted:
        try:
            outcome = await sweep.settle(action, tools.get(action.tool_name))
        except (HelpdeskError, TimeoutError) as exc:
            log.warning("Interrupted write %s stays unsettled for now: %s", action.id, exc)
            continue
        if outcome is not None:
            settled.append(outcome)
    return settled


@dataclass(frozen=True, slots=True)
class _Sweep:
    store: Store
    identities: UserDirectory
    helpdesk: HelpdeskClient
    notify: Notify

    async def settle(self, action: PendingAction, spec: ToolSpec[Any] | None) -> Settled | None:
        conversation = await self.store.get_conversation(action.conversation_id)
        if conversation is None or spec is None:  # nothing to look with, nobody to tell
            gone = {"status": "unknown", "error": "interrupted"}
            await self.store.complete_pending_action(action.id, status="failed", result=gone)
            return Settled(action.id, "failed")
        user = await self.identities.resolve(conversation.channel, action.user_key)
        if user is None:
            return None  # unlinked: ask again once they link
        context = ToolContext(
            helpdesk=self.helpdesk,
            auth=user.auth,
            profile=user.profile,
            capabilities=user.capabilities,
            chat_id=conversation.helpdesk_chat_id,
        )
        found = await confirmations.find_effect(action, spec=spec, context=context)
        if found is not None:
            outcome = confirmations.done(spec, found)
            status: Literal["done", "failed"] = "done" if outcome.ok else "failed"
            return await self._record(
                action, conversation, status, outcome.result, Message(text=outcome.text)
            )
        if spec.reconcile is None:
            unknown = {"status": "unknown", "tool": spec.name}
            text = prompts.reply("write_interrupted_unknown")
            return await self._record(action, conversation, "failed", unknown, Message(text=text))
        return await self._offer_retry(action, conversation, spec, context)

    async def _offer_retry(
        self,
        action: PendingAction,
        conversation: Conversation,
        spec: ToolSpec[Any],
        context: ToolContext,
    ) -> Settled | None:
        """It did not happen: the same write, proposed again (proposed once per action)."""
        confirm, model_result = await confirmations.propose(
            self.store,
            conversation_id=conversation.id,
            user_key=action.user_key,
            spec=spec,
            context=context,
            tool_call_id=f"retry-{action.id}",
            raw_arguments=json.dumps(action.arguments, sort_keys=True),
            notices=(prompts.reply("write_interrupted_retry"),),
        )
        not_done = {"status": "not_done", "tool": spec.name, "retry": model_result}
        if confirm is None:
            text = prompts.reply("button_cannot", error=model_result["error"])
            return await self._record(action, conversation, "failed", not_done, Message(text=text))
        settled = await self._record(action, conversation, "failed", not_done, confirm)
        if settled is None:
            return None
        return Settled(action.id, "failed", retry_action_id=confirm.pending_action_id)

    async def _record(
        self,
        action: PendingAction,
        conversation: Conversation,
        status: Literal["done", "failed"],
        result: Mapping[str, Any],
        reply: Reply,
    ) -> Settled | None:
        """Record the outcome (one replica wins), note it for the model, tell the user."""
        if not await self.store.complete_pending_action(
            action.id, status=status, result=dict(result)
        ):
            return None  # another sweep settled it first
        note = prompts.note("write_settled", tool=action.tool_name, result=result)
        await self.store.add_message(conversation.id, role="system", content=note)
        saved, _ = await persist_reply(self.store, conversation.id, reply)
        if not await self.notify(conversation.channel, conversation.conversation_key, saved):
            log.info("The outcome of interrupted write %s waits in the transcript", action.id)
        return Settled(action.id, status)
