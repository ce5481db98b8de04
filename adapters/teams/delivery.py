"""The Teams proactive sender: a Reply into a stored conversation, unprompted.

The handoff relay registers `TeamsDelivery.deliver` for the "teams" channel and calls it
for agent messages, "agent joined"/"ended" notices and the rating request. The message is
sent through `CloudAdapter.continue_conversation` with the conversation reference stored
from the user's last activity (in a channel, into the same reply chain). `True` means
Teams has the message, so the relay may advance its cursor; `False` means it was not sent
and the relay tries again later. A new message is never repeated on an unknown outcome
(`send.with_backoff`), so a relayed message is not doubled by a retry either.
"""

from __future__ import annotations

import logging

from botbuilder.integration.aiohttp import CloudAdapter

from adapters.teams.activities import CHANNEL, TeamsAddress
from adapters.teams.replies import render_standalone
from adapters.teams.send import Connector, TeamsSendError, connect
from bot.desk import Desk
from bot.messages import Reply

log = logging.getLogger(__name__)


class TeamsDelivery:
    """`deliver(conversation_key, reply) -> bool` for the handoff relay."""

    def __init__(self, *, adapter: CloudAdapter, desk: Desk, app_id: str | None) -> None:
        self._adapter = adapter
        self._desk = desk
        self._app_id = app_id

    async def deliver(self, conversation_key: str, reply: Reply) -> bool:
        conversation = await self._desk.find_conversation(CHANNEL, conversation_key)
        address = TeamsAddress.from_dict(conversation.address) if conversation else None
        if address is None:
            log.warning("No Teams address for a conversation; cannot deliver")
            return False
        outgoing = render_standalone(reply)
        if outgoing is None:
            return True  # Typing, TextDelta: nothing to deliver on their own

        async def send(connector: Connector) -> str | None:
            return await connector.post(outgoing)

        try:
            await connect(self._adapter, address, app_id=self._app_id, work=send)
        except TeamsSendError as exc:
            log.warning("Teams refused a relayed message: %s", exc.status)
            return False
        return True
