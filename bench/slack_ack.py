"""Slack ack: a burst of signed Events API requests to the server's `/slack/events`.

Slack retries an event that is not acknowledged within 3 s
(https://docs.slack.dev/apis/events-api#responding), so the figure is the time from sending
a request to its HTTP 200, for every event of a burst sent at once over as many connections
(as Slack does). Users are mixed (linked and unlinked), and so are DMs and @mentions, each
event the start of its own thread. Afterwards the fake Slack Web API says how many bot
messages each event's thread got: the answer, or the sign-in prompt for an unlinked user.

The floor: the same burst as messages the bot itself posted (`bot_id` set), which the server
acknowledges and drops with no work after the ack. It shows what sending 500 requests at
once costs this client and the server's HTTP stack, apart from the turns the real burst
starts on the same event loop.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

import aiohttp
import httpx
from slack_sdk.signature import SignatureVerifier

from bench.meter import percentile
from bench.serve_app import SIGNING_SECRET
from bench.servers import Urls
from tests.fakes.slack_api import APP_ID, BOT_ID, BOT_USER_ID, TEAM_ID

REPLY_TIMEOUT_S = 300.0
WARM_UP_EVENTS = 10


@dataclass(frozen=True)
class SentEvent:
    channel: str
    ts: str
    user: str
    linked: bool
    kind: str  # "dm" | "mention"


def slack_users(count: int, *, linked_share: float) -> tuple[list[str], list[str]]:
    """(linked, unlinked) Slack user ids."""
    users = [f"UB{i:04d}" for i in range(count)]
    cut = round(count * linked_share)
    return users[:cut], users[cut:]


def burst_events(
    count: int, linked: list[str], unlinked: list[str]
) -> list[tuple[SentEvent, dict[str, Any]]]:
    """`count` events alternating DM and mention, cycling over every user."""
    stamp = int(time.time()) - 100
    users = [(u, True) for u in linked] + [(u, False) for u in unlinked]
    events = []
    for number, (user, is_linked) in zip(range(count), itertools.cycle(users), strict=False):
        ts = f"{stamp}.{number:06d}"
        if number % 2 == 0:
            sent = SentEvent(f"D{user}", ts, user, is_linked, "dm")
            event = {"type": "message", "channel_type": "im", "channel": sent.channel}
            text = "My VPN keeps disconnecting, what can I do?"
        else:
            sent = SentEvent("CBENCH", ts, user, is_linked, "mention")
            event = {"type": "app_mention", "channel": sent.channel}
            text = f"<@{BOT_USER_ID}> my VPN keeps disconnecting, what can I do?"
        event |= {"user": user, "text": text, "ts": ts, "team": TEAM_ID}
        body = {
            "token": "legacy",
            "team_id": TEAM_ID,
            "api_app_id": APP_ID,
            "event": event,
            "type": "event_callback",
            "event_id": f"EvBench{number:06d}",
            "event_time": stamp,
            "authorizations": [{"team_id": TEAM_ID, "user_id": BOT_USER_ID, "is_bot": True}],
        }
        events.append((sent, body))
    return events


def signed(body: dict[str, Any], verifier: SignatureVerifier) -> tuple[str, dict[str, str]]:
    text = json.dumps(body)
    stamp = str(int(time.time()))
    return text, {
        "Content-Type": "application/json",
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": verifier.generate_signature(timestamp=stamp, body=text),
    }


async def send_burst(base_url: str, bodies: list[dict[str, Any]]) -> list[tuple[int, float]]:
    """POST every body at once (signed just before); (status, ack ms) per event.

    aiohttp's client, not httpx's: httpx's connection pool grows slow with hundreds of
    connections at once, which would be charged to the server's acks."""
    verifier = SignatureVerifier(SIGNING_SECRET)
    prepared = [signed(body, verifier) for body in bodies]
    timeout = aiohttp.ClientTimeout(total=60)
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:
        # One connection per event, opened (and kept alive) before the clock starts, as
        # Slack keeps its connections: the burst then measures requests, not TCP setup.
        await asyncio.gather(*(_touch(http, base_url) for _ in prepared))

        async def post(text: str, headers: dict[str, str]) -> tuple[int, float]:
            started = time.perf_counter()
            async with http.post(f"{base_url}/slack/events", data=text, headers=headers) as r:
                await r.read()
                return r.status, (time.perf_counter() - started) * 1000

        return await asyncio.gather(*(post(text, headers) for text, headers in prepared))


async def _touch(http: aiohttp.ClientSession, base_url: str) -> None:
    async with http.get(f"{base_url}/healthz") as response:
        await response.read()


def own_messages(bodies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The same events as the bot's own posts (dropped after the ack), with new ids."""
    own = json.loads(json.dumps(bodies))
    for body in own:
        body["event"] |= {"type": "message", "channel_type": "im", "bot_id": BOT_ID}
        body["event"]["channel"] = "D" + body["event"]["user"]
        body["event_id"] += "own"
    return own


async def replies_per_event(urls: Urls, sent: list[SentEvent]) -> dict[str, int]:
    """How many bot messages each event's thread holds now (ephemerals included)."""
    async with httpx.AsyncClient(timeout=30) as http:
        rows = (await http.get(f"{urls.control}/slack/messages")).json()["messages"]
    counts = Counter((row["channel"], row["thread_ts"]) for row in rows)
    return {event.ts: counts.get((event.channel, event.ts), 0) for event in sent}


async def wait_for_replies(urls: Urls, sent: list[SentEvent]) -> float:
    """Seconds until every event's thread has a bot message (or the deadline passes)."""
    started = time.monotonic()
    while time.monotonic() - started < REPLY_TIMEOUT_S:
        counts = await replies_per_event(urls, sent)
        if all(counts.values()):
            break
        await asyncio.sleep(0.5)  # polling another process's state, with a deadline
    return time.monotonic() - started


async def slack_ack(
    base_url: str, urls: Urls, *, events: int, linked: list[str], unlinked: list[str]
) -> tuple[dict[str, Any], list[SentEvent]]:
    pairs = burst_events(events, linked, unlinked)
    sent = [event for event, _ in pairs]
    own = own_messages([body for _, body in pairs])
    for body in own[:WARM_UP_EVENTS]:  # the app's first request authorizes it (auth.test)
        await send_burst(base_url, [body | {"event_id": body["event_id"] + "warm"}])
    floor = [ms for _, ms in await send_burst(base_url, own)]
    results = await send_burst(base_url, [body for _, body in pairs])
    acks = [ms for _, ms in results]
    all_answered_s = await wait_for_replies(urls, sent)
    figures = {
        "events": events,
        "linked_users": len(linked),
        "unlinked_users": len(unlinked),
        "non_200": sum(1 for status, _ in results if status != 200),
        "ack_p50_ms": round(percentile(acks, 50), 2),
        "ack_p99_ms": round(percentile(acks, 99), 2),
        "ack_max_ms": round(max(acks), 2),
        "floor_ack_p50_ms": round(percentile(floor, 50), 2),
        "floor_ack_p99_ms": round(percentile(floor, 99), 2),
        "acks_over_3s": sum(1 for ms in acks if ms > 3000),
        "all_answered_after_s": round(all_answered_s, 2),
    }
    return figures, sent


def reply_counts(counts: dict[str, int]) -> dict[str, int]:
    """Events by the number of bot messages they got: exactly one is right."""
    return {
        "events_with_no_reply": sum(1 for n in counts.values() if n == 0),
        "events_with_one_reply": sum(1 for n in counts.values() if n == 1),
        "events_with_more_replies": sum(1 for n in counts.values() if n > 1),
    }
