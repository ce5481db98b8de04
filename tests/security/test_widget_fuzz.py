"""Hypothesis throws malformed frames and sign-in bodies at the widget: never a 500, never a
stack trace, and the socket that received them keeps answering.

One signed-in socket takes every generated frame of a test (that the same socket survives
them all is the point), each followed by a `ping` whose `pong` proves it still works.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import aiohttp
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.contract.test_web_support import Frame, WebApp, until, web_app
from tests.security.ledger import LEDGER

__all__ = ["web_app"]

FUZZ = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,  # the same frames on every CI run
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
LEAK_MARKS = ("Traceback", "Error:", "validation error", "pydantic", 'File "', "Exception")

json_leaves = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40)
)
json_values = st.recursive(
    json_leaves,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
kinds = st.sampled_from(["hello", "message", "action", "ping", "", "MESSAGE", "bye", "ack"])
frames = st.fixed_dictionaries(
    {"type": kinds | json_values},
    optional={
        "client_id": json_values | st.text(max_size=80),
        "text": json_values,
        "action_id": json_values,
        "value": json_values,
        "last_seq": json_values | st.integers(),
        "extra": json_values,
    },
)
raw_frames = (
    frames.map(json.dumps)
    | json_values.map(json.dumps)
    | st.text(max_size=200)  # mostly not JSON at all
    | frames.map(lambda frame: json.dumps(frame)[:-1])  # cut short
)


class Pinger:
    """The one socket of a test, opened on first use."""

    def __init__(self, web_app: WebApp) -> None:
        self._web_app = web_app
        self.ws: aiohttp.ClientWebSocketResponse | None = None

    async def socket(self) -> aiohttp.ClientWebSocketResponse:
        if self.ws is None:
            assert (await self._web_app.sign_in()).status == 200
            self.ws = await self._web_app.connect()
        return self.ws

    async def answers_to(self, raw: str) -> list[Frame]:
        """Every frame the server sent after `raw`, up to the pong of the ping behind it."""
        ws = await self.socket()
        await ws.send_str(raw)
        await ws.send_json({"type": "ping"})
        return await until(ws, lambda frame: frame["type"] == "pong")


def _clean(answers: list[Frame]) -> bool:
    """The socket answered with frames of the protocol, and none leaks an exception."""
    for frame in answers:
        if frame.get("type") == "error" and frame.get("code") not in ("bad_frame", "turn"):
            return False
        if any(mark in str(frame.get("text", "")) for mark in LEAK_MARKS):
            return False
    return answers[-1] == {"type": "pong"}


@pytest.fixture
def pinger(web_app: WebApp) -> Pinger:
    return Pinger(web_app)


@FUZZ
@given(raw=raw_frames)
async def test_malformed_frames_never_break_the_socket(
    pinger: Pinger, raw: str, error_records: list[logging.LogRecord]
) -> None:
    answers = await pinger.answers_to(raw)
    crashed = list(error_records)
    refused = _clean(answers) and not crashed
    LEDGER.outcome("widget malformed frame", refused=refused)
    assert refused, (raw, answers, [r.getMessage() for r in crashed])


async def test_oversized_frames_close_cleanly_and_the_server_keeps_serving(
    web_app: WebApp,
) -> None:
    assert (await web_app.sign_in()).status == 200
    ws = await web_app.connect()
    await ws.send_json({"type": "message", "client_id": "huge-frame-1", "text": "x" * 70_000})
    closing = await ws.receive(timeout=30)
    clean_close = closing.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
    LEDGER.outcome("widget frame over 64 KiB", refused=clean_close and ws.close_code == 1009)
    assert clean_close and ws.close_code == 1009

    again = await web_app.connect()  # the same user, a new socket: still served
    await again.send_json({"type": "message", "client_id": "large-msg-1", "text": "y" * 5000})
    [rejected] = await until(again, lambda frame: frame["type"] == "rejected")
    LEDGER.outcome("widget message over 4 KB", refused=rejected["reason"] == "too_large")
    assert rejected["client_id"] == "large-msg-1" and rejected["reason"] == "too_large"
    await again.send_bytes(b"\x00\xff" * 100)
    [binary] = await until(again, lambda frame: frame["type"] == "error")
    LEDGER.outcome("widget binary frame", refused=binary["code"] == "bad_frame")
    assert binary["code"] == "bad_frame"
    health = await web_app.client.get("/healthz")
    assert health.status == 200


sign_in_bodies = st.one_of(
    json_values.map(json.dumps),
    st.fixed_dictionaries(
        {}, optional={"email": json_values, "password": json_values, "access_token": json_values}
    ).map(json.dumps),
    st.text(max_size=100),
)


@FUZZ
@given(body=sign_in_bodies, content_type=st.sampled_from(["application/json", "text/plain"]))
async def test_malformed_sign_in_bodies_are_answered_without_a_500(
    web_app: WebApp, body: str, content_type: str, error_records: list[logging.LogRecord]
) -> None:
    response = await web_app.client.post(
        "/widget/session", data=body, headers={"Content-Type": content_type}
    )
    answer: dict[str, Any] = await response.json()
    refused = response.status in (400, 401, 415, 429) and "Set-Cookie" not in response.headers
    refused = refused and not any(mark in answer.get("message", "") for mark in LEAK_MARKS)
    refused = refused and not error_records
    LEDGER.outcome("widget malformed sign-in body", refused=refused)
    assert refused, (body, response.status, answer)
