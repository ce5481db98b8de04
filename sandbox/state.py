"""The per-instance state of one sandbox: configuration, database, clock, faults, request log."""

from __future__ import annotations

import secrets
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from sandbox.db import Clock, Database

API_PREFIX = "/helpdesk/api/v1"
REQUEST_LOG_SIZE = 2000


@dataclass(frozen=True)
class SandboxConfig:
    """How to run a sandbox. `public_url` defaults to the origin the request came to."""

    db_path: str | None = None
    access_ttl: int = 3600
    public_url: str | None = None
    # Pause between the stand-in model's streamed chunks: 0 in tests, a little in demos so
    # that streaming is visible.
    model_stream_delay_s: float = 0.0


@dataclass
class Fault:
    """An injected failure or delay for matching API requests."""

    fault_id: int
    status: int | None
    rate: float
    latency_ms: int
    path_prefix: str
    count: int | None
    retry_after: int | None
    method: str | None

    def matches(self, method: str, api_path: str) -> bool:
        if self.count is not None and self.count <= 0:
            return False
        if self.method is not None and self.method != method:
            return False
        return api_path.startswith(self.path_prefix)

    def as_json(self) -> dict[str, Any]:
        return {
            "fault_id": self.fault_id,
            "status": self.status,
            "rate": self.rate,
            "latency_ms": self.latency_ms,
            "path_prefix": self.path_prefix,
            "count": self.count,
            "retry_after": self.retry_after,
            "method": self.method,
        }


@dataclass
class SandboxState:
    config: SandboxConfig
    db: Database
    clock: Clock
    jwt_secret: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    faults: list[Fault] = field(default_factory=list)
    next_fault_id: int = 1
    in_flight: int = 0  # API requests being handled now (see the request log)
    requests: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=REQUEST_LOG_SIZE))
    next_request_id: int = 1


STATE: web.AppKey[SandboxState] = web.AppKey("sandbox_state", SandboxState)


USER_EMAIL: web.RequestKey[str] = web.RequestKey("sandbox_user_email", str)


def state_of(request: web.Request) -> SandboxState:
    return request.config_dict[STATE]


def public_base(request: web.Request) -> str:
    """The origin that KB article URLs are built on."""
    configured = state_of(request).config.public_url
    if configured:
        return configured.rstrip("/")
    return str(request.url.origin())
