"""`LOG_FORMAT=json helpdesk-bot chat`: the real CLI in its own process writes JSON lines, and
each turn's records share one correlation id with the terminal channel (`cli`) and conversation."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox.runner import SandboxThread


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxThread]:
    with SandboxThread() as running:
        yield running


def test_json_lines_follow_each_terminal_turn(sandbox: SandboxThread, tmp_path: Path) -> None:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("OPENAI_", "HELPDESK_", "LLM_", "DATABASE_", "BOT_", "LOG_"))
    }
    env |= {
        "HELPDESK_BASE_URL": sandbox.api_base,
        "OPENAI_BASE_URL": f"{sandbox.base_url}/v1",
        "LLM_MODEL": "sandbox-stand-in",
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
        "LOG_FORMAT": "json",
    }
    completed = subprocess.run(
        [sys.executable, "-m", "adapters.cli", "--log-level", "DEBUG", "chat",
         "--user", "jane@acme.example", "--password", "demo-jane"],
        input="Is the VPN down?\nWhat is the status of ticket 3018?\n",
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=240,
        check=False,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr[-3000:]

    records = [json.loads(line) for line in completed.stderr.splitlines() if line.strip()]
    helpdesk = [r for r in records if r["logger"] == "bot.helpdesk.transport"]
    in_turns = [r for r in helpdesk if r["correlation_id"] != "-"]
    assert {(r["channel"], r["conversation"] != "-") for r in in_turns} == {("cli", True)}
    turns = {r["correlation_id"] for r in in_turns}
    assert len(turns) == 2  # one id per message typed, on every helpdesk call of its turn
    assert {r["level"] for r in records} >= {"DEBUG"}
