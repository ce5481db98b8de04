"""Relay: an agent's message in the helpdesk chat → the user's Slack thread, and the polls.

Users ask for a person with `/helpdesk human` (a signed slash command to the server); each
handoff opens a helpdesk chat waiting for an agent. The agent then writes through the
sandbox's back office (what its agent console posts), and the latency is the time from that
request to the server's `chat.postMessage` carrying the text reaching the fake Slack (both
read the system's monotonic clock). The helpdesk's request log, cleared when the window
opens, gives the polls of `GET /chat/{id}/messages` per minute for each handed-off chat and
for each conversation the bot still owns (idle: nobody writes in it during the window).
"""

from __future__ import annotations

import asyncio
import random
import re
import time
import urllib.parse
from collections import Counter
from typing import Any

import httpx
from slack_sdk.signature import SignatureVerifier

from bench.meter import percentile
from bench.serve_app import RELAY_ACCOUNTS, SIGNING_SECRET
from bench.servers import Urls
from tests.fakes.slack_api import APP_ID, TEAM_ID

DELIVERY_TIMEOUT_S = 60.0
_POLL_PATH = re.compile(r"^/chat/(\d+)/messages$")


async def ask_for_humans(http: httpx.AsyncClient, urls: Urls, users: list[str]) -> None:
    verifier = SignatureVerifier(SIGNING_SECRET)
    respond = urls.slack_api.removesuffix("api/") + "respond/bench"
    for number, user in enumerate(users):
        body = urllib.parse.urlencode(
            {
                "token": "legacy",
                "team_id": TEAM_ID,
                "team_domain": "bench",
                "channel_id": f"D{user}",
                "channel_name": "directmessage",
                "user_id": user,
                "user_name": user.lower(),
                "command": "/helpdesk",
                "text": "human",
                "api_app_id": APP_ID,
                "response_url": respond,
                "trigger_id": f"bench-human-{number}",
            }
        )
        stamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": verifier.generate_signature(timestamp=stamp, body=body),
        }
        response = await http.post("/slack/events", content=body, headers=headers)
        response.raise_for_status()


async def chats_by_status(http: httpx.AsyncClient, urls: Urls) -> dict[str, list[int]]:
    rows = (await http.get(f"{urls.sandbox}/sandbox/chats")).json()["chats"]
    found: dict[str, list[int]] = {}
    for row in rows:
        found.setdefault(row["status"], []).append(int(row["chat_id"]))
    return found


async def wait_for_handoffs(http: httpx.AsyncClient, urls: Urls, count: int) -> list[int]:
    deadline = time.monotonic() + DELIVERY_TIMEOUT_S
    while time.monotonic() < deadline:
        waiting = (await chats_by_status(http, urls)).get("waiting_agent", [])
        if len(waiting) >= count:
            return waiting
        await asyncio.sleep(0.2)  # polling the helpdesk's state, with a deadline
    raise RuntimeError(f"only {len(waiting)} of {count} handoffs reached the helpdesk")


async def delivered_at(http: httpx.AsyncClient, urls: Urls, marker: str) -> float | None:
    rows = (
        await http.get(
            f"{urls.control}/slack/calls",
            params={"method": "chat.postMessage", "contains": marker},
        )
    ).json()["calls"]
    return min((row["at"] for row in rows if row["ok"]), default=None)


async def one_round(
    http: httpx.AsyncClient, urls: Urls, chats: list[int], round_number: int
) -> list[float]:
    """Every agent writes once; seconds until each message reached the user's thread."""
    sent: dict[str, float] = {}
    for chat in chats:
        marker = f"bench-relay-{chat}-{round_number}"
        sent[marker] = time.monotonic()
        response = await http.post(
            f"{urls.sandbox}/sandbox/chats/{chat}/agent-messages",
            json={"message": f"Agent here ({marker}): please restart the VPN client."},
        )
        response.raise_for_status()
    latencies: dict[str, float] = {}
    deadline = time.monotonic() + DELIVERY_TIMEOUT_S
    while len(latencies) < len(sent) and time.monotonic() < deadline:
        for marker, started in sent.items():
            if marker not in latencies:
                at = await delivered_at(http, urls, marker)
                if at is not None:
                    latencies[marker] = at - started
        await asyncio.sleep(0.05)  # polling the fake Slack's record, with a deadline
    missing = len(sent) - len(latencies)
    if missing:
        raise RuntimeError(f"{missing} agent message(s) never reached Slack")
    return list(latencies.values())


def polls_per_chat(requests: list[dict[str, Any]]) -> Counter[int]:
    counts: Counter[int] = Counter()
    for row in requests:
        match = _POLL_PATH.match(row["path"])
        if match and row["method"] == "GET":
            counts[int(match[1])] += 1
    return counts


def relay_users(count: int) -> dict[str, str]:
    """Slack users to hand off, each linked to a helpdesk account of its own."""
    if count > len(RELAY_ACCOUNTS):
        raise ValueError(f"at most {len(RELAY_ACCOUNTS)} handoffs: one per free sandbox account")
    return {f"UR{i:03d}": RELAY_ACCOUNTS[i] for i in range(count)}


async def relay(
    base_url: str, urls: Urls, *, users: list[str], rounds: int, window_s: float
) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
        before = set((await chats_by_status(http, urls)).get("waiting_agent", []))
        await ask_for_humans(http, urls, users)
        waiting = await wait_for_handoffs(http, urls, len(before) + len(users))
        handed = [c for c in waiting if c not in before]
        idle = (await chats_by_status(http, urls)).get("active", [])
        await http.delete(f"{urls.sandbox}/sandbox/requests")
        opened = time.monotonic()
        latencies: list[float] = []
        for round_number in range(rounds):
            latencies += await one_round(http, urls, handed, round_number)
            # Spread the messages over the relay's poll cycle, as agents typing would.
            await asyncio.sleep(random.uniform(0.2, 1.2))
        remaining = window_s - (time.monotonic() - opened)
        if remaining > 0:
            await asyncio.sleep(remaining)  # the measurement window itself
        log = (await http.get(f"{urls.sandbox}/sandbox/requests")).json()["requests"]
        minutes = (time.monotonic() - opened) / 60
    polls = polls_per_chat(log)
    return {
        "handed_off_chats": len(handed),
        "idle_conversations": len(idle),
        "agent_messages": len(latencies),
        "latency_p50_s": round(percentile(latencies, 50), 3),
        "latency_p95_s": round(percentile(latencies, 95), 3),
        "latency_max_s": round(max(latencies), 3),
        "polls_per_min_per_handed_off_chat": round(
            sum(polls[c] for c in handed) / len(handed) / minutes, 2
        ),
        "polls_per_min_per_idle_conversation": round(
            sum(polls[c] for c in idle) / max(1, len(idle)) / minutes, 2
        ),
        "window_s": round(minutes * 60, 1),
        "request_log_full": len(log) >= 2000,
    }
