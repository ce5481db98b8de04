"""Slack requests that are not signed by Slack, or replayed, never start a turn."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from sandbox.runner import RunningSandbox
from tests.contract.test_slack_http import SlackHarness, _serve, dm_event, event_body
from tests.fakes.slack_api import SlackApiFake
from tests.security.ledger import LEDGER


@pytest.fixture
async def slack(sandbox: RunningSandbox, tmp_path: Path) -> AsyncIterator[SlackHarness]:
    async with SlackApiFake() as fake, _serve(sandbox, tmp_path, fake) as harness:
        yield harness


def _answers(slack: SlackHarness) -> int:
    return len(slack.fake.calls_to("chat.postMessage")) + len(
        slack.fake.calls_to("chat.startStream")
    )


def _forged(slack: SlackHarness, body: str) -> dict[str, dict[str, str]]:
    good = slack.signed_headers(body)
    stale = slack.signed_headers(body, timestamp=int(time.time()) - 600)
    return {
        "missing signature": {"X-Slack-Request-Timestamp": good["X-Slack-Request-Timestamp"]},
        "missing timestamp": {"X-Slack-Signature": good["X-Slack-Signature"]},
        "bad signature": {**good, "X-Slack-Signature": "v0=" + "0" * 64},
        "wrong version": {
            **good,
            "X-Slack-Signature": good["X-Slack-Signature"].replace("v0=", "v1="),
        },
        "stale timestamp": stale,
        "future timestamp": slack.signed_headers(body, timestamp=int(time.time()) + 600),
        "signed with another secret": {
            **good,
            "X-Slack-Signature": "v0=" + "a" * 64,
        },
    }


async def test_unsigned_forged_and_stale_requests_are_refused(slack: SlackHarness) -> None:
    body = json.dumps(event_body(dm_event("create a ticket for me"), "EvForged"))
    for name, headers in _forged(slack, body).items():
        response = await slack.http.post(
            "/slack/events", content=body, headers={"Content-Type": "application/json", **headers}
        )
        LEDGER.outcome(f"slack {name}", refused=response.status_code == 401)
    tampered = body.replace("create a ticket", "approve ticket 3012")
    response = await slack.http.post(
        "/slack/events",
        content=tampered,
        headers={"Content-Type": "application/json", **slack.signed_headers(body)},
    )
    LEDGER.outcome("slack body changed after signing", refused=response.status_code == 401)
    await slack.settle()
    assert _answers(slack) == 0
    assert not LEDGER.in_this_test(), LEDGER.in_this_test()


async def test_a_replayed_event_is_answered_once(slack: SlackHarness) -> None:
    event = dm_event("hello")
    first = await slack.post_event(event, event_id="EvReplay")
    assert first.status_code == 200
    await slack.answer_in(event["channel"], event["ts"])
    await slack.settle()
    answered = _answers(slack)
    for retry in (1, 2):  # Slack's own retries, and an attacker replaying a captured request
        again = await slack.post_event(event, event_id="EvReplay", retry=retry)
        assert again.status_code == 200
    replay = await slack.post_event(event, event_id="EvReplayOther")  # same message, new id
    assert replay.status_code == 200
    await slack.settle()
    LEDGER.outcome("slack replayed event", refused=_answers(slack) == answered)
    assert _answers(slack) == answered
