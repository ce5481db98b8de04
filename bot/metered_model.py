"""A ChatModel that counts what passes through it: requests, outcomes, tokens, estimated cost.

The composition root wraps the configured model in it, so every request — the answer's
steps, the summary and the handoff note — is counted once, whatever the provider. The
counts go to the metrics of the app the request runs for (`bot.metrics.current`).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

from bot import metrics
from bot.llm import (
    ChatModel,
    ModelBadResponse,
    ModelConfigError,
    ModelError,
    ModelRateLimited,
    ModelRequest,
    ModelResponse,
    ModelTimeout,
    ModelUnavailable,
    StreamEvent,
)

_OUTCOMES: tuple[tuple[type[ModelError], str], ...] = (
    (ModelTimeout, "timeout"),
    (ModelRateLimited, "rate_limited"),
    (ModelUnavailable, "unavailable"),
    (ModelBadResponse, "bad_response"),
    (ModelConfigError, "config_error"),
)


class MeteredModel:
    """Wraps a `ChatModel`; `label` names it in the series (the configured model name)."""

    def __init__(self, model: ChatModel, *, label: str) -> None:
        self._model = model
        self._label = label

    @property
    def name(self) -> str:
        return self._model.name

    async def stream(self, request: ModelRequest) -> AsyncIterator[StreamEvent]:
        started = time.perf_counter()
        try:
            async for event in self._model.stream(request):
                if isinstance(event, ModelResponse):
                    usage = event.usage
                    metrics.current().model_response(
                        self._label,
                        seconds=time.perf_counter() - started,
                        input_tokens=usage.input_tokens if usage else 0,
                        output_tokens=usage.output_tokens if usage else 0,
                    )
                yield event
        except ModelError as exc:
            outcome = next((name for kind, name in _OUTCOMES if isinstance(exc, kind)), "error")
            metrics.current().model_requests.labels(model=self._label, outcome=outcome).inc()
            raise

    async def aclose(self) -> None:
        await self._model.aclose()
