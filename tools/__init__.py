"""The model's tools, one module per area; `all_tools()` is what the composition root registers.

registry = ToolRegistry(all_tools())
offered = registry.offered(capabilities)  # only the tools this user may use
"""

from __future__ import annotations

from typing import Any

from bot.tooling import ToolSpec
from tools.approvals import approval_tools
from tools.assets import asset_tools
from tools.handoff import handoff_tools
from tools.kb import kb_tools
from tools.outages import outage_tools
from tools.tickets import ticket_tools

__all__ = ["all_tools"]


def all_tools() -> list[ToolSpec[Any]]:
    """Every tool, in the order they are offered to the model."""
    return [
        *kb_tools(),
        *outage_tools(),
        *ticket_tools(),
        *asset_tools(),
        *approval_tools(),
        *handoff_tools(),
    ]
