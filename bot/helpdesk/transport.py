"""Sends one Helpdesk API request: deadlines, bounded retries, token refresh, error mapping.

Retry policy (the "why" of each rule):
- Status codes are classified by what they guarantee about the write:
  a connect-phase failure (ConnectError, ConnectTimeout, PoolTimeout) means the request never
  left this process, and 429 and 503 mean the server refused it before acting (RFC 9110
  15.6.4: "currently unable to handle the request"): all three are retried for ANY request,
  and when the budget runs out they raise a plain ``HelpdeskUnavailable``/``RateLimited`` —
  nothing was written, so the caller may say so.
- 502/504, read timeouts and dropped connections come after the request was sent to something
  that may have passed it on: retried only for idempotent requests; for a non-idempotent one
  (creating a ticket, posting a comment) the server may already have acted, so it raises
  ``OutcomeUnknown`` instead of risking a duplicate.
- Retries share one budget (default 10 s) measured from the first attempt; a Retry-After
  longer than what is left raises ``RateLimited`` at once instead of sleeping in vain.
- A 401 on an authenticated call refreshes the user's access token once (single-flight per
  user, see ``TokenRefresher``) and repeats the call once.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from bot import metrics
from bot.helpdesk.errors import (
    HelpdeskError,
    HelpdeskUnavailable,
    MalformedResponse,
    OutcomeUnknown,
    RateLimited,
    error_for_status,
)
from bot.retry_after import parse_retry_after

__all__ = ["RetryPolicy", "Transport", "parse_retry_after"]

log = logging.getLogger(__name__)

# The request passed a gateway that got no (good) answer upstream: the write may have happened.
_GATEWAY_STATUSES = frozenset({502, 504})
# The server refused the request before acting on it: safe to repeat any request.
_REFUSED_STATUSES = frozenset({503})
# Raised before a single byte of the request was sent: safe to repeat any request.
_NEVER_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)

Params = Mapping[str, str | int | bool]


@dataclass(frozen=True)
class RetryPolicy:
    """How long to keep retrying, and how long to wait between attempts without advice."""

    budget: float = 10.0
    backoff_base: float = 0.5
    backoff_max: float = 8.0

    def backoff(self, attempt: int) -> float:
        """Exponential backoff with full jitter (attempt 0 is the first retry)."""
        ceiling = min(self.backoff_max, self.backoff_base * (2**attempt))
        return random.uniform(0.0, ceiling)


def _error_fields(response: httpx.Response) -> tuple[str | None, int | None]:
    """The API's ``error`` text and, on a 409, ``ticket_number``; tolerant of any body."""
    try:
        body = response.json()
    except ValueError:  # HTML from a proxy, an empty body, bad UTF-8 ...
        return None, None
    if not isinstance(body, dict):
        return None, None
    error = body.get("error")
    number = body.get("ticket_number")
    return (
        error if isinstance(error, str) else None,
        number if isinstance(number, int) and not isinstance(number, bool) else None,
    )


def _observe(method: str, path: str, started: float, *, failure: str | None) -> None:
    seconds = time.perf_counter() - started
    metrics.current().helpdesk_attempt(method, path, seconds=seconds, failure=failure)


class _Retry(Exception):
    """Internal: this attempt failed in a way the policy may retry."""

    def __init__(self, failure: HelpdeskError, retry_after: float | None = None) -> None:
        super().__init__(str(failure))
        self.failure = failure
        self.retry_after = retry_after


class Transport:
    """Sends requests on a shared httpx client and turns every outcome into data or our errors."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        base_url: str,
        timeout: httpx.Timeout,
        policy: RetryPolicy,
    ) -> None:
        self._http = http
        self._base_url = base_url.rstrip("/")
        self._timeout = timeout
        self._policy = policy
        # A hard cap on one attempt: httpx's read timeout restarts with every chunk, so a
        # server that trickles bytes could otherwise hold a call forever.
        self._attempt_deadline = sum(
            t or 0.0 for t in (timeout.connect, timeout.read, timeout.write, timeout.pool)
        )

    async def send(
        self,
        method: str,
        path: str,
        *,
        token: str | None = None,
        json: object = None,
        params: Params | None = None,
        idempotent: bool,
    ) -> httpx.Response:
        """Send with retries; return the final response (any status but 429 and 502-504)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._policy.budget
        attempt = 0
        while True:
            try:
                return await self._attempt(
                    method, path, token=token, json=json, params=params, idempotent=idempotent
                )
            except _Retry as retry:
                failure = retry.failure
                delay = (
                    retry.retry_after
                    if retry.retry_after is not None
                    else self._policy.backoff(attempt)
                )
                remaining = deadline - loop.time()
                if delay > remaining:
                    log.warning(
                        "helpdesk %s %s gave up after %d attempts: %s",
                        method,
                        path,
                        attempt + 1,
                        type(failure).__name__,
                    )
                    raise failure from retry.__cause__
                log.info(
                    "helpdesk %s %s: %s (status %s); retry %d in %.2f s",
                    method,
                    path,
                    type(failure).__name__,
                    failure.status,
                    attempt + 1,
                    delay,
                )
                await asyncio.sleep(delay)
                attempt += 1

    async def _attempt(
        self,
        method: str,
        path: str,
        *,
        token: str | None,
        json: object,
        params: Params | None,
        idempotent: bool,
    ) -> httpx.Response:
        headers = {"Accept": "application/json"}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        started = time.perf_counter()
        try:
            async with asyncio.timeout(self._attempt_deadline):
                request = self._http.build_request(
                    method,
                    self._base_url + path,
                    headers=headers,
                    json=json,
                    params=dict(params) if params else None,
                    timeout=self._timeout,
                )
                # The pool serves every user: a session cookie set by one user's login must
                # never ride along on anyone's request. This API is spoken with bearer only.
                request.headers.pop("Cookie", None)
                response = await self._http.send(request)
        except _NEVER_SENT as exc:
            _observe(method, path, started, failure="connect")
            reason = f"Cannot connect ({type(exc).__name__})"
            raise _Retry(HelpdeskUnavailable(reason, method=method, path=path)) from exc
        except (httpx.TransportError, TimeoutError) as exc:
            # Sent, at least in part: the server may have acted on it.
            _observe(method, path, started, failure="no_response")
            reason = f"No response ({type(exc).__name__})"
            if not idempotent:
                raise OutcomeUnknown(reason, method=method, path=path) from exc
            raise _Retry(HelpdeskUnavailable(reason, method=method, path=path)) from exc
        except httpx.HTTPError as exc:  # e.g. an invalid URL: a configuration mistake
            _observe(method, path, started, failure="request_failed")
            reason = f"Request failed ({type(exc).__name__})"
            raise HelpdeskError(reason, method=method, path=path) from exc
        log.debug(
            "helpdesk %s %s -> %d in %.0f ms",
            method,
            path,
            response.status_code,
            (time.perf_counter() - started) * 1000,
        )
        status = response.status_code
        _observe(method, path, started, failure=str(status) if status >= 400 else None)
        if status == 429:
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            error, _ = _error_fields(response)
            limited = RateLimited(
                "Rate limited", method=method, path=path, error=error, retry_after=retry_after
            )
            raise _Retry(limited, retry_after)
        if status in _GATEWAY_STATUSES or status in _REFUSED_STATUSES:
            error, _ = _error_fields(response)
            if not idempotent and status in _GATEWAY_STATUSES:
                raise OutcomeUnknown(
                    "No answer; the server may have acted on it",
                    method=method,
                    path=path,
                    status=status,
                    error=error,
                )
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            unavailable = HelpdeskUnavailable(
                "Helpdesk unavailable", method=method, path=path, status=status, error=error
            )
            raise _Retry(unavailable, retry_after)
        return response

    @staticmethod
    def decode(response: httpx.Response, *, method: str, path: str) -> Any:
        """The JSON body of a 2xx response (None if empty), or the typed error for the status."""
        status = response.status_code
        if 200 <= status < 300:
            if status == 204 or not response.content:
                return None
            try:
                return response.json()
            except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError
                raise MalformedResponse(
                    "Response is not JSON", method=method, path=path, status=status
                ) from exc
        error, ticket_number = _error_fields(response)
        raise error_for_status(
            status,
            method=method,
            path=path,
            error=error,
            retry_after=parse_retry_after(response.headers.get("Retry-After")),
            ticket_number=ticket_number,
        )
