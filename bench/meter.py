"""What a benchmark counts: model time and requests, helpdesk calls, DB statements, memory.

Every HTTP request of the process goes through an `AsyncHTTPTransport`, whichever client
sent it: httpx's for our helpdesk client and the baselines' helpdesk calls, httpx2's (the
fork the `openai` SDK 3.x uses) for the model under our engine, under LangChain's
`ChatOpenAI` and under the bare loop. Patching both classes the same way measures all three
runners alike. A
request is charged to the `Tally` in the current context (a contextvar set per turn), so
concurrent turns are told apart. Model time is the time spent waiting on the model server:
sending the request, awaiting the headers and awaiting each body chunk — not the time the
client spends handling the chunks between reads, which is the client's own cost.
"""

from __future__ import annotations

import contextvars
import json
import math
import os
import resource
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import httpx2
from sqlalchemy import event
from sqlalchemy.engine import Engine as SyncEngine

from bench.fake_model import estimate_output_tokens, estimate_tokens


@dataclass
class Tally:
    """One turn's (or one run's) counts."""

    model_s: float = 0.0
    model_requests: int = 0
    helpdesk_calls: int = 0
    db_statements: int = 0
    input_tokens: list[int] = field(default_factory=list)  # one per model request
    output_tokens: list[int] = field(default_factory=list)  # one per model answer read
    with_tools: list[bool] = field(default_factory=list)  # per request: tools offered?

    def add(self, other: Tally) -> None:
        self.model_s += other.model_s
        self.model_requests += other.model_requests
        self.helpdesk_calls += other.helpdesk_calls
        self.db_statements += other.db_statements
        self.input_tokens += other.input_tokens
        self.output_tokens += other.output_tokens
        self.with_tools += other.with_tools


_current: contextvars.ContextVar[Tally | None] = contextvars.ContextVar("bench_tally", default=None)
_model_prefix: list[str] = []
_helpdesk_prefix: list[str] = []
_observers: list[Callable[[dict[str, Any]], None]] = []


def observe_model_bodies(observer: Callable[[dict[str, Any]], None] | None) -> None:
    """Hand every model request body to `observer` (None stops it)."""
    _observers[:] = [observer] if observer is not None else []


@contextmanager
def charging(tally: Tally) -> Iterator[Tally]:
    """Charge what happens in this context (and tasks it starts) to `tally`."""
    token = _current.set(tally)
    try:
        yield tally
    finally:
        _current.reset(token)


class _TimedStream:
    """The model's response body: time spent awaiting each chunk is model time; the
    body is kept to count the answer's tokens once it ends."""

    def __init__(self, inner: Any, tally: Tally) -> None:
        self._inner = inner
        self._tally = tally
        self._body: list[bytes] = []

    async def __aiter__(self) -> AsyncIterator[bytes]:
        iterator = self._inner.__aiter__()
        while True:
            started = time.perf_counter()
            try:
                chunk = await iterator.__anext__()
            except StopAsyncIteration:
                self._tally.model_s += time.perf_counter() - started
                self._tally.output_tokens.append(estimate_output_tokens(b"".join(self._body)))
                return
            self._tally.model_s += time.perf_counter() - started
            self._body.append(chunk)
            yield chunk

    async def aclose(self) -> None:
        await self._inner.aclose()


class _TimedHttpxStream(_TimedStream, httpx.AsyncByteStream):
    """httpx checks a response stream's class before iterating it."""


class _TimedHttpx2Stream(_TimedStream, httpx2.AsyncByteStream):
    """Likewise for httpx2."""


_ORIGINALS: dict[type[Any], Any] = {
    transport: transport.handle_async_request
    for transport in (httpx.AsyncHTTPTransport, httpx2.AsyncHTTPTransport)
}


async def _metered(self: Any, request: Any) -> Any:
    is_httpx2 = isinstance(self, httpx2.AsyncHTTPTransport)
    original = _ORIGINALS[httpx2.AsyncHTTPTransport if is_httpx2 else httpx.AsyncHTTPTransport]
    tally = _current.get()
    url = str(request.url)
    if _observers and any(url.startswith(prefix) for prefix in _model_prefix):
        for observer in _observers:
            observer(json.loads(request.content))
    if tally is None:
        return await original(self, request)
    if any(url.startswith(prefix) for prefix in _model_prefix):
        tally.model_requests += 1
        try:
            body = json.loads(request.content)
        except (ValueError, httpx.RequestNotRead, httpx2.RequestNotRead):
            body = {}
        tally.input_tokens.append(estimate_tokens(body) if body else 0)
        tally.with_tools.append(bool(body.get("tools")))
        started = time.perf_counter()
        response = await original(self, request)
        tally.model_s += time.perf_counter() - started
        timed = _TimedHttpx2Stream if is_httpx2 else _TimedHttpxStream
        response.stream = timed(response.stream, tally)
        return response
    if any(url.startswith(prefix) for prefix in _helpdesk_prefix):
        tally.helpdesk_calls += 1
    return await original(self, request)


def _on_statement(*_: Any) -> None:
    tally = _current.get()
    if tally is not None:
        tally.db_statements += 1


def install(*, model_base: str, helpdesk_base: str) -> None:
    """Meter httpx requests to these bases and every SQLAlchemy statement, process-wide."""
    _model_prefix[:] = [model_base]
    _helpdesk_prefix[:] = [helpdesk_base]
    for transport in _ORIGINALS:
        transport.handle_async_request = _metered
    if not event.contains(SyncEngine, "before_cursor_execute", _on_statement):
        event.listen(SyncEngine, "before_cursor_execute", _on_statement)


# -- figures -------------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100) by linear interpolation between closest ranks."""
    if not values:
        return math.nan
    ordered = sorted(values)
    if len(ordered) == 1:
        return float(ordered[0])
    rank = (len(ordered) - 1) * q / 100.0
    low = math.floor(rank)
    high = math.ceil(rank)
    return float(ordered[low] + (ordered[high] - ordered[low]) * (rank - low))


def median(values: Sequence[float]) -> float:
    return percentile(values, 50)


def peak_rss_mb() -> float:
    """This process's peak resident set so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def rss_kb(pid: int | None = None) -> int:
    """The current resident set of a process (this one by default), in KiB."""
    with open(f"/proc/{pid or 'self'}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS in /proc status")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (/proc/PID/stat, fields 14 and 15)."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
