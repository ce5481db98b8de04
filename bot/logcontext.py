"""Stamps every log record with the channel and conversation of the turn that wrote it.

The engine sets the context when a turn starts; `ContextFilter` (installed on the process's
log handler by the CLI) copies it onto each record as `channel` and `conversation`, so one
grep follows a conversation through the engine, the tools and the helpdesk client. Message
content and tokens are never logged; ids are.
"""

from __future__ import annotations

import logging
from contextvars import ContextVar

_channel: ContextVar[str] = ContextVar("log_channel", default="-")
_conversation: ContextVar[str] = ContextVar("log_conversation", default="-")


def set_log_context(*, channel: str, conversation: int | str) -> None:
    """Stamp later records of this task (and tasks it starts) with this turn's ids."""
    _channel.set(channel)
    _conversation.set(str(conversation))


class ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.channel = _channel.get()
        record.conversation = _conversation.get()
        return True
