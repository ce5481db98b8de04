"""How long a server asked us to wait: `Retry-After` (RFC 9110) and OpenAI's `retry-after-ms`.

One parser for the helpdesk client and both model providers.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Mapping
from typing import Any


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP-date (RFC 9110)."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # RFC 9110 dates are GMT; a naive parse means "-0000"
        return None
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)


def retry_after_from_headers(headers: Mapping[str, Any] | None) -> float | None:
    """Seconds to wait from response headers: `retry-after-ms` first, then `Retry-After`."""
    if headers is None:
        return None
    milliseconds = headers.get("retry-after-ms")
    if isinstance(milliseconds, str) and milliseconds.strip():
        try:
            return max(0.0, float(milliseconds) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    return parse_retry_after(value) if isinstance(value, str) else None
