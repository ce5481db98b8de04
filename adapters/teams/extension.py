"""Writes a Teams user starts from a form: the "Create a helpdesk ticket" message action and
a manager's Approve / Reject on the approvals card.

The message action (a message-extension action command, `composeExtension/fetchTask`)
opens a task module prefilled with the message's text and the helpdesk's job types; its
submit (`composeExtension/submitAction`) proposes the ticket through the engine (a
`propose:create_ticket` action: same validation, preview and pending action as a write
the model proposes) and shows the confirm card in the user's personal chat, so filing it
goes through the same Confirm / exactly-once path as every other write.
https://learn.microsoft.com/microsoftteams/platform/messaging-extensions/how-to/action-commands/define-action-command

Approve, and Reject with the reason typed in the card, are the manager's explicit
confirmation: the decision is proposed and confirmed through the engine (as Slack's App
Home does), once per ticket and card however often it is pressed.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from adapters.channel import ChannelServices
from adapters.teams.activities import (
    CHANNEL,
    CardAction,
    ExtensionFetch,
    ExtensionSubmit,
    TeamsAddress,
)
from adapters.teams.cards import (
    adaptive_card,
    open_url,
    render_approvals,
    render_confirm,
    render_link_required,
    render_notice,
    text_block,
)
from adapters.teams.forms import parse_ticket_form, render_ticket_form, task_continue, task_message
from adapters.teams.send import Connector, TeamsSendError
from adapters.teams.turns import TeamsTurns
from bot import prompts
from bot.helpdesk.errors import HelpdeskError, ReauthRequired
from bot.helpdesk.models import JobType
from bot.identity import HelpdeskUser
from bot.messages import ActionInvoke, ConfirmRequest, ErrorReply, Inbound, LinkRequired, Message

log = logging.getLogger(__name__)

JOB_TYPES_TIMEOUT_S = 3.0  # the task module must open well within Teams' invoke timeout
READ_TIMEOUT_S = 10.0


class TeamsExtension:
    def __init__(self, *, services: ChannelServices, turns: TeamsTurns) -> None:
        self._services = services
        self._turns = turns

    async def _user(self, address: TeamsAddress) -> HelpdeskUser | None:
        try:
            return await self._services.identities.resolve(CHANNEL, address.user_key)
        except ReauthRequired:
            return None

    def _link_url(self, address: TeamsAddress) -> str:
        return self._services.links.issue_url(
            channel=CHANNEL, user_key=address.user_key, display_name=address.user_name
        )

    # --- the message action ---------------------------------------------------------------

    async def fetch_task(self, fetch: ExtensionFetch) -> dict[str, Any]:
        """The task module to open: the ticket form, or a sign-in card for the unlinked."""
        job_types: list[JobType] = []
        try:
            async with asyncio.timeout(JOB_TYPES_TIMEOUT_S):
                user = await self._user(fetch.address)
                if user is not None:
                    job_types = await self._services.desk.job_types(user)
        except (HelpdeskError, TimeoutError) as exc:
            log.info("Opening the ticket form without job types: %s", type(exc).__name__)
            user = None if isinstance(exc, HelpdeskError) else user
        if user is None:
            card = adaptive_card(
                [text_block(prompts.reply("channel_link_first"))],
                [open_url(prompts.reply("label_link_account"), self._link_url(fetch.address))],
            )
            return task_continue(card, title=prompts.reply("teams_form_title"))
        form = render_ticket_form(fetch.message_text, job_types)
        return task_continue(form, title=prompts.reply("teams_form_title"))

    async def accept_submit(self, submit: ExtensionSubmit) -> dict[str, Any] | None:
        """None when the form can be proposed; else the invoke's answer saying why not."""
        form = parse_ticket_form(submit.data)
        if form.errors:
            return task_message(" ".join(form.errors.values()))
        return None

    async def submit(self, submit: ExtensionSubmit) -> None:
        """Propose the ticket and show its confirm card in the user's personal chat."""
        if not await self._turns.claim(
            f"form:{submit.address.conversation_id}:{submit.activity_id}"
        ):
            return
        form = parse_ticket_form(submit.data)

        async def work(connector: Connector) -> None:
            personal = connector.elsewhere(await connector.personal_address())
            user = await self._user(personal.address)
            if user is None:
                link = LinkRequired(
                    url=self._link_url(personal.address),
                    text=prompts.reply("channel_link_first"),
                )
                await personal.post(render_link_required(link), reply=False)
                return
            proposal = await self.propose(
                personal.address,
                tool="create_ticket",
                arguments=form.arguments(),
                call_id=f"teams-form-{submit.activity_id}",
            )
            outgoing = render_confirm(proposal) if isinstance(proposal, ConfirmRequest) else None
            await personal.post(outgoing or render_notice(str(proposal)), reply=False)

        try:
            await self._turns.connect(submit.address, work)
        except TeamsSendError as exc:
            log.warning("Could not show the ticket to confirm: %s", exc.status)

    async def propose(
        self, address: TeamsAddress, *, tool: str, arguments: dict[str, Any], call_id: str
    ) -> ConfirmRequest | str:
        """The confirm-request for a named write, or why it cannot be proposed (user text)."""
        inbound = Inbound(
            channel=CHANNEL,
            conversation_key=address.conversation_key,
            user_key=address.user_key,
            action=ActionInvoke(f"propose:{tool}", json.dumps(arguments)),
            event_id=f"propose:{call_id}",
            display_name=address.user_name,
            address=address.to_dict(),
        )
        refusal = prompts.reply("channel_cannot_now")
        proposal: ConfirmRequest | None = None
        try:  # read the turn to its end: a stream left open keeps the turn lock
            async for reply in self._services.engine.handle(inbound):
                if isinstance(reply, ConfirmRequest):
                    proposal = proposal or reply
                elif isinstance(reply, (Message, ErrorReply, LinkRequired)):
                    refusal = reply.text
        except (HelpdeskError, ReauthRequired) as exc:
            log.warning("Proposing %s failed: %s", tool, type(exc).__name__)
            return prompts.reply("channel_helpdesk_unavailable")
        return proposal or refusal

    # --- approvals ------------------------------------------------------------------------

    async def show_approvals(self, address: TeamsAddress, connector: Connector) -> None:
        user = await self._user(address)
        if user is None or not user.profile.permissions.ismgr:
            await connector.post(render_notice(prompts.reply("teams_only_managers_approve")))
            return
        try:
            async with asyncio.timeout(READ_TIMEOUT_S):
                tickets = await self._services.desk.approvals(user, limit=10)
        except (HelpdeskError, TimeoutError) as exc:
            log.warning("Teams approvals failed: %s", type(exc).__name__)
            await connector.post(render_notice(prompts.reply("channel_helpdesk_unavailable")))
            return
        await connector.post(render_approvals(tickets))

    async def decide(self, press: CardAction) -> None:
        """Approve or reject one ticket from the approvals card, through the engine."""
        kind, _, number = press.action_id.partition(":")
        if not number.isdigit():
            return
        reason = press.reason
        address = press.address

        async def work(connector: Connector) -> None:
            if kind == "reject" and not reason:
                await connector.post(
                    render_notice(prompts.reply("approval_reason_needed", number=number))
                )
                return
            arguments: dict[str, Any] = {"ticket_number": int(number)}
            if kind == "reject":
                arguments["reason"] = reason
            call_id = f"teams-{kind}-{number}-{press.card_id}"
            proposal = await self.propose(
                address, tool=f"{kind}_ticket", arguments=arguments, call_id=call_id
            )
            outcome = (
                proposal
                if isinstance(proposal, str)
                else await self._confirm(address, proposal, call_id)
            )
            await connector.post(render_notice(outcome))

        await self._turns.connect(address, work)

    async def _confirm(self, address: TeamsAddress, proposal: ConfirmRequest, call_id: str) -> str:
        inbound = Inbound(
            channel=CHANNEL,
            conversation_key=address.conversation_key,
            user_key=address.user_key,
            action=ActionInvoke(f"confirm:{proposal.pending_action_id}"),
            event_id=call_id,
            address=address.to_dict(),
        )
        outcome = prompts.reply("channel_try_again")
        async for reply in self._services.engine.handle(inbound):
            if isinstance(reply, (Message, ErrorReply)):
                outcome = reply.text
        return outcome
