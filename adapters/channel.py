"""The channel seam: what a channel is, and the narrow services every channel is given.

A channel package (`adapters.web`, `adapters.slack`, `adapters.teams`, ...) exposes one
factory in its `__init__`:

    def channel(services: ChannelServices, tasks: TaskGroup) -> Channel | None

returning None when its settings are absent (Slack without a token, Teams without an app id
or dev mode). The composition root (`adapters.server`) mounts the link pages
(`adapters.linking`, shared by every channel, not a channel itself), calls every factory
listed in `CHANNEL_PACKAGES`, then for each channel it got:

1. `mount(app)` — routes and startup/cleanup hooks on the one aiohttp app;
2. registers `deliver` with the handoff relay under `name` (agent messages, "agent
   joined"/"ended" notices and the rating request reach the user's own thread this way);
3. registers `on_linked` with the link tokens (a user finished linking: tell them, and
   answer the question that waited with `engine.resume`);
4. routes `sign_in_url` for the engine's "this user must link first" replies.

A channel reaches the core only through `ChannelServices`: the engine (turns), the desk
(user-scoped helpdesk reads and the shared store's claims, `bot.desk`), identities and link
tokens. It never holds the helpdesk client or the store, and it never imports another
channel (import-linter holds both rules). Adding Teams is a new package and one line in
`CHANNEL_PACKAGES`; nothing else changes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from aiohttp import web

from adapters.tasks import TaskGroup
from bot.desk import Desk
from bot.engine import Engine
from bot.identity import IdentityService
from bot.linking import Linked, LinkTokens
from bot.messages import Inbound, Reply
from bot.settings import Settings

# Every channel the server can serve, in mount order (the widget owns `/`).
CHANNEL_PACKAGES = (
    "adapters.web",
    "adapters.slack",
    "adapters.teams",
)


@dataclass(frozen=True)
class ChannelServices:
    """What the composition root hands a channel: the core's calls, nothing lower."""

    settings: Settings
    engine: Engine
    desk: Desk
    identities: IdentityService
    links: LinkTokens
    tenant_name: str
    secret_key: str  # signs the channel's own cookies and forms; never sent to a client
    helpdesk_base_url: str
    model_label: str  # the model that answers, as the operator configured it
    sandbox_base_url: str | None = None  # set when the embedded sandbox runs

    @property
    def sandbox_console_url(self) -> str | None:
        return f"{self.sandbox_base_url}/sandbox/console" if self.sandbox_base_url else None


class Channel(Protocol):
    """One chat channel mounted on the app."""

    @property
    def name(self) -> str:
        """The channel's name in `Inbound.channel` and the store ("web", "slack", ...)."""
        ...

    def mount(self, app: web.Application) -> None:
        """Add the channel's routes and its startup/cleanup hooks to `app`."""
        ...

    async def deliver(self, conversation_key: str, reply: Reply) -> bool:
        """Proactive send for the relay: True once the channel has the reply (or has queued
        it durably), False to be called again later."""
        ...

    async def on_linked(self, linked: Linked) -> None:
        """A user of this channel finished linking (only called for this channel's users)."""
        ...

    async def sign_in_url(self, inbound: Inbound, message_id: int) -> str | None:
        """Where an unlinked user of this channel signs in (None: no URL, tell them how)."""
        ...


ChannelFactory = Callable[[ChannelServices, TaskGroup], "Channel | None"]
SignInUrl = Callable[[Inbound, int], Awaitable[str | None]]


def link_page_url(services: ChannelServices, inbound: Inbound, message_id: int) -> str:
    """The one-time account-link page for a chat user (Slack, Teams): the default
    `sign_in_url` of a channel whose users cannot type a password where they are."""
    return services.links.issue_url(
        channel=inbound.channel,
        user_key=inbound.user_key,
        conversation_key=inbound.conversation_key,
        pending_message_id=message_id,
        display_name=inbound.display_name,
    )
