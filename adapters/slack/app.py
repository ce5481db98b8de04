"""The Slack channel: a Bolt `AsyncApp` on `POST /slack/events` (or Socket Mode) that turns
DMs, @mentions and assistant threads into engine turns and sends the replies back.

Exactly once: every listener acknowledges at once, with no database or helpdesk work,
and hands the rest to `WorkAfterAck` (bounded concurrency, tasks owned by the server's
`TaskGroup`); the work first claims the event in the shared store
(`claim_event("slack", ...)`), by `event_id` and by the message's channel+ts (a mention in a
thread arrives twice, as `app_mention` and as `message`), and clicks by action id + message
ts. A retried delivery (`X-Slack-Retry-Num`), a double click or a second replica therefore
finds the claim taken and does nothing. Bolt verifies every HTTP request's signature
(never disabled) and drops the bot's own events; other bots, edits and deletions are
dropped by `slack_payloads`. https://docs.slack.dev/apis/events-api#retries
"""

from __future__ import annotations

import asyncio
import logging
import re
import uuid
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.middleware.assistant.async_assistant import AsyncAssistant
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.channel import ChannelServices, link_page_url
from adapters.slack.after_ack import WorkAfterAck
from adapters.slack.assistant import AssistantEventsOnly, AssistantThreads
from adapters.slack.commands import ConfirmedWrites, SlackCommands
from adapters.slack.delivery import SlackDelivery
from adapters.slack.home import SlackHome
from adapters.slack.modals import NEW_TICKET_CALLBACK, REJECT_CALLBACK
from adapters.slack.payloads import (
    CHANNEL,
    ButtonPress,
    Ignored,
    SlackAddress,
    UserMessage,
    parse_assistant_thread_started,
    parse_button_press,
    parse_mention_event,
    parse_message_event,
    split_user_key,
)
from adapters.slack.render import render_confirm_working, render_notice
from adapters.slack.replies import ReplySender, StatusSetter
from adapters.slack.send import TRANSPORT_ERRORS, open_dm, post_once
from adapters.tasks import TaskGroup
from bot import prompts
from bot.linking import Linked
from bot.messages import ActionInvoke, ErrorReply, Inbound, Reply
from bot.store.errors import StoreError

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
TURN_DEADLINE_S = 120.0  # the engine answers within its own 60 s; this bounds Slack calls too
CONFIRM_KINDS = ("confirm", "cancel", "comment_instead")


class SlackChannel:
    """The Bolt app, its listeners, and the turns they start."""

    def __init__(
        self, *, services: ChannelServices, tasks: TaskGroup, client: AsyncWebClient
    ) -> None:
        self.services = services
        self.tasks = tasks
        self.work = WorkAfterAck(tasks)  # everything after an ack, a bounded number at once
        self.client = client
        self.desk = services.desk
        secret = services.settings.slack_signing_secret
        signing_secret = secret.get_secret_value() if secret is not None else ""
        # HTTP is served only with a real secret (an empty key would sign anything);
        # Socket Mode requests come over the app's own authenticated WebSocket.
        self.verifies_requests = bool(signing_secret)
        self.bolt = AsyncApp(
            client=client,
            signing_secret=signing_secret,
            # Listeners only acknowledge and spawn, so Bolt answers when they return and
            # starts no tasks of its own.
            process_before_response=True,
            request_verification_enabled=True,
            raise_error_for_unhandled_request=False,
        )
        self.writes = ConfirmedWrites(services)
        self.assistant = AssistantThreads(services=services, client=client)
        self.delivery = SlackDelivery(client=client, desk=services.desk)
        self.home = SlackHome(services=services, client=client, tasks=tasks, writes=self.writes)
        self.commands = SlackCommands(
            services=services, client=client, tasks=tasks, writes=self.writes, turns=self
        )
        self._socket: Any = None  # AsyncSocketModeHandler (untyped methods)
        self._session: aiohttp.ClientSession | None = None
        self._register()

    # --- the channel seam (adapters.channel) ----------------------------------------------

    name = CHANNEL

    def mount(self, app: web.Application) -> None:
        """HTTP events when a signing secret is set, Socket Mode when an app token is set;
        the Web API client's session opens and closes with the app."""
        app[SLACK] = self
        if self.verifies_requests:
            app.router.add_post(EVENTS_PATH, self.handle_http)
        elif self.services.settings.slack_app_token is None:
            log.error("SLACK_SIGNING_SECRET is empty: not serving %s", EVENTS_PATH)
        app.on_startup.append(self.start)
        app.on_cleanup.append(self.stop)

    async def deliver(self, conversation_key: str, reply: Reply) -> bool:
        """The relay's sender: agent messages into the user's DM or thread."""
        return await self.delivery.deliver(conversation_key, reply)

    async def sign_in_url(self, inbound: Inbound, message_id: int) -> str | None:
        return link_page_url(self.services, inbound, message_id)

    def _register(self) -> None:
        assistant = AsyncAssistant()
        assistant.thread_started(self._on_assistant_thread_started)
        assistant.user_message(self._on_assistant_message)
        assistant.thread_context_changed(self._on_context_changed)
        self.bolt.use(AssistantEventsOnly(assistant))
        self.bolt.event("app_mention")(self._on_mention)
        self.bolt.event("message")(self._on_message)
        self.bolt.event("app_home_opened")(self._on_home_opened)
        self.bolt.command("/helpdesk")(self.commands.on_command)
        self.bolt.action(re.compile(".+"))(self._on_action)
        self.bolt.view(NEW_TICKET_CALLBACK)(self.commands.on_new_ticket_submitted)
        self.bolt.view(REJECT_CALLBACK)(self.home.on_reject_submitted)
        self.bolt.error(self._on_error)

    # --- lifecycle ------------------------------------------------------------------------

    async def start(self, _: web.Application) -> None:
        # One connection pool for the client and every per-request copy Bolt makes of it.
        self._session = aiohttp.ClientSession()
        self.client.session = self._session
        app_token = self.services.settings.slack_app_token
        if app_token is not None:
            self._socket = AsyncSocketModeHandler(
                self.bolt, app_token=app_token.get_secret_value(), web_client=self.client
            )
            await self._socket.connect_async()
            log.info("Slack Socket Mode connected")

    async def stop(self, _: web.Application) -> None:
        if self._socket is not None:
            await self._socket.close_async()
        if self._session is not None:
            await self._session.close()

    async def handle_http(self, request: web.Request) -> web.Response:
        """Bolt's aiohttp adapter: verify, dispatch, answer (the listeners only ack)."""
        async with self.work.acknowledging():  # acks first: no work starts meanwhile
            bolt_response = await self.bolt.async_dispatch(await to_bolt_request(request))
            return await to_aiohttp_response(bolt_response)

    def spawn(self, work: Any, *, name: str) -> None:
        """Work after the ack: queued for a slot, owned by the server (raises while shutting
        down, so Slack gets a 500 and redelivers to a replica that is up)."""
        self.work.spawn(work, name=name)

    async def claim(self, key: str) -> bool:
        return await self.desk.claim(CHANNEL, key)

    # --- listeners (acknowledge, spawn, return) --------------------------------------------

    async def _on_message(self, body: dict[str, Any], context: Any) -> None:
        parsed = parse_message_event(body, bot_user_id=context.bot_user_id, bot_id=context.bot_id)
        if isinstance(parsed, Ignored):
            log.debug("Slack message ignored: %s", parsed.reason)
            return
        self.spawn(self._user_message(parsed), name="slack-message")

    async def _on_mention(self, body: dict[str, Any], context: Any) -> None:
        parsed = parse_mention_event(body, bot_user_id=context.bot_user_id, bot_id=context.bot_id)
        if isinstance(parsed, Ignored):
            log.debug("Slack mention ignored: %s", parsed.reason)
            return
        self.spawn(self._user_message(parsed), name="slack-mention")

    async def _on_assistant_message(self, body: dict[str, Any], context: Any) -> None:
        await self._on_message(body, context)

    async def _on_assistant_thread_started(
        self, body: dict[str, Any], say: Any, set_suggested_prompts: Any
    ) -> None:
        started = parse_assistant_thread_started(body)
        if isinstance(started, Ignored):
            return
        self.spawn(
            self.assistant.greet(started, say=say, set_prompts=set_suggested_prompts),
            name="slack-assistant-greeting",
        )

    async def _on_context_changed(self) -> None:
        """The channel the user looks at changed; the engine does not use it (yet), and
        Bolt's default would spend a conversations.replies + chat.update on storing it."""

    async def _on_home_opened(self, body: dict[str, Any], event: dict[str, Any]) -> None:
        if event.get("tab") != "home":
            return
        team = str(body.get("team_id") or "")
        self.spawn(
            self.home.on_opened(
                team_id=team, user_id=str(event["user"]), event_id=body.get("event_id")
            ),
            name="slack-home",
        )

    async def _on_action(self, ack: Any, body: dict[str, Any]) -> None:
        await ack()
        press = parse_button_press(body)
        if isinstance(press, Ignored) or press.kind == "link":
            return  # a URL button: Slack opened the page, nothing to do here
        # Home and command buttons may open a modal, whose trigger_id lives 3 s: they do
        # not queue behind a burst of turns.
        if press.action_id.startswith("home:"):
            self.tasks.spawn(self.home.on_button(press), name="slack-home-action")
        elif press.action_id.startswith("cmd:"):
            self.tasks.spawn(self.commands.on_button(press), name="slack-command-action")
        else:
            self.spawn(self._button(press), name="slack-action")

    async def _on_error(self, error: Exception, body: dict[str, Any]) -> None:
        kind = body.get("type") if isinstance(body, dict) else None
        log.error("Slack listener failed on %s", kind, exc_info=error)

    # --- work after the ack ---------------------------------------------------------------

    async def _user_message(self, message: UserMessage) -> None:
        address = message.address
        conversation = await self.desk.find_conversation(CHANNEL, address.conversation_key)
        # A thread reply without a mention continues only a thread the bot is in, and only
        # for the person it talks with there (others in the thread talk to each other).
        if (
            address.kind == "channel"
            and not message.mentions_bot
            and (conversation is None or conversation.user_key != address.user_key)
        ):
            return
        if message.event_id and not await self.claim(f"event:{message.event_id}"):
            return
        if not await self.claim(message.dedupe_key):
            return
        if conversation is None:  # a new thread: is an agent already on this user's case?
            handoff = await self.desk.handoff_of_user(CHANNEL, address.user_key)
            held = SlackAddress.from_dict(handoff.address) if handoff else None
            if held is not None and held.conversation_key != address.conversation_key:
                await self._pass_to_agent(message, held)
                return
        stored = SlackAddress.from_dict(conversation.address) if conversation else None
        status: StatusSetter | None = None
        if address.kind == "dm" and stored is not None and stored.kind == "assistant":
            address = stored
            status = self.assistant.status(address)
            if conversation is not None and conversation.last_seq == 0:
                await self.assistant.set_title(address, message.text)
        inbound = Inbound(
            channel=CHANNEL,
            conversation_key=address.conversation_key,
            user_key=message.address.user_key,
            text=message.text,
            event_id=message.event_id or message.dedupe_key,
            address=address.to_dict(),
        )
        await self.run_turn(inbound, address, status=status)

    async def _pass_to_agent(self, message: UserMessage, held: SlackAddress) -> None:
        """One helpdesk chat belongs to one conversation: while an agent owns one of the
        user's threads, a new DM or mention goes to that thread (the agent reads it there,
        the model stays out), and the new thread gets a pointer to where the agent is."""
        inbound = Inbound(
            channel=CHANNEL,
            conversation_key=held.conversation_key,
            user_key=message.address.user_key,
            text=message.text,
            event_id=message.event_id or message.dedupe_key,
            address=held.to_dict(),
        )
        await self.run_turn(inbound, held)
        where = prompts.reply("slack_agent_thread")
        try:
            found = await self.client.chat_getPermalink(
                channel=held.channel, message_ts=held.thread_ts
            )
            where = f"<{found['permalink']}|{where}>"
        except (SlackApiError, *TRANSPORT_ERRORS, KeyError) as exc:
            log.info("No permalink for the agent's thread: %s", type(exc).__name__)
        text = prompts.reply("slack_passed_to_agent_thread", where=where)
        origin = message.address
        try:
            if origin.kind == "channel":
                await self._ephemeral(origin, origin.user_id, text)  # the channel needn't know
                return
            await post_once(
                self.client,
                channel=origin.channel,
                thread_ts=origin.thread_ts,
                rendered=render_notice(text),
                key=f"routed:{inbound.event_id}",
            )
        except (SlackApiError, *TRANSPORT_ERRORS) as exc:
            log.warning("Could not point the user to the agent's thread: %s", type(exc).__name__)

    async def run_turn(
        self,
        inbound: Inbound,
        address: SlackAddress,
        *,
        status: StatusSetter | None = None,
        card: tuple[str, Any] | None = None,
    ) -> None:
        """One engine turn, each reply sent into the conversation as it comes."""
        key = inbound.event_id or uuid.uuid4().hex
        replies = self.services.engine.handle(inbound)
        await self.send_replies(replies, address, key=key, status=status, card=card)

    async def send_replies(
        self,
        replies: AsyncIterator[Reply],
        address: SlackAddress,
        *,
        key: str,
        status: StatusSetter | None = None,
        card: tuple[str, Any] | None = None,
    ) -> None:
        """Send a turn's replies; the status is cleared and an open stream finished however
        the turn ends, and a failure is told to the user (the trace goes to the log)."""
        sender = ReplySender(self.client, address, key=key, status=status, card=card)
        try:
            async with asyncio.timeout(TURN_DEADLINE_S):
                async for reply in replies:
                    await sender.send(reply)
        except Exception:  # the user hears about it; the operator gets the trace
            log.exception("Slack turn failed")
            try:
                await sender.send(ErrorReply(text=prompts.reply("channel_sorry")))
            except (SlackApiError, *TRANSPORT_ERRORS) as exc:
                log.error("Could not tell the user the turn failed: %s", type(exc).__name__)
        finally:
            try:
                await sender.close()
            except (SlackApiError, *TRANSPORT_ERRORS) as exc:
                log.error("Could not finish the Slack reply: %s", type(exc).__name__)

    async def _button(self, press: ButtonPress) -> None:
        address = await self._address_of(press)
        if address is None:
            return
        owner = await self.desk.find_conversation(CHANNEL, address.conversation_key)
        if owner is not None and owner.user_key != f"{CHANNEL}:{press.team_id}:{press.user_id}":
            # Someone else's card in a shared thread: leave it (and its click, which the
            # dedupe key below does not tell apart by user) to its owner; tell only the
            # person who clicked.
            notice = prompts.reply("conversation_not_yours")
            await self._ephemeral(address, press.user_id, notice)
            return
        if not await self.claim(press.dedupe_key):
            return
        card = None
        if press.kind in CONFIRM_KINDS and press.message_ts is not None:
            # Buttons go at once: the card shows it is being done, nobody clicks again.
            working = render_confirm_working(press.message_blocks, user_id=press.user_id)
            await self.client.chat_update(
                channel=address.channel,
                ts=press.message_ts,
                text=working.text,
                blocks=working.blocks,
            )
            card = (press.message_ts, press.message_blocks)
        inbound = Inbound(
            channel=CHANNEL,
            conversation_key=address.conversation_key,
            user_key=f"{CHANNEL}:{press.team_id}:{press.user_id}",
            action=ActionInvoke(press.action_id, press.value),
            event_id=press.dedupe_key,
            address=address.to_dict(),
        )
        status = self.assistant.status(address) if address.kind == "assistant" else None
        await self.run_turn(inbound, address, status=status, card=card)
        if press.kind == "feedback":
            thanks = prompts.reply("button_rating_thanks")
            await self._ephemeral(address, press.user_id, thanks)

    async def _address_of(self, press: ButtonPress) -> SlackAddress | None:
        guess = press.address(kind="dm" if (press.channel or "").startswith("D") else "channel")
        if guess is None:
            return None
        conversation = await self.desk.find_conversation(CHANNEL, guess.conversation_key)
        stored = SlackAddress.from_dict(conversation.address) if conversation else None
        return stored or guess

    async def _ephemeral(self, address: SlackAddress, user_id: str, text: str) -> None:
        rendered = render_notice(text)
        try:
            await self.client.chat_postEphemeral(
                channel=address.channel,
                user=user_id,
                thread_ts=address.thread_ts,
                text=rendered.text,
                blocks=rendered.blocks,
            )
        except (SlackApiError, *TRANSPORT_ERRORS) as exc:
            log.info("chat.postEphemeral failed: %s", type(exc).__name__)

    # --- linking --------------------------------------------------------------------------

    async def on_linked(self, linked: Linked) -> None:
        """A Slack user finished linking: tell them, then answer the question that waited."""
        self.spawn(self._resume_after_link(linked), name="slack-linked")

    async def _resume_after_link(self, linked: Linked) -> None:
        claim = linked.claim
        if not await self.claim(f"linked:{claim.jti}"):
            return
        ids = split_user_key(claim.user_key)
        if ids is None:
            return
        team_id, user_id = ids
        note = prompts.reply("slack_linked_as", name=linked.helpdesk_name)
        conversation = None
        if claim.conversation_key is not None:
            conversation = await self.desk.find_conversation(CHANNEL, claim.conversation_key)
        address = SlackAddress.from_dict(conversation.address) if conversation else None
        try:
            await self._tell_linked(address, user_id, note, key=f"linked:{claim.jti}")
        except (SlackApiError, *TRANSPORT_ERRORS, StoreError) as exc:
            log.warning("Could not confirm the link in Slack: %s", type(exc).__name__)
        self.spawn(self.home.publish(team_id=team_id, user_id=user_id), name="slack-home")
        if address is None or claim.pending_message_id is None:
            return
        # The question that waited is answered once (the engine claims it), and not at all
        # if the user has written since.
        replies = self.services.engine.resume(
            channel=CHANNEL,
            conversation_key=address.conversation_key,
            message_id=claim.pending_message_id,
        )
        status = self.assistant.status(address) if address.kind == "assistant" else None
        await self.send_replies(replies, address, key=f"relink:{claim.jti}", status=status)

    async def _tell_linked(
        self, address: SlackAddress | None, user_id: str, text: str, *, key: str
    ) -> None:
        if address is not None and address.kind == "channel":
            await self._ephemeral(address, user_id, text)  # the channel needn't know
            return
        note = render_notice(text)
        if address is not None and address.kind in ("dm", "assistant"):
            await post_once(
                self.client,
                channel=address.channel,
                thread_ts=address.thread_ts,
                rendered=note,
                key=key,
            )
            return
        dm = await open_dm(self.client, user_id)
        await post_once(self.client, channel=dm, thread_ts=None, rendered=note, key=key)


SLACK = web.AppKey("slack", SlackChannel)

__all__ = ["EVENTS_PATH", "SLACK", "SlackChannel", "SlackDelivery"]
