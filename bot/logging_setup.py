"""Log hygiene for the process's handlers: bounded lines, no request content, no tracebacks
for malformed requests anyone can send.

- Every record's message is capped at ``MAX_MESSAGE_CHARS`` (and a traceback at
  ``MAX_TRACE_CHARS``), so nobody can fill the disk with one request.
- slack_bolt logs the whole body of a request that fails signature verification at INFO
  (``RequestVerification._debug_log_error``); unless content logging is on, that line is
  replaced by one without the body or the signature.
- Credentials are masked in every line, whatever logged them and even with content logging
  on: JWTs (helpdesk tokens, link tokens), `Bearer` values, Slack tokens, the value of a
  `Cookie`/`Set-Cookie` header and `access_token=`-style query parameters. httpcore logs
  response headers at DEBUG (the helpdesk's session cookie), and an access log would carry
  a link's path (`/link/<token>`) and an OAuth callback's query.
- aiohttp logs ERROR with a traceback for every malformed request line or header
  (``RequestHandler.handle_error``); a client's mistake becomes one WARNING line naming the
  error class, without the traceback.

Installed on handlers (not loggers), because a logger's filters do not see records of its
child loggers (``slack_bolt.AsyncApp``, ...).

``LOG_FORMAT=json`` swaps the text formatter for ``JsonLinesFormatter``: one JSON object per
record (time, level, logger, message, correlation_id, channel, conversation, and the
bounded traceback as ``exc`` when there is one), for log pipelines that index fields.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime
from typing import Literal

__all__ = [
    "MAX_MESSAGE_CHARS",
    "BoundedFormatter",
    "JsonLinesFormatter",
    "LogHygiene",
    "install",
    "mask_credentials",
]

MAX_MESSAGE_CHARS = 2000
MAX_TRACE_CHARS = 8000
_SLACK_UNSIGNED = "Invalid request signature detected"
_CLIENT_ERROR_MODULE = "aiohttp.http_exceptions"


MASK = "[masked]"
_CREDENTIALS = re.compile(
    r"""
      (?P<jwt>eyJ[\w-]{4,}\.[\w-]+\.[\w-]*)
    | (?P<bearer>(?i:bearer)\s+)[\w.~+/=-]{8,}
    | (?P<slack>xox[abposre]-[\w-]{6,}|xapp-[\w-]{6,})
    | (?P<cookie>(?i:set-cookie|cookie)['"]?\s*[:,]\s*b?['"]?[^=;'"\s]+=)[^;'"\s]+
    | (?P<param>(?:(?i:access_token|refresh_token|id_token|client_secret|password)
                 |(?<=[?&])code)=)[^&\s'"]+
    """,
    re.VERBOSE,
)


def mask_credentials(text: str) -> str:
    """`text` with every credential shape above replaced by a mask."""

    def masked(match: re.Match[str]) -> str:
        keep = match.group("bearer") or match.group("cookie") or match.group("param") or ""
        return keep + MASK

    return _CREDENTIALS.sub(masked, text)


def _bounded(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… [{len(text) - limit} more chars]"


def _is_client_error(exc: BaseException | None) -> bool:
    """A malformed request (bad request line, header, chunking): the client's mistake."""
    return exc is not None and any(
        cls.__module__ == _CLIENT_ERROR_MODULE for cls in type(exc).__mro__
    )


class LogHygiene(logging.Filter):
    def __init__(self, *, log_content: bool = False, max_chars: int = MAX_MESSAGE_CHARS) -> None:
        super().__init__()
        self._log_content = log_content
        self._max_chars = max_chars

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.startswith("aiohttp.server") and record.exc_info:
            exc = record.exc_info[1]
            if _is_client_error(exc):
                remote = record.args[0] if isinstance(record.args, tuple) and record.args else "-"
                record.msg = "Bad HTTP request from %s: %s"
                record.args = (remote, type(exc).__name__)
                record.levelno, record.levelname = logging.WARNING, "WARNING"
                record.exc_info, record.exc_text = None, None
        if (
            not self._log_content
            and record.name.startswith("slack_bolt")
            and isinstance(record.msg, str)
            and record.msg.startswith(_SLACK_UNSIGNED)
        ):
            record.msg = "Slack request refused: invalid signature (body not logged)"
            record.args = ()
        message = record.getMessage()
        clean = mask_credentials(message)
        if len(clean) > self._max_chars:
            clean = _bounded(clean, self._max_chars)
        if clean != message:
            record.msg, record.args = clean, ()
        return True


class BoundedFormatter(logging.Formatter):
    """A formatter whose tracebacks (and stack info) are capped too."""

    def formatException(self, ei: object) -> str:
        trace = super().formatException(ei)  # type: ignore[arg-type]
        return _bounded(mask_credentials(trace), MAX_TRACE_CHARS)

    def formatStack(self, stack_info: str) -> str:
        return _bounded(super().formatStack(stack_info), MAX_TRACE_CHARS)


class JsonLinesFormatter(BoundedFormatter):
    """One JSON object per record, on one line; the context fields come from
    `bot.logcontext.ContextFilter` ("-" when a record was written outside any turn)."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "correlation_id": getattr(record, "correlation_id", "-"),
            "channel": getattr(record, "channel", "-"),
            "conversation": getattr(record, "conversation", "-"),
        }
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def install(
    handler: logging.Handler,
    *,
    fmt: str,
    log_content: bool = False,
    output: Literal["text", "json"] = "text",
) -> None:
    """Put the hygiene filter and the bounded formatter (text `fmt`, or JSON lines) on one
    handler."""
    handler.addFilter(LogHygiene(log_content=log_content))
    handler.setFormatter(JsonLinesFormatter() if output == "json" else BoundedFormatter(fmt))
