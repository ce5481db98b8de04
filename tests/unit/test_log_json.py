"""`LOG_FORMAT=json` keeps the log-hygiene bounds: one valid JSON object a line, however long
the message or the traceback, and the context fields on records written outside any turn."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from bot.logcontext import ContextFilter
from bot.logging_setup import MAX_MESSAGE_CHARS, MAX_TRACE_CHARS, install


@pytest.fixture
def logger() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(ContextFilter())
    install(handler, fmt="%(message)s", output="json")
    log = logging.getLogger("tests.json_lines")
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False
    try:
        yield log, stream
    finally:
        log.removeHandler(handler)
        log.propagate = True


def lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_a_huge_message_is_one_bounded_json_line(
    logger: tuple[logging.Logger, io.StringIO],
) -> None:
    log, stream = logger
    log.warning("payload %s", "x" * 50_000)

    [line] = lines(stream)
    assert line["level"] == "WARNING" and line["logger"] == "tests.json_lines"
    assert str(line["message"]).startswith("payload xxx")
    assert len(str(line["message"])) < MAX_MESSAGE_CHARS + 100
    assert (line["correlation_id"], line["channel"], line["conversation"]) == ("-", "-", "-")
    assert len(stream.getvalue()) < MAX_MESSAGE_CHARS + 400


def test_a_huge_traceback_is_bounded_inside_the_line(
    logger: tuple[logging.Logger, io.StringIO],
) -> None:
    log, stream = logger
    try:
        raise ValueError("y" * 50_000)
    except ValueError:
        log.exception("failed")

    [line] = lines(stream)
    assert line["message"] == "failed"
    assert "ValueError" in str(line["exc"])
    assert len(str(line["exc"])) < MAX_TRACE_CHARS + 100
