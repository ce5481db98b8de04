"""Acks first: work after an ack does not start while Slack requests are being acknowledged,
and starts once none are in flight — or after a bounded delay, so a steady stream of
requests cannot hold it back for ever.

A request is held "in flight" for real: its signed body is sent in two chunks and the
second waits for the test, so the server's handler is inside `acknowledging()` reading it.
Real app, real store, the fake Slack Web API; assertions are counts and the calls that
reached the fake, never durations.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest

from adapters.slack.after_ack import WorkAfterAck
from sandbox.runner import RunningSandbox
from tests.contract.test_slack_http import SlackHarness, _serve, dm_event, event_body
from tests.fakes.slack_api import SlackApiFake

REPLY = "chat.postMessage"  # an unlinked user's first answer: the sign-in message
AN_HOUR_S = 3600.0  # a deferral bound no test outlasts: only "no acks in flight" lets work start


@pytest.fixture
async def slack(sandbox: RunningSandbox, tmp_path: Path) -> AsyncIterator[SlackHarness]:
    async with SlackApiFake() as fake, _serve(sandbox, tmp_path, fake) as harness:
        yield harness


def work_of(slack: SlackHarness) -> WorkAfterAck:
    work = slack.channels["slack"].work  # type: ignore[attr-defined]  # the Slack channel
    assert isinstance(work, WorkAfterAck)
    return work


async def until(check: Callable[[], bool], *, within: float = 30.0) -> None:
    """Wait (deadline, not a timing assertion) for a counter of the server's to reach a
    state: the counters have no event to wait on, so they are polled until the deadline."""
    async with asyncio.timeout(within):
        while not check():  # noqa: ASYNC110 — polling a plain counter, bounded by `within`
            await asyncio.sleep(0.01)


def held_event(
    slack: SlackHarness, user: str, release: asyncio.Event
) -> asyncio.Task[httpx.Response]:
    """A signed DM whose body's second half is sent only once `release` is set."""
    body = json.dumps(event_body(dm_event("are you there?", user=user), f"EvHeld{user}"))
    headers = {"Content-Type": "application/json", **slack.signed_headers(body)}

    async def chunks() -> AsyncIterator[bytes]:
        yield body[:20].encode()
        await release.wait()
        yield body[20:].encode()

    return asyncio.create_task(slack.http.post("/slack/events", content=chunks(), headers=headers))


def replies_to(slack: SlackHarness, user: str) -> int:
    return sum(c.args.get("channel") == f"D{user}" for c in slack.fake.calls_to(REPLY))


async def test_no_work_starts_while_a_request_is_in_flight_and_all_of_it_after(
    slack: SlackHarness,
) -> None:
    work = work_of(slack)
    work.defer_s = AN_HOUR_S
    release = asyncio.Event()
    held = held_event(slack, "UH1", release)
    await until(lambda: work.acks_in_flight == 1)

    acks = [await slack.post_event(dm_event(f"hello {n}", user=f"UA{n}")) for n in range(3)]

    # Acknowledged one after another while the held request is in flight: nothing started.
    assert [a.status_code for a in acks] == [200] * 3
    assert (work.waiting, work.running) == (3, 0)
    assert slack.fake.calls_to(REPLY) == []

    release.set()
    assert (await held).status_code == 200
    await slack.settle()
    assert [replies_to(slack, u) for u in ("UA0", "UA1", "UA2", "UH1")] == [1, 1, 1, 1]
    assert (work.waiting, work.running, work.acks_in_flight) == (0, 0, 0)
    assert work.deferred_past_deadline == 0  # they started because the acks were done


async def test_requests_always_in_flight_still_let_work_start_after_the_bound(
    slack: SlackHarness,
) -> None:
    work = work_of(slack)
    release = asyncio.Event()
    held = held_event(slack, "UH2", release)  # never finishes until the end: a steady stream
    await until(lambda: work.acks_in_flight == 1)

    assert (await slack.post_event(dm_event("hello", user="UB1"))).status_code == 200
    await slack.fake.wait_for(lambda: replies_to(slack, "UB1") == 1, within=60)

    assert work.acks_in_flight == 1  # it started while the held request was still in flight
    assert work.deferred_past_deadline == 1
    release.set()
    assert (await held).status_code == 200
    await slack.settle()
