"""Stamps every log record with the turn that wrote it: correlation id, channel, conversation.

The engine starts a turn's context (`start_turn`: a fresh correlation id) when a turn or a
resumed question starts; the relay does the same for each pass over a conversation in
handoff. `ContextFilter` (installed on the process's log handler by the CLI) copies the
context onto each record as `correlation_id`, `channel` and `conversation`, so one grep —
or one JSON query — follows a turn through the engine, the tools, the helpdesk client and
the channel's delivery. Message content and tokens are never logged; ids are.
"""

from __future__ import annotations

import logging
import uuid
from contextvars import ContextVar

_channel: ContextVar[str] = ContextVar("log_channel", default="-")
_conversation: ContextVar[str] = ContextVar("log_conversation", default="-")
_correlation: ContextVar[str] = ContextVar("log_correlation", default="-")


def start_turn(*, channel: str, conversation: int | str = "-") -> str:
    """A new correlation id for the work starting now (a turn, a resume, a relay pass);
    later records of this task (and of tasks it starts) carry it. Returns the id."""
    correlation = uuid.uuid4().hex[:16]
    _correlation.set(correlation)
    set_log_context(channel=channel, conversation=conversation)
    return correlation


def set_log_context(*, channel: str, conversation: int | str) -> None:
    """Stamp later records of this task (and tasks it starts) with this turn's ids."""
    _channel.set(channel)
    _conversation.set(str(conversation))


def correlation_id() -> str:
    """The correlation id of the current turn ("-" outside one)."""
    return _correlation.get()


class ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.correlation_id = _correlation.get()
        record.channel = _channel.get()
        record.conversation = _conversation.get()
        return True
