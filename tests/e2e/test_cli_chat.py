"""`helpdesk-bot chat`, scripted through a pipe, against a sandbox helpdesk and its stand-in model.

The process under test is the real CLI in its own process; the sandbox runs beside it, so
what reached the helpdesk (its request log) and what the model was sent (the stand-in's
request log) can be read from outside.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from sandbox.runner import SandboxThread

BUDGET = 4000
KB_QUESTIONS = [
    "How do I set up Okta Verify on a new phone?",
    "How do I add a printer?",
    "How can I share my calendar?",
    "Outlook on my phone is not syncing",
    "How do I request a new laptop?",
    "What is the password policy?",
    "How do I report a phishing email?",
    "My laptop asks for a BitLocker recovery key",
    "How do I connect to the office Wi-Fi?",
    "How do I get Slack access?",
    "OneDrive is not syncing my files",
    "How do I use remote desktop to my office PC?",
]


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxThread]:
    with SandboxThread() as running:
        yield running


def run_cli(
    sandbox: SandboxThread, tmp_path: Path, lines: list[str], *, password: str
) -> subprocess.CompletedProcess[str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("OPENAI_", "HELPDESK_", "LLM_", "DATABASE_", "BOT_"))
    }
    env |= {
        "HELPDESK_BASE_URL": sandbox.api_base,
        "OPENAI_BASE_URL": f"{sandbox.base_url}/v1",
        "LLM_MODEL": "sandbox-stand-in",
        "LLM_INPUT_TOKEN_BUDGET": str(BUDGET),
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
    }
    completed = subprocess.run(
        [sys.executable, "-m", "adapters.cli", "chat", "--user", "jane@acme.example",
         "--password", password],
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=240,
        check=False,
    )  # fmt: skip
    return completed


def run_chat(sandbox: SandboxThread, tmp_path: Path, lines: list[str]) -> str:
    completed = run_cli(sandbox, tmp_path, lines, password="demo-jane")
    assert completed.returncode == 0, completed.stderr[-3000:]
    return completed.stdout


def test_a_refused_password_is_one_line_and_exit_1(sandbox: SandboxThread, tmp_path: Path) -> None:
    completed = run_cli(sandbox, tmp_path, ["hello"], password="not-her-password")
    assert completed.returncode == 1
    assert completed.stderr.splitlines()[-1:] == [
        "helpdesk-bot: the helpdesk refused that email or password"
    ], completed.stderr[-3000:]
    assert "Traceback" not in completed.stderr and "you>" not in completed.stdout


def test_scripted_chat_session_against_the_sandbox(sandbox: SandboxThread, tmp_path: Path) -> None:
    httpx.post(f"{sandbox.base_url}/sandbox/reset").raise_for_status()
    httpx.delete(f"{sandbox.base_url}/sandbox/model/requests").raise_for_status()
    script = [
        "My VPN keeps disconnecting, how do I fix it?",
        "Is the VPN down?",
        "What is the status of ticket 3018?",
        "Please open a ticket: my VPN keeps disconnecting every 10 minutes",
        "yes",
        "yes",
        *KB_QUESTIONS,
    ]
    out = run_chat(sandbox, tmp_path, script)

    vpn_answer = out.split("you> Is the VPN down?")[0]
    assert re.search(r"source \[1\] .*VPN.* — http://", vpn_answer), vpn_answer
    outage = out.split("you> Is the VPN down?")[1].split("you> ")[0]
    assert "degraded" in outage.lower() and "main office" in outage.lower()
    status = out.split("you> What is the status of ticket 3018?")[1].split("you> ")[0]
    assert "Printer not working" in status and "open" in status
    assert "confirm> Create a ticket" in out
    assert "\n  reply yes to confirm or no to cancel" in out
    assert len(re.findall(r"Created ticket \*\*\d{4}\*\*", out)) == 1, out

    log = httpx.get(
        f"{sandbox.base_url}/sandbox/requests", params={"path_prefix": "/tickets", "method": "POST"}
    ).json()["requests"]
    assert [row["path"] for row in log].count("/tickets") == 1

    model_log = httpx.get(f"{sandbox.base_url}/sandbox/model/requests").json()["requests"]
    sizes = [row["input_tokens_est"] for row in model_log if row["tools_offered"]]
    assert len(sizes) >= 2 * len(KB_QUESTIONS)
    assert max(sizes) <= BUDGET, sizes
    tail = sizes[-12:]  # long after the budget was reached: flat, not growing
    # A turn's requests grow by its tool results, and a fold takes several old turns at
    # once (hysteresis), so the first request after a fold is smaller than the last before.
    assert max(tail) - min(tail) <= BUDGET * 0.35, sizes
    assert tail[-1] <= max(sizes[: len(sizes) // 2]) * 1.1, sizes
