"""Tool-less side calls to the model (summaries, handoff notes), bounded by the turn's time."""

from __future__ import annotations

import asyncio
import logging
import time

from bot.llm import ChatModel, ModelError, ModelMessage, ModelRequest, ModelResponse

log = logging.getLogger(__name__)

SIDE_CALL_TIMEOUT_S = 12.0


class SideModel:
    def __init__(self, model: ChatModel) -> None:
        self._model = model

    async def complete_text(self, prompt: str, *, deadline: float | None = None) -> str | None:
        """One tool-less model call; None on any model failure or when the turn's deadline
        (a `time.monotonic()` instant) leaves no time for it (callers then fall back)."""
        limit = SIDE_CALL_TIMEOUT_S
        if deadline is not None:
            limit = min(limit, deadline - time.monotonic())
        if limit < 1:
            return None
        request = ModelRequest(
            messages=[ModelMessage(role="user", content=prompt)], timeout_s=limit
        )
        try:
            async with asyncio.timeout(limit):
                async for event in self._model.stream(request):
                    if isinstance(event, ModelResponse):
                        return event.text.strip() or None
        except (ModelError, TimeoutError) as exc:
            log.info("Side model call failed: %s", type(exc).__name__)
        return None
