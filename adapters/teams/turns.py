"""The Teams channel's work after the ack: messages, card presses, welcomes, after-link resume.

Each piece of work first claims its activity in the shared store (`desk.claim("teams",
...)`): by activity id for messages (Teams redelivers an activity it did not see answered
within 15 s), by the pressed card for buttons (a double click or a retried submit acts
once). It then opens a connector for the conversation (`send.connect`, through
`continue_conversation` with the conversation reference) and sends what the engine says.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TypeVar

from botbuilder.integration.aiohttp import CloudAdapter

from adapters.channel import ChannelServices
from adapters.teams.activities import CHANNEL, CardAction, MembersAdded, TeamsAddress, UserMessage
from adapters.teams.cards import (
    Outgoing,
    render_confirm_working,
    render_feedback_outcome,
    render_help,
    render_link_required,
    render_notice,
    render_outages,
    render_tickets,
    render_welcome,
)
from adapters.teams.replies import PressedCard, ReplySender
from adapters.teams.send import Connector, TeamsSendError, connect
from bot import prompts
from bot.helpdesk.errors import HelpdeskError, ReauthRequired
from bot.linking import Linked
from bot.messages import ActionInvoke, ErrorReply, Inbound, LinkRequired, Reply

log = logging.getLogger(__name__)

T = TypeVar("T")

TURN_DEADLINE_S = 120.0  # the engine answers within its own 60 s; this bounds Teams calls too
READ_TIMEOUT_S = 10.0
UPN_TIMEOUT_S = 3.0
CONFIRM_KINDS = ("confirm", "cancel", "comment_instead")
COMMANDS = ("help", "tickets", "outages", "approvals")


class TeamsTurns:
    def __init__(
        self, *, services: ChannelServices, adapter: CloudAdapter, app_id: str | None
    ) -> None:
        self.services = services
        self.desk = services.desk
        self.adapter = adapter
        self.app_id = app_id
        self.approvals: Callable[[TeamsAddress, Connector], Awaitable[None]] | None = None
        self.decide: Callable[[CardAction], Awaitable[None]] | None = None

    async def claim(self, key: str) -> bool:
        return await self.desk.claim(CHANNEL, key)

    async def connect(self, address: TeamsAddress, work: Callable[[Connector], Awaitable[T]]) -> T:
        return await connect(self.adapter, address, app_id=self.app_id, work=work)

    # --- messages -------------------------------------------------------------------------

    async def user_message(self, message: UserMessage) -> None:
        if not await self.claim(message.dedupe_key):
            return  # a redelivery, or another replica has it
        address = message.address
        command = message.text.strip().lower().rstrip(".!?")
        if command in COMMANDS and address.kind == "personal":
            await self.connect(address, lambda connector: self._command(command, connector))
            return

        async def work(connector: Connector) -> None:
            await connector.typing()  # at once, before the engine's first step
            upn = await self._upn(message.address, connector)
            inbound = Inbound(
                channel=CHANNEL,
                conversation_key=address.conversation_key,
                user_key=address.user_key,
                text=message.text,
                event_id=message.dedupe_key,
                display_name=address.user_name,
                address=address.with_upn(upn).to_dict(),
            )
            await self.send_replies(connector, self.services.engine.handle(inbound), typed=True)

        await self.connect(address, work)

    async def _upn(self, address: TeamsAddress, connector: Connector) -> str | None:
        """The user's UPN, asked of Teams once per conversation and kept in its address."""
        stored = await self.desk.find_conversation(CHANNEL, address.conversation_key)
        known = TeamsAddress.from_dict(stored.address) if stored is not None else None
        if known is not None and known.upn:
            return known.upn
        try:
            async with asyncio.timeout(UPN_TIMEOUT_S):
                upn = await connector.member_upn()
        except (TeamsSendError, TimeoutError) as exc:
            log.info("Teams member lookup failed: %s", type(exc).__name__)
            return None
        # Learnt just now: kept with the user's link too (if linked; else at link time).
        await self.services.identities.note_channel_login(CHANNEL, address.user_key, upn)
        return upn

    async def send_replies(
        self,
        connector: Connector,
        replies: AsyncIterator[Reply],
        *,
        card: PressedCard | None = None,
        typed: bool = False,
    ) -> ReplySender:
        """Send a turn's replies; an open stream is finished and a pressed card settled
        however the turn ends, and a failure is told to the user (the trace to the log)."""
        sender = ReplySender(connector, card=card)
        if typed:
            sender.typed_just_now()
        try:
            async with asyncio.timeout(TURN_DEADLINE_S):
                async for reply in replies:
                    await sender.send(reply)
        except Exception:  # the user hears about it; the operator gets the trace
            log.exception("Teams turn failed")
            try:
                await sender.send(ErrorReply(text=prompts.reply("channel_sorry")))
            except TeamsSendError as exc:
                log.error("Could not tell the user the turn failed: %s", exc.status)
        finally:
            # The engine's generator is closed here, in this task, not by the GC later.
            close = getattr(replies, "aclose", None)
            if close is not None:
                await close()
            try:
                await sender.close()
            except TeamsSendError as exc:
                log.error("Could not finish the Teams reply: %s", exc.status)
        return sender

    async def _command(self, command: str, connector: Connector) -> None:
        """help, tickets, outages, approvals: answered from the helpdesk, no model call."""
        if command == "help":
            await connector.post(render_help())
            return
        address = connector.address
        try:
            user = await self.services.identities.resolve(CHANNEL, address.user_key)
        except ReauthRequired:
            user = None
        if user is None:
            url = self.services.links.issue_url(
                channel=CHANNEL,
                user_key=address.user_key,
                conversation_key=address.conversation_key,
                display_name=address.user_name,
            )
            text = prompts.reply("channel_link_to_act")
            await connector.post(render_link_required(LinkRequired(url=url, text=text)))
            return
        if command == "approvals" and self.approvals is not None:
            await self.approvals(address, connector)
            return
        try:
            async with asyncio.timeout(READ_TIMEOUT_S):
                if command == "tickets":
                    tickets = await self.desk.tickets(user, limit=50)
                    outgoing = render_tickets([t for t in tickets if t.status != "closed"])
                else:
                    outgoing = render_outages(await self.desk.outages(user))
        except (HelpdeskError, TimeoutError) as exc:
            log.warning("Teams %s failed: %s", command, type(exc).__name__)
            outgoing = render_notice(prompts.reply("channel_helpdesk_unavailable"))
        await connector.post(outgoing)

    # --- card presses ---------------------------------------------------------------------

    async def card_action(self, press: CardAction, *, claimed: bool = False) -> None:
        """A button on one of our cards. An invoke (Action.Execute) was claimed and the card
        set to "working" in the invoke's answer already."""
        if not claimed and await self.pressed_by_someone_else(press):
            # Someone else's card in a group chat: the card and its claim stay its owner's;
            # the engine tells the presser to ask in their own chat.
            await self.connect(press.address, lambda c: self._turn_away(c, press))
            return
        if press.needs_reason and self.decide is not None:
            await self.decide(press)  # asks for the reason; the claim stays free
            return
        if not claimed and not await self.claim(press.dedupe_key):
            return
        if press.kind in ("approve", "reject"):
            if self.decide is not None:
                await self.decide(press)
            return
        address = press.address
        inbound = Inbound(
            channel=CHANNEL,
            conversation_key=address.conversation_key,
            user_key=address.user_key,
            action=ActionInvoke(press.action_id, press.value),
            event_id=press.dedupe_key,
            display_name=address.user_name,
            address=address.to_dict(),
        )

        async def work(connector: Connector) -> None:
            card = None
            if press.kind in CONFIRM_KINDS and press.card_id is not None:
                card = PressedCard(press.card_id, press.data)
                if not press.invoke:
                    working = render_confirm_working(press.data)
                    await connector.update(press.card_id, Outgoing(cards=[working]))
            await self.send_replies(connector, self.services.engine.handle(inbound), card=card)
            if press.kind == "feedback" and press.card_id is not None:
                await self._thank_for_feedback(connector, press)

        await self.connect(address, work)

    async def pressed_by_someone_else(self, press: CardAction) -> bool:
        """A press on a card of a conversation another person started (a group chat)."""
        address = press.address
        conversation = await self.desk.find_conversation(CHANNEL, address.conversation_key)
        return conversation is not None and conversation.user_key != address.user_key

    async def _turn_away(self, connector: Connector, press: CardAction) -> None:
        address = press.address
        inbound = Inbound(
            channel=CHANNEL,
            conversation_key=address.conversation_key,
            user_key=address.user_key,
            action=ActionInvoke(press.action_id, press.value),
            address=address.to_dict(),
        )
        await self.send_replies(connector, self.services.engine.handle(inbound))

    async def _thank_for_feedback(self, connector: Connector, press: CardAction) -> None:
        """The rated answer keeps its text and loses its buttons."""
        _, _, message_id = press.action_id.partition(":")
        stored = await self.desk.get_message(int(message_id)) if message_id.isdigit() else None
        if stored is None or press.card_id is None:
            return
        sources = press.data.get("src") or []
        outcome = render_feedback_outcome(stored.content, sources, press.value)
        try:
            await connector.update(press.card_id, outcome)
        except TeamsSendError as exc:
            log.info("Could not update the rated answer: %s", exc.status)

    # --- welcome and linking ---------------------------------------------------------------

    async def welcome(self, added: MembersAdded) -> None:
        address = added.address
        if not await self.claim(f"welcome:{address.conversation_id}:{added.activity_id}"):
            return
        # Stored now, so the relay and notifications can reach this chat before anyone writes.
        await self.desk.open_conversation(
            CHANNEL, address.conversation_key, user_key=address.user_key, address=address.to_dict()
        )
        welcome = render_welcome(self.services.tenant_name, personal=address.kind == "personal")
        await self.connect(address.replying_to(None), lambda c: c.post(welcome, reply=False))

    async def after_link(self, linked: Linked) -> None:
        """Tell the user they are linked, then answer the question that waited."""
        claim = linked.claim
        if not await self.claim(f"linked:{claim.jti}") or claim.conversation_key is None:
            return
        conversation = await self.desk.find_conversation(CHANNEL, claim.conversation_key)
        address = TeamsAddress.from_dict(conversation.address) if conversation else None
        if address is None:
            log.info("A Teams user linked, but their conversation has no address")
            return
        # The AAD object id is the link's key; the UPN is kept beside it.
        await self.services.identities.note_channel_login(CHANNEL, address.user_key, address.upn)

        async def work(connector: Connector) -> None:
            note = render_notice(prompts.reply("teams_linked_as", name=linked.helpdesk_name))
            try:
                await connector.post(note)
            except TeamsSendError as exc:
                log.warning("Could not confirm the link in Teams: %s", exc.status)
            if claim.pending_message_id is None:
                return
            # The question that waited is answered once (the engine claims it), and not
            # at all if the user has written since.
            replies = self.services.engine.resume(
                channel=CHANNEL,
                conversation_key=address.conversation_key,
                message_id=claim.pending_message_id,
            )
            await self.send_replies(connector, replies)

        await self.connect(address, work)
