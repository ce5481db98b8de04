"""Fault 4: under a burst of Slack events every ack returns while the turns wait their turn.

Slack retries an event that is not acknowledged within 3 s. The channel acknowledges before
any database or helpdesk work and runs what follows through `WorkAfterAck`, a bounded number
at a time, so the event loop is never crowded by hundreds of turns at once. The fake Slack
holds the bot's replies so the test can see how much work is in flight: never more than the
bound, however many events were acknowledged. (Speed is measured in `bench/`, not here.)
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from adapters.slack.after_ack import WorkAfterAck
from sandbox.runner import RunningSandbox
from tests.contract.test_slack_http import SlackHarness, _serve, dm_event
from tests.fakes.slack_api import SlackApiFake
from tests.faults.ledger import LEDGER

USERS = 40  # more than the bound, so some acknowledged work must wait for a slot
REPLY = "chat.postMessage"  # an unlinked user's first answer: the sign-in message


@pytest.fixture
async def slack(sandbox: RunningSandbox, tmp_path: Path) -> AsyncIterator[SlackHarness]:
    async with SlackApiFake() as fake, _serve(sandbox, tmp_path, fake) as harness:
        yield harness


async def test_a_burst_is_acknowledged_while_at_most_the_bound_runs(slack: SlackHarness) -> None:
    work = slack.channels["slack"].work  # type: ignore[attr-defined]  # the Slack channel
    assert isinstance(work, WorkAfterAck)
    slack.fake.hold(REPLY)
    events = [dm_event(f"help me please, I am user {n}", user=f"UB{n}") for n in range(USERS)]

    acks = await asyncio.gather(*(slack.post_event(event) for event in events))

    # Every event was acknowledged though none of the turns could finish.
    assert [ack.status_code for ack in acks] == [200] * USERS
    assert work.waiting + work.running == USERS
    # The turns reach Slack a bounded number at a time: the bound are stuck in the held
    # call, the rest wait for a slot instead of crowding the event loop.
    await slack.fake.wait_for(lambda: slack.fake.held.get(REPLY) == work.limit, within=60)
    assert (work.running, work.waiting) == (work.limit, USERS - work.limit)
    assert slack.fake.held[REPLY] == work.limit

    slack.fake.release(REPLY)
    await slack.settle()
    LEDGER.injected_here()
    for event in events:
        received = [c.args.get("text", "") for c in slack.fake.calls_to(REPLY)
                    if c.args.get("channel") == event["channel"]]  # fmt: skip
        LEDGER.exchange(received)
        LEDGER.writes(len(received), expected=1)
        assert len(received) == 1, (event["channel"], received)
    assert (work.running, work.waiting) == (0, 0)
