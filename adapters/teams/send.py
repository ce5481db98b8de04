"""Sending to a Teams conversation through the Bot Connector REST API, with safe retries.

Every send goes through botframework-connector's `ConnectorClient`, obtained per piece of
work from `CloudAdapter.continue_conversation` with the conversation's stored reference
(`connect`), so the SDK stays inside this package and the wire format is the SDK's:
`POST /v3/conversations/{id}/activities[/{replyToId}]`, `PUT .../activities/{id}`.

Retries (https://learn.microsoft.com/microsoftteams/platform/bots/how-to/rate-limit):
- 429 and 412: Teams did not act on the call, so any call is repeated after `Retry-After`
  (or an exponential backoff);
- 502 and 504: the outcome is unknown, so only calls that are safe to repeat are repeated
  (typing, updates of an existing activity); a new message is not sent twice.
msrest's own status retries are switched off (it would repeat a POST on a 5xx); it still
retries a connection that never opened, which sent nothing.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar, TypeVar

from botbuilder.core import TurnContext
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import (
    Activity,
    Attachment,
    ChannelAccount,
    ConversationParameters,
    ConversationReference,
    Entity,
)
from botframework.connector.aio import ConnectorClient  # type: ignore[import-untyped]
from msrest.exceptions import ClientRequestError, HttpOperationError
from urllib3.util.retry import Retry

from adapters.teams.activities import TeamsAddress
from adapters.teams.cards import ADAPTIVE_CARD, Card, Outgoing
from bot.retry_after import retry_after_from_headers

log = logging.getLogger(__name__)

T = TypeVar("T")

CALL_TIMEOUT_S = 15.0
MAX_ATTEMPTS = 4
MAX_WAIT_S = 10.0
NOT_ACTED = frozenset({412, 429})
OUTCOME_UNKNOWN = frozenset({502, 504})


class TeamsSendError(Exception):
    """The Bot Connector refused a call or could not be reached (`status` None)."""

    def __init__(self, what: str, status: int | None) -> None:
        super().__init__(f"{what} failed with {status or 'no answer'}")
        self.what = what
        self.status = status


def status_of(exc: HttpOperationError) -> int | None:
    response = getattr(exc, "response", None)
    status = getattr(response, "status_code", None)
    return int(status) if isinstance(status, int) else None


def _headers_of(exc: HttpOperationError) -> dict[str, Any]:
    headers = getattr(getattr(exc, "response", None), "headers", None) or {}
    return {str(k).lower(): v for k, v in dict(headers).items()}


async def with_backoff(call: Callable[[], Awaitable[T]], *, what: str, repeatable: bool) -> T:
    """Run one connector call; repeat it only when that cannot do anything twice."""
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            async with asyncio.timeout(CALL_TIMEOUT_S):
                return await call()
        except HttpOperationError as exc:
            status = status_of(exc)
            again = status in NOT_ACTED or (repeatable and status in OUTCOME_UNKNOWN)
            if not again or attempt == MAX_ATTEMPTS:
                raise TeamsSendError(what, status) from exc
            wait = retry_after_from_headers(_headers_of(exc))
            if wait is None:
                wait = 0.5 * 2 ** (attempt - 1) * (1 + random.random() / 4)
            log.info("Teams %s answered %s; retrying in %.1f s", what, status, wait)
            await asyncio.sleep(min(wait, MAX_WAIT_S))
        except (ClientRequestError, TimeoutError) as exc:
            # The request may have reached Teams: repeat only what is safe to repeat.
            if not repeatable or attempt == MAX_ATTEMPTS:
                raise TeamsSendError(what, None) from exc
            await asyncio.sleep(0.5 * attempt)
    raise AssertionError("unreachable")


def _tune(client: ConnectorClient) -> None:
    """Our retries, not msrest's: no status retries; connection setup retried once."""
    client.config.retry_policy.policy = Retry(
        total=1, connect=1, read=0, status=0, other=0, redirect=0, status_forcelist=()
    )
    client.config.connection.timeout = CALL_TIMEOUT_S


async def connect(
    adapter: CloudAdapter,
    address: TeamsAddress,
    *,
    app_id: str | None,
    work: Callable[[Connector], Awaitable[T]],
) -> T:
    """Run `work` with a connector for the conversation, through `continue_conversation`
    with its stored reference (the SDK builds the credentials for the serviceUrl)."""
    reference = ConversationReference().deserialize(address.reference())
    results: list[T] = []

    async def callback(context: TurnContext) -> None:
        client: ConnectorClient = context.turn_state[adapter.BOT_CONNECTOR_CLIENT_KEY]
        _tune(client)
        try:
            results.append(await work(Connector(client, address, reference)))
        finally:
            await client.__aexit__(None, None, None)

    await adapter.continue_conversation(reference, callback, bot_app_id=app_id or "")
    return results[0]


class StreamInfo(Entity):  # type: ignore[misc]
    """The `streaminfo` entity of Teams streaming; the schema's `Entity` would drop the
    extra fields when serialized.
    https://learn.microsoft.com/microsoftteams/platform/bots/streaming-ux
    """

    _attribute_map: ClassVar[dict[str, dict[str, str]]] = {
        "type": {"key": "type", "type": "str"},
        "stream_id": {"key": "streamId", "type": "str"},
        "stream_type": {"key": "streamType", "type": "str"},
        "stream_sequence": {"key": "streamSequence", "type": "int"},
    }

    def __init__(
        self, *, stream_type: str, stream_id: str | None = None, stream_sequence: int | None = None
    ) -> None:
        super().__init__(type="streaminfo")
        self.stream_id = stream_id
        self.stream_type = stream_type
        self.stream_sequence = stream_sequence


class Connector:
    """One conversation's sends: messages, updates, typing, stream steps."""

    def __init__(
        self, client: ConnectorClient, address: TeamsAddress, reference: ConversationReference
    ) -> None:
        self.client = client
        self.address = address
        self._reference = reference

    def activity(self, outgoing: Outgoing | None = None, *, kind: str = "message") -> Activity:
        activity = Activity(
            type=kind,
            channel_id=self._reference.channel_id,
            service_url=self._reference.service_url,
            conversation=self._reference.conversation,
            from_property=self._reference.bot,
            recipient=self._reference.user,
        )
        if outgoing is not None:
            if outgoing.text:
                activity.text = outgoing.text
                activity.text_format = "markdown"
            elif outgoing.summary:
                activity.summary = outgoing.summary
            activity.attachments = [_attachment(card) for card in outgoing.cards] or None
        return activity

    async def post(self, outgoing: Outgoing, *, reply: bool = True) -> str | None:
        """A new message (never repeated on an unknown outcome); its activity id."""
        return await self.send(self.activity(outgoing), what="send", reply=reply)

    async def send(
        self, activity: Activity, *, what: str, reply: bool = True, repeatable: bool = False
    ) -> str | None:
        conversation_id = self.address.conversation_id
        reply_to = self.address.reply_to if reply else None
        operations = self.client.conversations
        if reply_to:
            activity.reply_to_id = reply_to

            async def call() -> Any:
                return await operations.reply_to_activity(conversation_id, reply_to, activity)
        else:

            async def call() -> Any:
                return await operations.send_to_conversation(conversation_id, activity)

        response = await with_backoff(call, what=what, repeatable=repeatable)
        return str(response.id) if response is not None and response.id else None

    async def update(self, activity_id: str, outgoing: Outgoing) -> None:
        """Replace a message the bot sent (a PUT: safe to repeat)."""
        activity = self.activity(outgoing)
        activity.id = activity_id
        conversation_id = self.address.conversation_id

        async def call() -> Any:
            return await self.client.conversations.update_activity(
                conversation_id, activity_id, activity
            )

        await with_backoff(call, what="update", repeatable=True)

    async def typing(self) -> None:
        """The typing indicator; a failure is not worth failing the turn for."""
        try:
            await self.send(self.activity(kind="typing"), what="typing", repeatable=True)
        except TeamsSendError as exc:
            log.info("Typing indicator not sent: %s", exc.status)

    async def stream_step(
        self,
        text: str,
        *,
        stream_type: str,
        stream_id: str | None,
        sequence: int | None,
        final: Outgoing | None = None,
    ) -> str | None:
        """One step of a Teams stream: an informative or streaming `typing` activity, or
        the final `message`. Returns the stream id (the first step's activity id)."""
        activity = self.activity(final, kind="message" if final is not None else "typing")
        activity.text = text
        activity.text_format = "markdown"
        activity.entities = [
            StreamInfo(stream_type=stream_type, stream_id=stream_id, stream_sequence=sequence)
        ]
        activity.channel_data = {"streamType": stream_type, "streamSequence": sequence} | (
            {"streamId": stream_id} if stream_id else {}
        )
        # A step of a stream that Teams has may be repeated; the first step starts it.
        sent = await self.send(
            activity, what=f"stream {stream_type}", reply=False, repeatable=stream_id is not None
        )
        return stream_id or sent

    async def member_upn(self) -> str | None:
        """The user's userPrincipalName (`GET .../members/{id}`), if Teams says."""
        conversation_id, user_id = self.address.conversation_id, self.address.user_id

        async def call() -> Any:
            return await self.client.conversations.get_conversation_member(conversation_id, user_id)

        member = await with_backoff(call, what="member", repeatable=True)
        extra = getattr(member, "additional_properties", None) or {}
        upn = extra.get("userPrincipalName") or getattr(member, "user_principal_name", None)
        return str(upn) if upn else None

    async def personal_address(self) -> TeamsAddress:
        """The user's personal chat with the bot (`POST /v3/conversations`, which Teams
        answers with the existing 1:1 chat when there is one)."""
        address = self.address
        if address.kind == "personal":
            return address
        parameters = ConversationParameters(
            is_group=False,
            bot=self._reference.bot,
            members=[ChannelAccount(id=address.user_id, aad_object_id=address.aad_object_id)],
            tenant_id=address.tenant_id,
            channel_data={"tenant": {"id": address.tenant_id}} if address.tenant_id else None,
        )

        async def create() -> Any:
            return await self.client.conversations.create_conversation(parameters)

        created = await with_backoff(create, what="create conversation", repeatable=True)
        return TeamsAddress(
            **(address.to_dict() | {"conversation_id": str(created.id), "kind": "personal"})
            | {"reply_to": None}
        )

    def elsewhere(self, address: TeamsAddress) -> Connector:
        """A connector for another conversation on the same serviceUrl."""
        reference = ConversationReference().deserialize(address.reference())
        return Connector(self.client, address, reference)

    async def post_personal(self, outgoing: Outgoing) -> str | None:
        """A message in the user's personal chat with the bot."""
        personal = self.elsewhere(await self.personal_address())
        return await personal.post(outgoing, reply=False)


def _attachment(card: Card) -> Attachment:
    return Attachment(content_type=ADAPTIVE_CARD, content=card)
