"""The Slack channel: Bolt app, events, assistant threads, `/helpdesk`, App Home, the relay's
sender, and the pure parsing and rendering they use."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from adapters.channel import Channel, ChannelServices
    from adapters.tasks import TaskGroup


def channel(services: ChannelServices, tasks: TaskGroup) -> Channel | None:
    """Slack, when a bot token and a signing secret or an app token are set."""
    if not services.settings.slack_enabled:
        return None
    from adapters.slack.app import SlackChannel
    from adapters.slack.send import build_web_client

    client = build_web_client(services.settings)
    return SlackChannel(services=services, tasks=tasks, client=client)
