"""The escalate_to_human tool: asks the engine to hand the conversation to a human agent."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from bot.tooling import ToolContext, ToolOutcome, ToolSpec
from tools._common import needs_module

QUEUED = "A human agent has been asked to join."


class EscalateToHumanArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(
        min_length=1,
        max_length=500,
        description="One line for the agent: why a person is needed, "
        "e.g. 'user asked for a person' or 'VPN still drops after the KB steps'.",
    )


async def escalate_to_human(ctx: ToolContext, args: EscalateToHumanArgs) -> ToolOutcome:
    # No API call here: the engine performs the transfer (with a summary for the agent)
    # when it sees `handoff_reason`, so the handoff is one step it owns end to end.
    return ToolOutcome({"status": "queued", "message": QUEUED}, handoff_reason=args.reason)


def handoff_tools() -> list[ToolSpec[Any]]:
    return [
        ToolSpec(
            "escalate_to_human",
            EscalateToHumanArgs,
            escalate_to_human,
            allowed=needs_module("chat"),
        )
    ]
