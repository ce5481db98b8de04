"""The shipped Teams app manifest template matches what the adapter handles: the bot in the
scopes it answers, the message action's command id, the personal commands, the icons."""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

from adapters.teams.activities import CREATE_TICKET_COMMAND
from adapters.teams.turns import COMMANDS

MANIFEST_DIR = Path(__file__).parents[2] / "adapters" / "teams" / "manifest"


def manifest() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((MANIFEST_DIR / "manifest.json").read_text())
    return data


def test_the_bot_is_the_app_registration_in_every_scope_it_answers() -> None:
    data = manifest()
    [bot] = data["bots"]
    assert bot["botId"] == data["id"] == "{{MICROSOFT_APP_ID}}"
    assert set(bot["scopes"]) == {"personal", "team", "groupChat"}
    [commands] = bot["commandLists"]
    assert {c["title"] for c in commands["commands"]} == set(COMMANDS)


def test_the_message_action_is_the_command_the_adapter_handles() -> None:
    [extension] = manifest()["composeExtensions"]
    [command] = extension["commands"]
    assert command["id"] == CREATE_TICKET_COMMAND
    assert (command["type"], command["context"], command["fetchTask"]) == (
        "action",
        ["message"],
        True,
    )
    assert command["title"] == "Create a helpdesk ticket"


def test_the_icons_have_the_sizes_teams_requires() -> None:
    data = manifest()
    for name, size in ((data["icons"]["color"], 192), (data["icons"]["outline"], 32)):
        header = (MANIFEST_DIR / name).read_bytes()[:24]
        assert header[:8] == b"\x89PNG\r\n\x1a\n"
        assert struct.unpack(">II", header[16:24]) == (size, size)
