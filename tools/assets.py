"""The list_my_assets tool: the devices and equipment assigned to the user."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from bot.helpdesk.errors import HelpdeskError
from bot.tooling import ToolContext, ToolOutcome, ToolSpec
from tools._common import MAX_ITEMS, failed, may_view_assets


class ListMyAssetsArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")


async def list_my_assets(ctx: ToolContext, args: ListMyAssetsArgs) -> ToolOutcome:
    try:
        # mine=True: an asset manager ("Modify") would otherwise get the whole company's.
        page = await ctx.helpdesk.list_assets(ctx.auth, mine=True, per_page=MAX_ITEMS)
    except HelpdeskError as exc:
        return failed("could not list your devices", exc)
    return ToolOutcome(
        {
            "assets": [
                {
                    "asset_id": a.asset_id,
                    "machine_name": a.machine_name,
                    "asset_type": a.asset_type,
                    "manufacturer": a.manufacturer,
                    "model": a.model,
                    "serial_number": a.serial_number,
                    "status": a.status,
                }
                for a in page.assets[:MAX_ITEMS]
            ]
        }
    )


def asset_tools() -> list[ToolSpec[Any]]:
    return [ToolSpec("list_my_assets", ListMyAssetsArgs, list_my_assets, allowed=may_view_assets)]
