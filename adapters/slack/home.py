"""App Home: the user's open tickets, active outages, link status and, for managers, the
tickets waiting for their approval with Approve / Reject (Reject asks for the reason).

Published with views.publish when the user opens the Home tab, after linking, and after an
approval decision (https://docs.slack.dev/surfaces/app-home). Approve and a submitted reason
are the manager's explicit confirmation: the write is proposed and executed through the
engine's confirmation machinery (`ConfirmedWrites`), exactly once however often it is
clicked.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.channel import ChannelServices
from adapters.slack.commands import ConfirmedWrites
from adapters.slack.modals import reject_modal, view_values
from adapters.slack.payloads import CHANNEL, ButtonPress, SlackAddress, user_key
from adapters.slack.render import (
    Block,
    active,
    context,
    escape,
    mrkdwn_section,
    outage_notice,
    ticket_card,
    truncate,
)
from adapters.slack.send import TRANSPORT_ERRORS, slack_error
from adapters.tasks import TaskGroup
from bot import prompts
from bot.helpdesk.errors import HelpdeskError, ReauthRequired
from bot.helpdesk.models import Outage, Ticket
from bot.identity import HelpdeskUser
from bot.messages import Message

log = logging.getLogger(__name__)

HOME_TIMEOUT_S = 8.0
MAX_TICKETS = 10
MAX_APPROVALS = 10


@dataclass(frozen=True)
class HomeState:
    """Everything App Home shows; a section that failed to load is None."""

    linked_as: str | None = None
    link_url: str | None = None
    tickets: list[Ticket] | None = field(default_factory=list)
    outages: list[Outage] | None = field(default_factory=list)
    approvals: list[Ticket] | None = None  # None: not a manager (or unknown)
    notice: str | None = None


def render_home(state: HomeState) -> dict[str, Any]:
    """The Home tab view (pure)."""
    title = prompts.reply("slack_home_title")
    blocks: list[Block] = [{"type": "header", "text": {"type": "plain_text", "text": title}}]
    if state.notice:
        blocks.append(context(f"ℹ️ {escape(state.notice)}"))
    if state.linked_as is None:
        blocks.append(mrkdwn_section(prompts.reply("slack_home_unlinked")))
        if state.link_url:
            label = prompts.reply("label_link_account")
            blocks.append(_buttons(("link", label, None, "primary", state.link_url)))
        return {"type": "home", "blocks": blocks}
    linked_as = prompts.reply("slack_home_linked_as", name=escape(state.linked_as))
    blocks.append(context(f"✅ {linked_as}"))
    blocks.append(
        _buttons(
            ("cmd:new_ticket", prompts.reply("label_open_ticket"), None, "primary", None),
            ("home:refresh", prompts.reply("slack_home_refresh"), None, None, None),
        )
    )
    blocks += [{"type": "divider"}, mrkdwn_section(f"*{prompts.reply('slack_home_outages')}*")]
    if state.outages is None:
        blocks.append(context(prompts.reply("slack_home_outages_failed")))
    elif not state.outages:
        blocks.append(context(prompts.reply("channel_no_outages")))
    for outage in (state.outages or [])[:5]:
        blocks += outage_notice(outage)
    blocks += [{"type": "divider"}, mrkdwn_section(f"*{prompts.reply('channel_your_tickets')}*")]
    if state.tickets is None:
        blocks.append(context(prompts.reply("slack_home_tickets_failed")))
    elif not state.tickets:
        blocks.append(context(prompts.reply("slack_home_no_tickets")))
    for ticket in (state.tickets or [])[:MAX_TICKETS]:
        blocks += ticket_card(ticket)
    if state.approvals is not None:
        heading = prompts.reply("slack_home_approvals")
        blocks += [{"type": "divider"}, mrkdwn_section(f"*{heading}*")]
        if not state.approvals:
            blocks.append(context(prompts.reply("slack_home_no_approvals")))
        for ticket in state.approvals[:MAX_APPROVALS]:
            number = str(ticket.ticket_number)
            blocks += ticket_card(ticket)
            if ticket.requester_name:
                name = escape(ticket.requester_name)
                blocks.append(context(prompts.reply("channel_requested_by", name=name)))
            blocks.append(
                _buttons(
                    ("home:approve", prompts.reply("label_approve"), number, "primary", None),
                    ("home:reject", prompts.reply("label_reject"), number, "danger", None),
                )
            )
    return {"type": "home", "blocks": blocks[:100]}  # a Home view holds at most 100 blocks


def _buttons(*specs: tuple[str, str, str | None, str | None, str | None]) -> Block:
    elements = []
    for position, (action_id, label, value, style, url) in enumerate(specs):
        element: Block = {
            "type": "button",
            "action_id": f"{action_id}#{position}",
            "text": {"type": "plain_text", "text": label},
        }
        if value is not None:
            element["value"] = value
        if style is not None:
            element["style"] = style
        if url is not None:
            element["url"] = url
        elements.append(element)
    return {"type": "actions", "elements": elements}


class SlackHome:
    def __init__(
        self,
        *,
        services: ChannelServices,
        client: AsyncWebClient,
        tasks: TaskGroup,
        writes: ConfirmedWrites,
    ) -> None:
        self._services = services
        self._client = client
        self._tasks = tasks
        self._writes = writes

    async def on_opened(self, *, team_id: str, user_id: str, event_id: str | None) -> None:
        if event_id and not await self._services.desk.claim(CHANNEL, f"event:{event_id}"):
            return
        await self.publish(team_id=team_id, user_id=user_id)

    async def publish(self, *, team_id: str, user_id: str, notice: str | None = None) -> None:
        state = await self.load(team_id=team_id, user_id=user_id, notice=notice)
        try:
            await self._client.views_publish(user_id=user_id, view=render_home(state))
        except SlackApiError as exc:
            log.warning("views.publish failed: %s", slack_error(exc))
        except TRANSPORT_ERRORS as exc:
            log.warning("views.publish failed: %s", type(exc).__name__)

    async def load(self, *, team_id: str, user_id: str, notice: str | None = None) -> HomeState:
        services = self._services
        key = user_key(team_id, user_id)
        try:
            user = await services.identities.resolve(CHANNEL, key)
        except (ReauthRequired, HelpdeskError):
            user = None
        if user is None:
            url = services.links.issue_url(channel=CHANNEL, user_key=key)
            return HomeState(link_url=url, notice=notice)
        tickets, outages, approvals = await asyncio.gather(
            self._tickets(user), self._outages(user), self._approvals(user)
        )
        return HomeState(
            linked_as=user.display_name,
            tickets=tickets,
            outages=outages,
            approvals=approvals,
            notice=notice,
        )

    async def _tickets(self, user: HelpdeskUser) -> list[Ticket] | None:
        try:
            async with asyncio.timeout(HOME_TIMEOUT_S):
                tickets = await self._services.desk.tickets(user, limit=50)
        except (HelpdeskError, TimeoutError):
            return None
        return [ticket for ticket in tickets if ticket.status != "closed"]

    async def _outages(self, user: HelpdeskUser) -> list[Outage] | None:
        try:
            async with asyncio.timeout(HOME_TIMEOUT_S):
                return active(await self._services.desk.outages(user))
        except (HelpdeskError, TimeoutError):
            return None

    async def _approvals(self, user: HelpdeskUser) -> list[Ticket] | None:
        if not user.profile.permissions.ismgr:
            return None
        try:
            async with asyncio.timeout(HOME_TIMEOUT_S):
                return await self._services.desk.approvals(user, limit=MAX_APPROVALS)
        except (HelpdeskError, TimeoutError):
            return []

    # --- approvals ------------------------------------------------------------------------

    async def on_button(self, press: ButtonPress) -> None:
        if press.action_id == "home:refresh":
            await self.publish(team_id=press.team_id, user_id=press.user_id)
        elif press.action_id == "home:reject" and press.trigger_id and press.value:
            try:
                await self._client.views_open(
                    trigger_id=press.trigger_id, view=reject_modal(press.value)
                )
            except SlackApiError as exc:
                log.warning("views.open failed: %s", slack_error(exc))
        elif press.action_id == "home:approve" and press.value and press.value.isdigit():
            if not await self._services.desk.claim(CHANNEL, press.dedupe_key):
                return
            await self._decide(
                press.team_id,
                press.user_id,
                tool="approve_ticket",
                arguments={"ticket_number": int(press.value)},
                call_id=f"slack-approve-{press.value}",
            )

    async def on_reject_submitted(self, ack: Any, body: dict[str, Any]) -> None:
        view = body.get("view") or {}
        reason = view_values(view).get("reason", "")
        number = str(view.get("private_metadata") or "")
        if not reason:
            errors = {"reason": prompts.reply("slack_reason_needed")}
            await ack(response_action="errors", errors=errors)
            return
        await ack()
        user = body.get("user") or {}
        team = str((body.get("team") or {}).get("id") or user.get("team_id") or "")
        self._tasks.spawn(
            self._reject(team, str(user.get("id") or ""), number, reason, str(view.get("id"))),
            name="slack-reject",
        )

    async def _reject(
        self, team_id: str, user_id: str, number: str, reason: str, view: str
    ) -> None:
        if not number.isdigit():
            return
        if not await self._services.desk.claim(CHANNEL, f"view:{view}"):
            return
        await self._decide(
            team_id,
            user_id,
            tool="reject_ticket",
            arguments={"ticket_number": int(number), "reason": reason},
            call_id=f"slack-reject-{number}-{view}",
        )

    async def _decide(
        self, team_id: str, user_id: str, *, tool: str, arguments: dict[str, Any], call_id: str
    ) -> None:
        """Propose the approval decision and confirm it through the engine; show the outcome
        on Home."""
        services = self._services
        address = SlackAddress(team_id, "home", user_id, user_id, "home")
        try:
            user = await services.identities.resolve(CHANNEL, address.user_key)
        except ReauthRequired:
            user = None
        if user is None:
            await self.publish(team_id=team_id, user_id=user_id)
            return
        conversation = await services.desk.open_conversation(
            CHANNEL, address.conversation_key, user_key=address.user_key, address=address.to_dict()
        )
        outcome = prompts.reply("channel_try_again")
        try:
            proposal = await self._writes.propose(
                user=user,
                conversation=conversation,
                tool=tool,
                arguments=arguments,
                call_id=call_id,
            )
            if isinstance(proposal, str):
                outcome = proposal
            else:
                inbound = ConfirmedWrites.confirm_inbound(proposal, address, event_id=call_id)
                async for reply in services.engine.handle(inbound):
                    if isinstance(reply, Message):
                        outcome = reply.text
        except (HelpdeskError, ReauthRequired) as exc:
            log.warning("Approval decision failed: %s", type(exc).__name__)
        await self.publish(team_id=team_id, user_id=user_id, notice=_plain(outcome))


def _plain(markdown: str) -> str:
    return truncate(markdown.replace("**", ""), 300)
