"""The widget's edge checks as pure code: client frames, the message cap, rate limits, origins.

Nothing here does I/O, so every rule is unit-tested without a socket (`tests/unit/`).
`web_socket` and `web_session` call these and turn the results into frames and responses.
"""

from __future__ import annotations

import json
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from bot import prompts

MAX_MESSAGE_BYTES = 4096  # the user's text, UTF-8 encoded
MAX_FRAME_BYTES = 64 * 1024  # larger WebSocket frames close the connection (aiohttp 1009)
RATE_LIMIT = 20  # messages and button presses per user ...
RATE_WINDOW_S = 60.0  # ... per minute

ClientId = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{8,64}$")]


class _Frame(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class HelloFrame(_Frame):
    """Sent on every (re)connect: the highest transcript seq the page has shown."""

    type: Literal["hello"]
    last_seq: int = Field(default=0, ge=0)


class MessageFrame(_Frame):
    type: Literal["message"]
    client_id: ClientId
    text: str = Field(min_length=1, max_length=MAX_FRAME_BYTES)


class ActionFrame(_Frame):
    type: Literal["action"]
    client_id: ClientId
    action_id: str = Field(min_length=1, max_length=200)
    value: str | None = Field(default=None, max_length=200)


class PingFrame(_Frame):
    type: Literal["ping"]


ClientFrame = Annotated[
    HelloFrame | MessageFrame | ActionFrame | PingFrame, Field(discriminator="type")
]
_CLIENT_FRAME: TypeAdapter[ClientFrame] = TypeAdapter(ClientFrame)


@dataclass(frozen=True, slots=True)
class BadFrame:
    """A frame the server cannot use; the connection stays open."""

    text: str


@dataclass(frozen=True, slots=True)
class Rejected:
    """A well-formed message the server will not take (too large, too fast, failed)."""

    client_id: str
    reason: Literal["too_large", "rate_limited", "failed", "shutting_down"]
    text: str
    retry_after_s: float | None = None


def rate_limited_text(retry_after_s: float) -> str:
    seconds = max(1, round(retry_after_s))
    if seconds == 1:
        return prompts.reply("web_too_fast_one_second")
    return prompts.reply("web_too_fast", seconds=seconds)


def parse_client_frame(raw: str) -> HelloFrame | MessageFrame | ActionFrame | PingFrame | BadFrame:
    """A client frame, or why it is not one (said so the user can act on it)."""
    try:
        data = json.loads(raw)
    except ValueError:
        return BadFrame(prompts.reply("web_frame_not_json"))
    if not isinstance(data, dict):
        return BadFrame(prompts.reply("web_frame_not_object"))
    try:
        return _CLIENT_FRAME.validate_python(data)
    except ValidationError as exc:
        where = ", ".join(".".join(map(str, error["loc"])) or "frame" for error in exc.errors())
        return BadFrame(prompts.reply("web_frame_unusable", where=where))


def check_message_size(frame: MessageFrame) -> Rejected | None:
    if len(frame.text.encode("utf-8")) > MAX_MESSAGE_BYTES:
        return Rejected(frame.client_id, "too_large", prompts.reply("web_too_long"))
    return None


@dataclass
class RateLimiter:
    """A sliding-window limit per key (a user, an IP address).

    A token already counted in the window (the same client message id sent again after a
    reconnect) passes without counting twice, so resending the outbox never trips the limit.
    """

    limit: int = RATE_LIMIT
    window_s: float = RATE_WINDOW_S
    clock: Callable[[], float] = time.monotonic
    _events: dict[str, deque[tuple[float, str | None]]] = field(default_factory=dict)

    def check(self, key: str, token: str | None = None) -> float | None:
        """Count one event; None when allowed, else the seconds until one is allowed."""
        now = self.clock()
        events = self._events.setdefault(key, deque())
        while events and events[0][0] <= now - self.window_s:
            events.popleft()
        if token is not None and any(seen == token for _, seen in events):
            return None
        if len(events) >= self.limit:
            return events[0][0] + self.window_s - now
        events.append((now, token))
        self._prune(now)
        return None

    def _prune(self, now: float) -> None:
        if len(self._events) < 1024:
            return
        stale = [k for k, v in self._events.items() if not v or v[-1][0] <= now - self.window_s]
        for key in stale:
            del self._events[key]


# --- origins -----------------------------------------------------------------------------

_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


def normalize_origin(url: str) -> str | None:
    """`scheme://host[:port]` as a browser writes it in `Origin` (lowercase, no default
    port, no path); None for anything that is not an http(s) origin."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        return None
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        host = f"{host}:{port}"
    return f"{scheme}://{host}"


@dataclass(frozen=True)
class OriginPolicy:
    """Which page origins may use the widget's session POSTs and WebSocket.

    Allowed: the bot's own origin (`BOT_PUBLIC_URL`, where the chat frame lives), every
    origin in `WIDGET_ALLOWED_ORIGINS`, and the origin the request itself was addressed to
    (a same-origin request: the frame or demo page reached under another name, e.g.
    `localhost` instead of `127.0.0.1`; a page on another site can never send it). A request
    without `Origin` comes from a non-browser client, which cookies-based CSRF cannot
    reach, and is allowed; `Origin: null` (sandboxed frames, files) is refused.
    """

    own_origin: str
    extra: frozenset[str] = frozenset()

    @classmethod
    def from_settings(cls, public_url: str, allowed: Iterable[str]) -> OriginPolicy:
        own = normalize_origin(public_url) or public_url
        extra = {normalized for o in allowed if (normalized := normalize_origin(o))}
        return cls(own_origin=own, extra=frozenset(extra - {own}))

    @property
    def allowed(self) -> frozenset[str]:
        return self.extra | {self.own_origin}

    def allows(self, origin: str | None, *, request_origin: str | None = None) -> bool:
        if origin is None:
            return True
        normalized = normalize_origin(origin)
        if normalized is None:
            return False
        if normalized in self.allowed:
            return True
        return request_origin is not None and normalized == normalize_origin(request_origin)

    def frame_ancestors(self) -> str:
        """The CSP `frame-ancestors` value: which pages may embed the chat frame."""
        return " ".join(["'self'", *sorted(self.allowed)])
