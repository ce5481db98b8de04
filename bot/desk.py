"""What a channel asks the core besides turns: claims, conversations, transcripts, sessions,
and user-scoped helpdesk reads.

Channels never hold the helpdesk client or the store (import-linter forbids it); this is
their one door to both, so every read a channel makes is a named, typed call that acts
with the user's own token, and the store's schema can change behind it. The calls are
deliberately plain — no decisions live here; turns and writes go through `bot.engine`.

Errors: helpdesk reads raise the `bot.helpdesk.errors` tree (`ReauthRequired` when the
user's sign-in is gone); store calls raise `bot.store.errors.StoreError`. Both are
`BotError`s.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from bot import metrics
from bot.helpdesk.client import HelpdeskClient
from bot.helpdesk.models import JobType, OAuthProvider, Outage, TenantInit, Ticket, TicketDetail
from bot.identity import HelpdeskUser
from bot.store.records import Conversation, Identity, PendingAction, WebSession
from bot.store.records import Message as StoredMessage
from bot.store.store import Store


class Desk:
    """The core's calls for channels (one per process, built by the composition root)."""

    def __init__(self, *, store: Store, helpdesk: HelpdeskClient) -> None:
        self._store = store
        self._helpdesk = helpdesk

    # --- exactly once ---------------------------------------------------------------------

    async def claim(self, source: str, key: str) -> bool:
        """True for the first caller of (source, key) across every replica, False after."""
        first = await self._store.claim_event(source, key)
        if not first:
            metrics.current().dedupe_hits.labels(source=source).inc()
        return first

    # --- conversations and transcripts ----------------------------------------------------

    async def find_conversation(self, channel: str, conversation_key: str) -> Conversation | None:
        return await self._store.find_conversation(channel, conversation_key)

    async def open_conversation(
        self,
        channel: str,
        conversation_key: str,
        *,
        user_key: str,
        address: Mapping[str, Any] | None = None,
    ) -> Conversation:
        """The conversation for this key, created (with its proactive address) if new."""
        return await self._store.get_or_create_conversation(
            channel, conversation_key, user_key=user_key, address=address
        )

    async def handoff_of_user(self, channel: str, user_key: str) -> Conversation | None:
        """The user's conversation in `channel` that a human agent owns or is queued for.

        One helpdesk chat belongs to one conversation: a channel routes a user's new
        thread here while an agent is on the case, instead of starting a second one."""
        return await self._store.handoff_of_user(channel, user_key)

    async def conversations_in_handoff(self, channel: str) -> list[Conversation]:
        """The channel's conversations a human owns or is queued for, in one statement."""
        return await self._store.conversations_in_handoff(channel)

    async def get_conversation(self, conversation_id: int) -> Conversation | None:
        return await self._store.get_conversation(conversation_id)

    async def get_message(self, message_id: int) -> StoredMessage | None:
        return await self._store.get_message(message_id)

    async def recent_messages(self, conversation_id: int, *, limit: int) -> list[StoredMessage]:
        return await self._store.recent_messages(conversation_id, limit=limit)

    async def messages_after(
        self, conversation_id: int, *, after_seq: int, limit: int = 500
    ) -> list[StoredMessage]:
        return await self._store.messages_after(conversation_id, after_seq=after_seq, limit=limit)

    async def replies_for_event(self, conversation_id: int, event_id: str) -> list[StoredMessage]:
        return await self._store.replies_for_event(conversation_id, event_id)

    async def get_pending_action(self, action_id: str) -> PendingAction | None:
        return await self._store.get_pending_action(action_id)

    async def latest_pending_action(self, conversation_id: int) -> PendingAction | None:
        """The write still waiting for this conversation's confirm, if any."""
        return await self._store.latest_pending_action(conversation_id)

    # --- browser sessions (a channel's own sign-in, e.g. the widget) ----------------------

    async def create_session(
        self, session_hash: str, *, identity_id: int, expires_at: datetime
    ) -> WebSession:
        return await self._store.create_web_session(
            session_hash, identity_id=identity_id, expires_at=expires_at
        )

    async def get_session(self, session_hash: str) -> WebSession | None:
        """A live (unexpired, unrevoked) session by the hash of its cookie."""
        return await self._store.get_web_session(session_hash)

    async def revoke_session(self, session_hash: str) -> bool:
        return await self._store.revoke_web_session(session_hash)

    async def get_identity(self, identity_id: int) -> Identity | None:
        return await self._store.get_identity_by_id(identity_id)

    # --- helpdesk reads, as the user ------------------------------------------------------

    async def tickets(self, user: HelpdeskUser, *, limit: int = 50) -> list[Ticket]:
        """The user's tickets in every status, newest first as the helpdesk lists them."""
        page = await self._helpdesk.list_tickets(user.auth, status="all", limit=limit)
        return list(page.tickets)

    async def ticket(self, user: HelpdeskUser, ticket_number: int) -> TicketDetail | None:
        """One of the user's tickets by its number (None if it is not theirs or not there)."""
        found = await self._helpdesk.find_ticket_by_number(user.auth, ticket_number)
        if found is None:
            return None
        return await self._helpdesk.get_ticket(user.auth, found.ticket_id)

    async def outages(self, user: HelpdeskUser) -> list[Outage]:
        return list((await self._helpdesk.outages(user.auth)).outages)

    async def approvals(self, user: HelpdeskUser, *, limit: int = 20) -> list[Ticket]:
        """Tickets waiting for this manager's approval."""
        return list((await self._helpdesk.list_approvals(user.auth, limit=limit)).tickets)

    async def job_types(self, user: HelpdeskUser) -> list[JobType]:
        return await self._helpdesk.job_types(user.auth)

    # --- the tenant (no user) -------------------------------------------------------------

    async def branding(self) -> TenantInit:
        """The tenant's name and colours (`/init`, public)."""
        return await self._helpdesk.init()

    async def oauth_providers(self) -> list[OAuthProvider]:
        return await self._helpdesk.oauth_providers()

    async def oauth_url(self, provider: str, *, redirect_uri: str) -> str:
        return (await self._helpdesk.oauth_url(provider, redirect_uri=redirect_uri)).url
