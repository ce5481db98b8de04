"""The web chat widget channel: embed script, chat frame, session, socket, rendering and the
relay's sender."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from adapters.channel import Channel, ChannelServices
    from adapters.tasks import TaskGroup


def channel(services: ChannelServices, tasks: TaskGroup) -> Channel | None:
    """The widget is always served: it is how a newcomer meets the product."""
    from adapters.web.app import WebChannel

    return WebChannel(services, tasks)
