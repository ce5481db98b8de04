"""The Teams channel: `POST /api/messages` on the one aiohttp app, served by botbuilder's
`CloudAdapter`, turning activities into engine turns whose replies go back through the
Bot Connector.

Each request is authenticated (`auth.Authenticator`: JWT validation, or dev mode on
loopback), handed to `CloudAdapter.process_activity`, and answered at once: messages,
card submits and conversation updates only spawn their work into the server's
`TaskGroup` and get 201; an invoke gets its `invokeResponse` (a task module, the pressed
card in its "working" state) in the same HTTP answer, as Teams requires. Teams redelivers
what it did not see acknowledged, so the work claims each activity before acting
(`turns.TeamsTurns`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from functools import partial
from http import HTTPStatus
from typing import Any

from aiohttp import web
from botbuilder.core import InvokeResponse, TurnContext
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import Activity, ActivityTypes

from adapters.channel import ChannelServices, link_page_url
from adapters.tasks import TaskGroup
from adapters.teams.activities import (
    CHANNEL,
    CardAction,
    ExtensionFetch,
    ExtensionSubmit,
    Ignored,
    MembersAdded,
    UnknownInvoke,
    UserMessage,
    parse_activity,
)
from adapters.teams.auth import Authenticator, Refused
from adapters.teams.cards import invoke_card, invoke_message, render_confirm_working
from adapters.teams.delivery import TeamsDelivery
from adapters.teams.extension import TeamsExtension
from adapters.teams.turns import CONFIRM_KINDS, TeamsTurns
from bot import prompts
from bot.linking import Linked
from bot.messages import Inbound, Reply

log = logging.getLogger(__name__)

MESSAGES_PATH = "/api/messages"


class TeamsChannel:
    """The CloudAdapter, the `/api/messages` handler, and the work it starts."""

    name = CHANNEL

    def __init__(self, *, services: ChannelServices, tasks: TaskGroup) -> None:
        self.services = services
        self.tasks = tasks
        self.auth = Authenticator(services.settings)
        self.adapter = CloudAdapter(self.auth.sdk)
        self.turns = TeamsTurns(services=services, adapter=self.adapter, app_id=self.auth.app_id)
        self.extension = TeamsExtension(services=services, turns=self.turns)
        self.turns.approvals = self.extension.show_approvals
        self.turns.decide = self.extension.decide
        self.delivery = TeamsDelivery(
            adapter=self.adapter, desk=services.desk, app_id=self.auth.app_id
        )

    # --- the channel seam (adapters.channel) ----------------------------------------------

    def mount(self, app: web.Application) -> None:
        app.router.add_post(MESSAGES_PATH, self.handle_http)
        if self.auth.dev_mode:
            log.warning("Teams runs in dev mode: no authentication, loopback serviceUrls only")

    async def deliver(self, conversation_key: str, reply: Reply) -> bool:
        return await self.delivery.deliver(conversation_key, reply)

    async def on_linked(self, linked: Linked) -> None:
        self.tasks.spawn(self.turns.after_link(linked), name="teams-linked")

    async def sign_in_url(self, inbound: Inbound, message_id: int) -> str | None:
        return link_page_url(self.services, inbound, message_id)

    # --- HTTP -----------------------------------------------------------------------------

    async def handle_http(self, request: web.Request) -> web.Response:
        if "application/json" not in request.headers.get("Content-Type", ""):
            return web.json_response({"error": "expected JSON"}, status=415)
        try:
            body = await request.json()
        except json.JSONDecodeError:
            return web.json_response({"error": "invalid JSON"}, status=400)
        if not isinstance(body, dict) or not body.get("type"):
            return web.json_response({"error": "not an activity"}, status=400)
        activity = Activity().deserialize(body)
        try:
            authenticated = await self.auth.authenticate(
                activity, request.headers.get("Authorization")
            )
        except Refused as refused:
            log.info("Teams request refused: %s", refused.reason)
            return web.json_response({"error": refused.reason}, status=refused.status)
        try:
            response = await self.adapter.process_activity(
                authenticated, activity, partial(self._on_turn, body)
            )
        except RuntimeError:  # the task group is closing: Teams redelivers elsewhere
            return web.json_response({"error": "shutting down"}, status=503)
        if isinstance(response, InvokeResponse):
            return web.json_response(response.body, status=response.status or 200)
        return web.Response(status=201)

    async def _on_turn(self, body: Mapping[str, Any], context: TurnContext) -> None:
        """Inside the request: decide, spawn the work, answer an invoke; nothing slow."""
        event = parse_activity(body)
        if isinstance(event, Ignored):
            log.debug("Teams activity ignored: %s", event.reason)
            return
        if isinstance(event, UnknownInvoke):
            log.debug("Teams invoke %s not handled", event.name)
            await _answer_invoke(context, {}, status=HTTPStatus.OK)
            return
        if isinstance(event, UserMessage):
            self.tasks.spawn(self.turns.user_message(event), name="teams-message")
        elif isinstance(event, MembersAdded):
            self.tasks.spawn(self.turns.welcome(event), name="teams-welcome")
        elif isinstance(event, CardAction):
            await self._card_action(event, context)
        elif isinstance(event, ExtensionFetch):
            await _answer_invoke(context, await self.extension.fetch_task(event))
        elif isinstance(event, ExtensionSubmit):
            answer = await self.extension.accept_submit(event)
            if answer is None:
                self.tasks.spawn(self.extension.submit(event), name="teams-ticket-form")
                answer = {}
            await _answer_invoke(context, answer)

    async def _card_action(self, press: CardAction, context: TurnContext) -> None:
        if not press.invoke:
            self.tasks.spawn(self.turns.card_action(press), name="teams-card-action")
            return
        # Action.Execute: the answer replaces the pressed card, so it is decided here.
        if await self.turns.pressed_by_someone_else(press):
            await _answer_invoke(context, invoke_message(prompts.reply("conversation_not_yours")))
            return
        if press.needs_reason:
            self.tasks.spawn(self.turns.card_action(press), name="teams-card-action")
            number = press.action_id.partition(":")[2]
            reason_needed = prompts.reply("approval_reason_needed", number=number)
            await _answer_invoke(context, invoke_message(reason_needed))
            return
        if not await self.turns.claim(press.dedupe_key):
            await _answer_invoke(context, invoke_message(prompts.reply("teams_already_handled")))
            return
        self.tasks.spawn(self.turns.card_action(press, claimed=True), name="teams-card-action")
        if press.kind in CONFIRM_KINDS:
            await _answer_invoke(context, invoke_card(render_confirm_working(press.data)))
        else:
            await _answer_invoke(context, invoke_message(prompts.reply("teams_thanks")))


async def _answer_invoke(context: TurnContext, body: Any, *, status: int = HTTPStatus.OK) -> None:
    """The invoke's answer, which the adapter returns as the HTTP response."""
    await context.send_activity(
        Activity(type=ActivityTypes.invoke_response, value=InvokeResponse(status=status, body=body))
    )


TEAMS = web.AppKey("teams", TeamsChannel)

__all__ = ["MESSAGES_PATH", "TEAMS", "TeamsChannel"]
