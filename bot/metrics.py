"""Every Prometheus series the bot exports, defined once, on a registry per app instance.

`Metrics` owns a `CollectorRegistry` and the series on it; `adapters/server.py` serves it as
`/metrics` and binds it (`bind`) around every request and background loop, so code deep in
a turn records with one line: `metrics.current().<series>...`. Outside any app (the
terminal, the eval harness, a test that drives the engine alone) `current()` returns a
process-wide fallback nobody serves, so recording never fails and never needs plumbing.

Label values are bounded by construction: channels, tool names from the registry (anything
else is `unknown`), helpdesk path *templates* (`/tickets/{id}`, never a raw id), outcome
words chosen here. The meaning of each series is listed in the README ("Operations").
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from bot.messages import ConfirmRequest, ErrorReply, HandoffStatus, LinkRequired, Message, Reply

__all__ = ["Metrics", "ModelPrices", "TurnMeter", "bind", "current", "endpoint_template", "reset"]

NAMESPACE = "helpdesk_bot"
TURN_BUCKETS = (0.25, 0.5, 1, 2, 3, 5, 8, 13, 21, 30, 45, 60)
HTTP_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
RELAY_BUCKETS = (0.25, 0.5, 1, 2, 3, 5, 10, 20, 30, 60)
CSAT_BUCKETS = (1, 2, 3, 4, 5)
# Outcomes of a turn, strongest first: a turn that streamed text and then proposed a write
# counts as "confirm_requested".
TURN_OUTCOMES = ("degraded", "handoff", "confirm_requested", "link_required", "error",
                 "answered", "notice", "replayed", "none")  # fmt: skip
_ID_SEGMENT = re.compile(r"/[^/]*\d[^/]*(?=/|$)")


@dataclass(frozen=True, slots=True)
class ModelPrices:
    """Price per 1,000 tokens (settings `LLM_PRICE_INPUT_PER_1K`, `..._OUTPUT_PER_1K`)."""

    input_per_1k: float = 0.0
    output_per_1k: float = 0.0

    def cost(self, *, input_tokens: int, output_tokens: int) -> float:
        return (input_tokens * self.input_per_1k + output_tokens * self.output_per_1k) / 1000


class Metrics:
    """The series of one app; `registry` is what `/metrics` exposes."""

    def __init__(self, *, prices: ModelPrices = ModelPrices()) -> None:
        self.registry = registry = CollectorRegistry(auto_describe=True)
        self.prices = prices

        def counter(name: str, doc: str, labels: tuple[str, ...] = ()) -> Counter:
            return Counter(name, doc, labels, namespace=NAMESPACE, registry=registry)

        def histogram(
            name: str, doc: str, labels: tuple[str, ...], buckets: tuple[float, ...]
        ) -> Histogram:
            return Histogram(
                name, doc, labels, namespace=NAMESPACE, registry=registry, buckets=buckets
            )

        self.turns = counter(
            "turns", "Turns handled, by channel and outcome", ("channel", "outcome")
        )
        self.turn_seconds = histogram(
            "turn_seconds",
            "Wall time of a turn, first event to last reply",
            ("channel",),
            TURN_BUCKETS,
        )
        self.model_requests = counter(
            "model_requests",
            "Model requests (one streamed step each), by model and outcome",
            ("model", "outcome"),
        )
        self.model_seconds = histogram(
            "model_request_seconds", "Wall time of a model request", ("model",), TURN_BUCKETS
        )
        self.model_tokens = counter(
            "model_tokens",
            "Tokens the model server reported, by model and direction",
            ("model", "direction"),
        )
        self.model_cost = counter(
            "model_cost_usd",
            "Estimated model cost at the configured price per 1k tokens",
            ("model",),
        )
        self.tool_calls = counter(
            "tool_calls", "Tool calls the model made, by tool and outcome", ("tool", "outcome")
        )
        self.helpdesk_seconds = histogram(
            "helpdesk_request_seconds",
            "Helpdesk API attempts, by method and path template",
            ("method", "endpoint"),
            HTTP_BUCKETS,
        )
        self.helpdesk_errors = counter(
            "helpdesk_errors",
            "Helpdesk API attempts that failed (status >= 400, or no answer)",
            ("method", "endpoint", "kind"),
        )
        self.confirms = counter(
            "confirms",
            "Writes awaiting the user: proposed, confirmed, failed, cancelled, expired",
            ("tool", "result"),
        )
        self.handoffs = counter(
            "handoffs",
            "Handoff transitions: queued, unavailable, joined, ended, cancelled",
            ("state",),
        )
        self.in_handoff = Gauge(
            "conversations_in_handoff",
            "Conversations queued for or owned by a human, by owner",
            ("owner",),
            namespace=NAMESPACE,
            registry=registry,
        )
        self.relay_lag = histogram(
            "relay_lag_seconds",
            "Agent message written in the helpdesk -> delivered to the user",
            ("channel",),
            RELAY_BUCKETS,
        )
        self.dedupe_hits = counter(
            "dedupe_hits",
            "Redelivered events and messages recognised and not run again",
            ("source",),
        )
        self.degraded = counter(
            "degraded_answers", "Answers given without the model, by fallback", ("fallback",)
        )
        self.feedback = counter("feedback", "Thumbs on answers, by value (up, down)", ("value",))
        self.csat = histogram(
            "csat_score", "1-5 satisfaction ratings after a human handoff", (), CSAT_BUCKETS
        )
        self.settled = counter(
            "conversations_settled",
            "Conversations gone quiet, by how they ended (deflection)",
            ("outcome",),
        )

    def turn(self, channel: str) -> TurnMeter:
        return TurnMeter(self, channel)

    def model_response(
        self, model: str, *, seconds: float, input_tokens: int, output_tokens: int
    ) -> None:
        self.model_requests.labels(model=model, outcome="ok").inc()
        self.model_seconds.labels(model=model).observe(seconds)
        self.model_tokens.labels(model=model, direction="input").inc(input_tokens)
        self.model_tokens.labels(model=model, direction="output").inc(output_tokens)
        cost = self.prices.cost(input_tokens=input_tokens, output_tokens=output_tokens)
        self.model_cost.labels(model=model).inc(cost)

    def helpdesk_attempt(
        self, method: str, path: str, *, seconds: float, failure: str | None
    ) -> None:
        """One HTTP attempt; `failure` is the status (>= 400) or the error's class name."""
        endpoint = endpoint_template(path)
        self.helpdesk_seconds.labels(method=method, endpoint=endpoint).observe(seconds)
        if failure is not None:
            self.helpdesk_errors.labels(method=method, endpoint=endpoint, kind=failure).inc()


class TurnMeter:
    """Times one turn and names its outcome from the replies it yielded."""

    def __init__(self, metrics: Metrics, channel: str) -> None:
        self._metrics = metrics
        self._channel = channel
        self._started = time.perf_counter()
        self.outcome = "none"

    def mark(self, outcome: str) -> None:
        """Name the outcome outright (e.g. `replayed`: answered from the store)."""
        self.outcome = outcome

    def saw(self, reply: Reply) -> None:
        seen = _outcome_of(reply)
        if seen is not None and TURN_OUTCOMES.index(seen) < TURN_OUTCOMES.index(self.outcome):
            self.outcome = seen

    @contextmanager
    def timing(self) -> Iterator[TurnMeter]:
        """Records the turn when the block ends; an exception makes the outcome `failed`,
        a consumer that stopped listening (GeneratorExit) `abandoned`."""
        try:
            yield self
        except GeneratorExit:
            self.outcome = "abandoned"
            raise
        except BaseException:
            self.outcome = "failed"
            raise
        finally:
            self._metrics.turns.labels(channel=self._channel, outcome=self.outcome).inc()
            seconds = time.perf_counter() - self._started
            self._metrics.turn_seconds.labels(channel=self._channel).observe(seconds)


def _outcome_of(reply: Reply) -> str | None:
    if isinstance(reply, Message):
        if reply.degraded:
            return "degraded"
        return "notice" if reply.notice else "answered"
    if isinstance(reply, ConfirmRequest):
        return "confirm_requested"
    if isinstance(reply, HandoffStatus):
        return "handoff"
    if isinstance(reply, LinkRequired):
        return "link_required"
    if isinstance(reply, ErrorReply):
        return "error"
    return None


def endpoint_template(path: str) -> str:
    """`/tickets/3012/comments` -> `/tickets/{id}/comments`: a label per endpoint, not per id."""
    return _ID_SEGMENT.sub("/{id}", path.split("?", 1)[0])


_fallback = Metrics()
_current: ContextVar[Metrics] = ContextVar("metrics", default=_fallback)


def current() -> Metrics:
    """The metrics of the app this code runs for (the fallback outside any app)."""
    return _current.get()


def bind(metrics: Metrics) -> Token[Metrics]:
    """Make `metrics` current for this task and the tasks it starts from now on."""
    return _current.set(metrics)


def reset(token: Token[Metrics]) -> None:
    _current.reset(token)
