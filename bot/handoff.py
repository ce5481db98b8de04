"""The handoff relay: agent messages from the Helpdesk chat back into the user's channel.

For every conversation a human owns or is queued for, exactly one replica (the holder of
the expiring lease `relay:<conversation id>`) polls `GET /chat/{id}/messages?since=` and
delivers what the agent wrote through the channel's proactive sender. Each relayed message
is first stored (deduplicated by the helpdesk message id) as `pending`, then delivered, then
marked `done`, and only then does the cursor move: a crash or restart resumes from the
cursor and delivers every agent message once — no gap, no duplicate.

The state machine lives in the store (`set_owner` compare-and-set): bot → queued (the
engine's transfer) → human (the first agent message or "joined") → bot (the chat ended).
While queued or human the engine makes no model call. Back with the bot, the model gets a
marker that the human stretch ended, and the user is asked for a 1-5 rating.

Polling: every 1 s while a handoff is live and the user was active in the last 5 minutes,
10 s after that; conversations the bot owns are never polled.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot import metrics, prompts
from bot.helpdesk.client import HelpdeskClient
from bot.helpdesk.errors import HelpdeskError, ReauthRequired
from bot.helpdesk.models import ChatMessage
from bot.identity import IdentityService
from bot.logcontext import start_turn
from bot.messages import Action, AgentMessage, HandoffStatus, Message, Reply
from bot.replay import persist_reply
from bot.store.records import Conversation
from bot.store.store import Store

log = logging.getLogger(__name__)

# A channel's proactive sender: (conversation_key, reply) -> delivered (or durably queued).
Deliver = Callable[[str, Reply], Awaitable[bool]]

ENDED_MARKER = prompts.note("handoff_ended")


@dataclass(frozen=True)
class RelayConfig:
    lease_ttl_s: float = 10.0
    active_poll_s: float = 1.0
    idle_poll_s: float = 10.0
    idle_after_s: float = 300.0
    scan_every_s: float = 1.0
    offer_ticket_after_s: float = 300.0  # queued with nobody joining: offer a ticket


def rating_actions(chat_id: int) -> tuple[Action, ...]:
    return tuple(
        Action(id=f"rating:{chat_id}", kind="rating", label=str(score), value=str(score))
        for score in range(1, 6)
    )


class HandoffRelay:
    def __init__(
        self,
        *,
        store: Store,
        helpdesk: HelpdeskClient,
        identities: IdentityService,
        holder: str,
        config: RelayConfig = RelayConfig(),
    ) -> None:
        self._store = store
        self._helpdesk = helpdesk
        self._identities = identities
        self._holder = holder
        self._config = config
        self._senders: dict[str, Deliver] = {}
        self._running: dict[int, asyncio.Task[None]] = {}
        self._stopping = asyncio.Event()

    def register_sender(self, channel: str, deliver: Deliver) -> None:
        self._senders[channel] = deliver

    async def send(self, channel: str, conversation_key: str, reply: Reply) -> bool:
        """Deliver a stored reply through the channel's proactive sender (e.g. the outcome
        of an interrupted write); False when the channel has none or delivery failed."""
        deliver = self._senders.get(channel)
        if deliver is None:
            return False
        try:
            return await deliver(conversation_key, reply)
        except Exception:  # a channel's failure is logged here, never the caller's problem
            log.exception("Proactive delivery to a %s conversation failed", channel)
            return False

    async def run(self) -> None:
        """Scan for conversations in handoff and relay each one this replica can lease,
        until `stop()`; relays finish their current poll and release their leases."""
        try:
            while not self._stopping.is_set():
                await self.scan_once()
                await self._pause(self._config.scan_every_s)
            await asyncio.gather(*self._running.values(), return_exceptions=True)
        finally:
            for task in self._running.values():
                task.cancel()
            await asyncio.gather(*self._running.values(), return_exceptions=True)

    def stop(self) -> None:
        """Ask `run` and every relay to finish at their next pause (not mid-request)."""
        self._stopping.set()

    @property
    def relaying(self) -> frozenset[int]:
        """The conversations this replica relays now (it holds their leases)."""
        return frozenset(self._running)

    async def aclose(self) -> None:
        """Stop every relay at its next pause and wait until each has ended."""
        self.stop()
        await asyncio.gather(*self._running.values(), return_exceptions=True)

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)

    async def scan_once(self) -> None:
        in_handoff = await self._store.conversations_in_handoff()
        for owner in ("queued", "human"):
            count = sum(1 for c in in_handoff if c.owner == owner)
            metrics.current().in_handoff.labels(owner=owner).set(count)
        for conversation in in_handoff:
            if conversation.id in self._running or conversation.helpdesk_chat_id is None:
                continue
            lease = _lease_name(conversation.id)
            if await self._store.acquire_lease(lease, self._holder, ttl_s=self._config.lease_ttl_s):
                task = asyncio.create_task(self._relay(conversation.id), name=lease)
                self._running[conversation.id] = task
                task.add_done_callback(self._forget)

    def _forget(self, task: asyncio.Task[None]) -> None:
        for conversation_id, running in list(self._running.items()):
            if running is task:
                del self._running[conversation_id]

    async def _relay(self, conversation_id: int) -> None:
        lease = _lease_name(conversation_id)
        try:
            while not self._stopping.is_set():
                conversation = await self._store.get_conversation(conversation_id)
                if conversation is None or not conversation.in_handoff:
                    return
                if not await self._store.renew_lease(
                    lease, self._holder, ttl_s=self._config.lease_ttl_s
                ):
                    log.info("Lost the relay lease of conversation %s", conversation_id)
                    return
                if not await self.relay_once(conversation):
                    return
                await self._pause(self._poll_interval(conversation))
        except Exception:
            log.exception(
                "Relay of conversation %s failed; it will be picked up again", conversation_id
            )
        finally:
            await self._store.release_lease(lease, self._holder)

    async def relay_once(self, conversation: Conversation) -> bool:
        """Deliver new agent messages; False once the conversation is back with the bot."""
        start_turn(channel=conversation.channel, conversation=conversation.id)
        chat_id = conversation.helpdesk_chat_id
        deliver = self._senders.get(conversation.channel)
        if chat_id is None or deliver is None:
            return False
        user = await self._identities.resolve(conversation.channel, conversation.user_key)
        if user is None:
            return False
        try:
            page = await self._helpdesk.chat_messages(
                user.auth, chat_id, since=conversation.relay_cursor, per_page=100
            )
        except ReauthRequired:
            log.warning("Relay of conversation %s needs the user to relink", conversation.id)
            return False
        except HelpdeskError as exc:
            log.info("Relay poll failed for conversation %s: %s", conversation.id, exc)
            return True
        for message in sorted(page.messages, key=lambda m: (m.created_at, m.message_id)):
            if message.message_id <= (conversation.relay_last_message_id or 0):
                continue
            delivered = await self._relay_message(conversation, message, deliver)
            if not delivered:
                return True  # try again next poll, from the same cursor
            await self._store.advance_relay_cursor(
                conversation.id,
                chat_id=chat_id,
                cursor=message.created_at,
                last_message_id=message.message_id,
            )
        if page.status == "ended":
            await self._back_to_bot(conversation, chat_id, deliver)
            return False
        if conversation.owner == "queued":
            await self._maybe_offer_ticket(conversation, chat_id, deliver)
        return True

    async def _relay_message(
        self, conversation: Conversation, message: ChatMessage, deliver: Deliver
    ) -> bool:
        if message.sender_type == "agent":
            name = message.sender_name or "An agent"
            if conversation.owner == "queued":
                await self._joined(conversation, name, deliver)
            reply = AgentMessage(agent_name=name, text=message.message)
        elif message.sender_type == "system" and "joined" in message.message.lower():
            name = message.message.split(" joined")[0].strip() or "An agent"
            await self._joined(conversation, name, deliver)
            return True
        else:
            return True  # the user's own (mirrored) messages and the helpdesk AI's: not relayed
        reply, stored = await persist_reply(
            self._store,
            conversation.id,
            reply,
            status="pending",
            event_id=f"helpdesk:{message.message_id}",
        )
        if stored.status == "done":
            return True  # delivered before a restart; the cursor just had not moved yet
        if not await deliver(conversation.conversation_key, reply):
            return False
        await self._store.set_message_status(stored.id, "done")
        lag = metrics.current().relay_lag.labels(channel=conversation.channel)
        lag.observe(_age_s(message.created_at))
        return True

    async def _joined(self, conversation: Conversation, name: str, deliver: Deliver) -> None:
        if await self._store.set_owner(
            conversation.id, expected="queued", new="human", agent_name=name
        ):
            text = prompts.reply("handoff_joined", name=name)
            joined = HandoffStatus(state="joined", text=text, agent_name=name)
            metrics.current().handoffs.labels(state="joined").inc()
            await self._tell(conversation, joined, deliver)

    async def _back_to_bot(
        self, conversation: Conversation, chat_id: int, deliver: Deliver
    ) -> None:
        current = await self._store.get_conversation(conversation.id)
        if current is None or not current.in_handoff:
            return
        if not await self._store.set_owner(conversation.id, expected=current.owner, new="bot"):
            return
        await self._store.set_helpdesk_chat(conversation.id, None)  # a new chat next time
        metrics.current().handoffs.labels(state="ended").inc()
        await self._store.add_message(conversation.id, role="system", content=ENDED_MARKER)
        text = prompts.reply("handoff_ended")
        await self._tell(conversation, HandoffStatus(state="ended", text=text), deliver)
        rate = Message(
            text=prompts.reply("handoff_rate"),
            actions=rating_actions(chat_id),
            notice=True,
        )
        await self._tell(conversation, rate, deliver)

    async def _maybe_offer_ticket(
        self, conversation: Conversation, chat_id: int, deliver: Deliver
    ) -> None:
        waited = datetime.now(UTC) - conversation.owner_changed_at
        if waited < timedelta(seconds=self._config.offer_ticket_after_s):
            return
        if not await self._store.claim_event("handoff-offer", f"{conversation.id}:{chat_id}"):
            return
        offer = Message(
            text=prompts.reply("handoff_offer_ticket"),
            actions=(
                Action(
                    id="create_ticket",
                    kind="create_ticket",
                    label=prompts.reply("label_create_ticket"),
                ),
                Action(
                    id="cancel_handoff",
                    kind="cancel_handoff",
                    label=prompts.reply("label_stop_waiting"),
                ),
            ),
            notice=True,
        )
        await self._tell(conversation, offer, deliver)

    async def _tell(self, conversation: Conversation, reply: Reply, deliver: Deliver) -> None:
        """A notice the relay itself writes: stored first (replay), then delivered."""
        saved, _ = await persist_reply(self._store, conversation.id, reply)
        await deliver(conversation.conversation_key, saved)

    def _poll_interval(self, conversation: Conversation) -> float:
        idle = (datetime.now(UTC) - conversation.last_activity_at).total_seconds()
        if idle > self._config.idle_after_s:
            return self._config.idle_poll_s
        return self._config.active_poll_s


def _age_s(created_at: datetime) -> float:
    """Seconds since the helpdesk wrote a message (a naive time is UTC; never negative)."""
    if created_at.tzinfo is None:
        created_at = created_at.replace(tzinfo=UTC)
    return max((datetime.now(UTC) - created_at).total_seconds(), 0.0)


def _lease_name(conversation_id: int) -> str:
    return f"relay:{conversation_id}"
