"""Fault 2: what anyone who reaches the port can make the process log is bounded.

The real server (create_app + the Slack mount) logs through a handler set up the way
`helpdesk-bot serve` sets up its own (`bot.logging_setup.install`).
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from adapters.cli import LOG_FORMAT
from bot.logging_setup import MAX_MESSAGE_CHARS
from sandbox.runner import RunningSandbox
from tests.contract.test_slack_http import _serve, dm_event, event_body
from tests.fakes.slack_api import SlackApiFake
from tests.faults.ledger import LEDGER
from tests.log_capture import root_logs_to

MARKER = "private-words-of-a-user"


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    with root_logs_to(io.StringIO(), fmt=LOG_FORMAT, level=logging.INFO) as stream:
        yield stream


async def _raw(port: int, request: bytes) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request)
        await writer.drain()
        async with asyncio.timeout(10):
            return await reader.read(1024)
    finally:
        writer.close()


async def test_unsigned_bodies_and_malformed_headers_log_one_bounded_line(
    sandbox: RunningSandbox, tmp_path: Path, captured: io.StringIO
) -> None:
    async with SlackApiFake() as fake, _serve(sandbox, tmp_path, fake) as slack:
        body = json.dumps(event_body(dm_event(MARKER + " " + "x" * 900_000), "EvUnsigned"))
        LEDGER.injected_here(2)
        refused = await slack.http.post(
            "/slack/events",
            content=body,
            headers={
                "Content-Type": "application/json",
                "X-Slack-Request-Timestamp": "1",
                "X-Slack-Signature": "v0=" + "0" * 64,
            },
        )
        assert refused.status_code == 401
        port = urlsplit(str(slack.http.base_url)).port
        assert port is not None
        answer = await _raw(port, b"GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header Line\r\n\r\n")
        assert b" 400 " in answer.split(b"\r\n")[0]
    log = captured.getvalue()
    assert MARKER not in log, "a request body reached the log"
    assert "invalid signature (body not logged)" in log
    assert max(len(line) for line in log.splitlines()) < MAX_MESSAGE_CHARS + 200
    assert "Traceback" not in log
    bad = [line for line in log.splitlines() if "Bad HTTP request" in line]
    assert len(bad) == 1 and " WARNING aiohttp.server " in bad[0], log[-2000:]
