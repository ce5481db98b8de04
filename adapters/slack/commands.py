"""The `/helpdesk` slash command, its new-ticket modal, and writes confirmed in a Slack form.

Reads (`tickets`, `ticket N`, `outages`) are answered deterministically from the helpdesk
with the user's own token, as cards through the command's `response_url` — fast, and no
model call for a question with one right answer. `help` is answered in the ack itself.

The new-ticket modal shows exactly what will be written, so pressing its Submit button is
the user's confirmation: the ticket is proposed through the engine's confirmation machinery
(`bot.confirmations.propose`: same validation, preview and pending action as a model-
proposed write) and then confirmed through `Engine.handle` (which executes it exactly once).
One exception: when the preview finds a similar open ticket, the confirm card is shown in
the user's DM instead, with "Comment on … instead" (a duplicate is worth a second look; an
outage notice is not a reason to ask twice, so it is only shown on the resulting card).
https://docs.slack.dev/interactivity/implementing-slash-commands
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any, Protocol

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.channel import ChannelServices
from adapters.slack.modals import TicketForm, new_ticket_modal, parse_ticket_form, view_values
from adapters.slack.payloads import (
    CHANNEL,
    ButtonPress,
    Command,
    SlackAddress,
    parse_command,
    user_key,
)
from adapters.slack.render import (
    Rendered,
    context,
    escape,
    render_confirm,
    render_help,
    render_link_required,
    render_notice,
    render_outages,
    render_tickets,
    ticket_detail,
    truncate,
)
from adapters.slack.replies import StatusSetter
from adapters.slack.send import TRANSPORT_ERRORS, open_dm, post_once, slack_error
from adapters.tasks import TaskGroup
from bot import prompts
from bot.helpdesk.errors import HelpdeskError, ReauthRequired
from bot.helpdesk.models import JobType
from bot.identity import HelpdeskUser
from bot.messages import ActionInvoke, ConfirmRequest, ErrorReply, Inbound, LinkRequired, Message
from bot.store.records import Conversation

log = logging.getLogger(__name__)

JOB_TYPES_TIMEOUT_S = 1.5  # a trigger_id is valid for 3 s: the modal must open before that
READ_TIMEOUT_S = 10.0


class Turns(Protocol):
    async def run_turn(
        self,
        inbound: Inbound,
        address: SlackAddress,
        *,
        status: StatusSetter | None = None,
        card: tuple[str, Any] | None = None,
    ) -> None: ...

    async def claim(self, key: str) -> bool: ...


class ConfirmedWrites:
    """Writes the user confirmed in a Slack form (modal submit, Approve on App Home).

    Both steps go through `Engine.handle`: a "propose" action names the write and its
    arguments, then the pending action's confirm action executes it, exactly once.
    """

    def __init__(self, services: ChannelServices) -> None:
        self._services = services

    async def propose(
        self,
        *,
        user: HelpdeskUser,
        conversation: Conversation,
        tool: str,
        arguments: dict[str, Any],
        call_id: str,
    ) -> ConfirmRequest | str:
        """The confirm-request for the write, or why it cannot be proposed (user text).

        Goes through the engine like any other user event (stored, locked, deduplicated by
        `call_id`), as a "propose" action naming the write and its arguments.
        """
        inbound = Inbound(
            channel=conversation.channel,
            conversation_key=conversation.conversation_key,
            user_key=conversation.user_key,
            action=ActionInvoke(f"propose:{tool}", json.dumps(arguments)),
            event_id=f"propose:{call_id}",  # the confirm that follows uses `call_id` itself
            address=conversation.address or {},
        )
        refusal = prompts.reply("channel_cannot_now")
        proposal: ConfirmRequest | None = None
        # Read the turn to its end: a stream left open keeps the conversation's turn lock.
        async for reply in self._services.engine.handle(inbound):
            if isinstance(reply, ConfirmRequest):
                proposal = proposal or reply
            elif isinstance(reply, (Message, ErrorReply, LinkRequired)):
                refusal = reply.text
        return proposal or refusal

    @staticmethod
    def confirm_inbound(
        confirm: ConfirmRequest, address: SlackAddress, *, event_id: str
    ) -> Inbound:
        """The engine input that executes a proposed write (as a Confirm click would)."""
        return Inbound(
            channel=CHANNEL,
            conversation_key=address.conversation_key,
            user_key=address.user_key,
            action=ActionInvoke(f"confirm:{confirm.pending_action_id}"),
            event_id=event_id,
            address=address.to_dict(),
        )


class SlackCommands:
    def __init__(
        self,
        *,
        services: ChannelServices,
        client: AsyncWebClient,
        tasks: TaskGroup,
        writes: ConfirmedWrites,
        turns: Turns,
    ) -> None:
        self._services = services
        self._client = client
        self._tasks = tasks
        self._writes = writes
        self._turns = turns

    # --- listeners ------------------------------------------------------------------------

    async def on_command(self, ack: Any, body: dict[str, Any], respond: Any) -> None:
        command = parse_command(str(body.get("text") or ""))
        if command.name == "help":
            help_text = render_help()
            await ack(response_type="ephemeral", text=help_text.text, blocks=help_text.blocks)
            return
        await ack()
        team, user = str(body.get("team_id") or ""), str(body.get("user_id") or "")
        if command.name == "new":
            work = self.open_new_ticket(team_id=team, user_id=user, trigger_id=body["trigger_id"])
        else:
            work = self._answer(command, team_id=team, user_id=user, respond=respond, body=body)
        self._tasks.spawn(work, name=f"slack-command-{command.name}")

    async def on_button(self, press: ButtonPress) -> None:
        if press.action_id == "cmd:new_ticket" and press.trigger_id:
            await self.open_new_ticket(
                team_id=press.team_id, user_id=press.user_id, trigger_id=press.trigger_id
            )

    async def on_new_ticket_submitted(self, ack: Any, body: dict[str, Any]) -> None:
        view = body.get("view") or {}
        form = parse_ticket_form(view_values(view))
        if isinstance(form, dict):
            # Slack shows these under the fields and keeps the modal open.
            await ack(response_action="errors", errors=form)
            return
        await ack()
        user = body.get("user") or {}
        self._tasks.spawn(
            self._create_from_form(
                form,
                team_id=str((body.get("team") or {}).get("id") or user.get("team_id") or ""),
                user_id=str(user.get("id") or ""),
                view_id=str(view.get("id") or ""),
            ),
            name="slack-new-ticket",
        )

    # --- reads ----------------------------------------------------------------------------

    async def _answer(
        self, command: Command, *, team_id: str, user_id: str, respond: Any, body: dict[str, Any]
    ) -> None:
        key = user_key(team_id, user_id)
        try:
            async with asyncio.timeout(READ_TIMEOUT_S):
                rendered = await self._read(command, key=key, body=body, team_id=team_id)
        except (HelpdeskError, TimeoutError) as exc:
            log.warning("/helpdesk %s failed: %s", command.name, type(exc).__name__)
            rendered = render_notice(prompts.reply("channel_helpdesk_unavailable"))
        await respond(
            response_type="ephemeral",
            replace_original=True,
            text=rendered.text,
            blocks=rendered.blocks,
        )

    async def _read(
        self, command: Command, *, key: str, body: dict[str, Any], team_id: str
    ) -> Rendered:
        services = self._services
        if command.name == "unlink":
            done = await services.identities.unlink(CHANNEL, key)
            return render_notice(
                prompts.reply("slack_unlinked") if done else prompts.reply("slack_was_not_linked")
            )
        try:
            user = await services.identities.resolve(CHANNEL, key)
        except ReauthRequired:
            user = None
        if command.name == "link" or user is None:
            if user is not None:
                return render_notice(prompts.reply("slack_already_linked", name=user.display_name))
            url = services.links.issue_url(channel=CHANNEL, user_key=key)
            text = prompts.reply("channel_link_to_act")
            return render_link_required(LinkRequired(url=url, text=text))
        desk = services.desk
        if command.name == "tickets":
            tickets = await desk.tickets(user, limit=50)
            current = [ticket for ticket in tickets if ticket.status != "closed"]
            return render_tickets(current, heading=prompts.reply("channel_your_tickets"))
        if command.name == "ticket":
            detail = await desk.ticket(user, int(command.argument))
            if detail is None:
                return render_notice(
                    prompts.reply("slack_ticket_not_found", number=command.argument)
                )
            heading = prompts.reply("channel_ticket_heading", number=detail.ticket_number)
            return Rendered(heading, ticket_detail(detail))
        if command.name == "outages":
            return render_outages(await desk.outages(user))
        if command.name == "human":
            return await self._talk_to_human(user, team_id=team_id, body=body)
        return render_help()

    async def _talk_to_human(
        self, user: HelpdeskUser, *, team_id: str, body: dict[str, Any]
    ) -> Rendered:
        """Start the handoff in a DM thread: the relay delivers the agent's replies there."""
        user_id = str(body.get("user_id") or "")
        trigger = str(body.get("trigger_id") or "")
        if not await self._turns.claim(f"command:{trigger}"):
            return render_notice(prompts.reply("slack_human_on_it"))
        dm = await open_dm(self._client, user_id)
        root = render_notice(prompts.reply("slack_human_asked"))
        ts = await post_once(self._client, channel=dm, thread_ts=None, rendered=root, key=trigger)
        if ts is None:
            return render_notice(prompts.reply("channel_helpdesk_unavailable"))
        address = SlackAddress(team_id, dm, ts, user_id, "dm")
        inbound = Inbound(
            channel=CHANNEL,
            conversation_key=address.conversation_key,
            user_key=address.user_key,
            action=ActionInvoke("talk_to_human"),
            event_id=f"command:{trigger}",
            address=address.to_dict(),
        )
        self._tasks.spawn(self._turns.run_turn(inbound, address), name="slack-human")
        return render_notice(prompts.reply("slack_human_started", where=f"<#{dm}>"))

    # --- new ticket -----------------------------------------------------------------------

    async def open_new_ticket(self, *, team_id: str, user_id: str, trigger_id: str) -> None:
        key = user_key(team_id, user_id)
        job_types: list[JobType] = []
        try:
            async with asyncio.timeout(JOB_TYPES_TIMEOUT_S):
                user = await self._services.identities.resolve(CHANNEL, key)
                if user is not None:
                    job_types = await self._services.desk.job_types(user)
        except (HelpdeskError, TimeoutError) as exc:
            log.info("Opening the ticket form without job types: %s", type(exc).__name__)
        try:
            await self._client.views_open(trigger_id=trigger_id, view=new_ticket_modal(job_types))
        except SlackApiError as exc:
            log.warning("views.open failed: %s", slack_error(exc))

    async def _create_from_form(
        self, form: TicketForm, *, team_id: str, user_id: str, view_id: str
    ) -> None:
        if not await self._turns.claim(f"view:{view_id}"):
            return
        services = self._services
        key = user_key(team_id, user_id)
        dm = await open_dm(self._client, user_id)
        subject = escape(truncate(form.subject, 200))
        root = Rendered(
            prompts.reply("slack_creating_ticket_fallback", subject=form.subject),
            [context("📝 " + prompts.reply("slack_creating_ticket", subject=subject))],
        )
        ts = await post_once(
            self._client, channel=dm, thread_ts=None, rendered=root, key=f"view:{view_id}"
        )
        if ts is None:
            return
        address = SlackAddress(team_id, dm, ts, user_id, "dm")
        try:
            user = await services.identities.resolve(CHANNEL, key)
        except ReauthRequired:
            user = None
        if user is None:
            url = services.links.issue_url(channel=CHANNEL, user_key=key)
            link = LinkRequired(url=url, text=prompts.reply("channel_link_first"))
            await self._update(address, render_link_required(link))
            return
        conversation = await services.desk.open_conversation(
            CHANNEL, address.conversation_key, user_key=key, address=address.to_dict()
        )
        try:
            proposal = await self._writes.propose(
                user=user,
                conversation=conversation,
                tool="create_ticket",
                arguments=form.arguments(),
                call_id=f"slack-view-{view_id}",
            )
        except (HelpdeskError, ReauthRequired) as exc:
            log.warning("Proposing the ticket failed: %s", type(exc).__name__)
            proposal = prompts.reply("channel_helpdesk_unavailable")
        if isinstance(proposal, str):
            await self._update(address, render_notice(proposal))
            return
        card = render_confirm(proposal)
        if any(action.kind == "comment_instead" for action in proposal.actions):
            await self._update(address, card)  # a similar open ticket: the user decides
            return
        inbound = ConfirmedWrites.confirm_inbound(proposal, address, event_id=f"view:{view_id}")
        await self._turns.run_turn(inbound, address, card=(ts, card.blocks))

    async def _update(self, address: SlackAddress, rendered: Rendered) -> None:
        try:
            await self._client.chat_update(
                channel=address.channel,
                ts=address.thread_ts,
                text=rendered.text,
                blocks=rendered.blocks,
            )
        except (SlackApiError, *TRANSPORT_ERRORS) as exc:
            log.warning("chat.update failed: %s", type(exc).__name__)
