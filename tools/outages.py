"""The check_outages tool: the company's active service outages and degradations."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from bot.helpdesk.errors import HelpdeskError
from bot.tooling import ToolContext, ToolOutcome, ToolSpec
from tools._common import MAX_ITEMS, failed, iso, truncate

MESSAGE_CHARS = 400


class CheckOutagesArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")


async def check_outages(ctx: ToolContext, args: CheckOutagesArgs) -> ToolOutcome:
    try:
        result = await ctx.helpdesk.outages(ctx.auth)
    except HelpdeskError as exc:
        return failed("could not check for outages", exc)
    outages = [
        {
            "service": outage.service,
            "status": outage.status,
            "title": outage.title,
            "message": truncate(outage.message, MESSAGE_CHARS),
            "site_name": outage.site_name,
            "started_at": iso(outage.started_at),
        }
        for outage in result.outages
        if outage.status != "resolved"
    ]
    return ToolOutcome({"all_operational": result.all_operational, "outages": outages[:MAX_ITEMS]})


def outage_tools() -> list[ToolSpec[Any]]:
    # Outages are company-wide status information, not a module: everyone may ask.
    return [ToolSpec("check_outages", CheckOutagesArgs, check_outages)]
