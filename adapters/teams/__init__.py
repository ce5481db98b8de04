"""The Microsoft Teams channel (Bot Framework): `/api/messages`, personal chats and channel
mentions, Adaptive Cards, streaming, the message action, the relay's sender, and the pure
parsing and rendering they use. botbuilder stays inside this package."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from adapters.channel import Channel, ChannelServices
    from adapters.tasks import TaskGroup


def channel(services: ChannelServices, tasks: TaskGroup) -> Channel | None:
    """Teams, when `MicrosoftAppId` is set or `TEAMS_DEV_MODE=1`."""
    if not services.settings.teams_enabled:
        return None
    from adapters.teams.app import TeamsChannel

    return TeamsChannel(services=services, tasks=tasks)
