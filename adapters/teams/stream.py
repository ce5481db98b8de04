"""One streamed bot message in a Teams personal chat: informative updates, growing text, a
final message (https://learn.microsoft.com/microsoftteams/platform/bots/streaming-ux).

The first step (an informative update such as "Searching the knowledge base…", or the first
text) starts the stream and its activity id is the stream id; later steps send the whole
text so far, at most one per second (Teams' limit for a stream); the final `message`
carries the complete text and the answer's card. When Teams refuses streaming (it is off
for the tenant, or a step is rejected) the stream stops and the reply goes as a plain
message.
"""

from __future__ import annotations

import logging
import time

from adapters.teams.cards import Outgoing
from adapters.teams.send import Connector, TeamsSendError

log = logging.getLogger(__name__)

STEP_INTERVAL_S = 1.0


class MessageStream:
    def __init__(self, connector: Connector) -> None:
        self._connector = connector
        self._stream_id: str | None = None
        self._sequence = 0
        self._text = ""
        self._sent_text = ""
        self._last_step = 0.0
        self.failed = False
        self.finished = False

    @property
    def text(self) -> str:
        return self._text

    @property
    def started(self) -> bool:
        return self._stream_id is not None

    async def inform(self, status: str) -> None:
        """An informative update; only before the answer's text has begun."""
        if self._text or self.failed or self.finished:
            return
        await self._step(status, stream_type="informative")

    async def append(self, delta: str) -> None:
        self._text += delta
        if self.failed or self.finished:
            return
        if time.monotonic() - self._last_step >= STEP_INTERVAL_S or not self.started:
            await self._flush()

    async def _flush(self) -> None:
        if self._text and self._text != self._sent_text:
            self._sent_text = self._text
            await self._step(self._text, stream_type="streaming")

    async def finish(self, final: Outgoing) -> bool:
        """End the stream with the final message; False if the reply still has to be sent
        (the stream never started or Teams refused it)."""
        if self.finished:
            return True
        self.finished = True
        if self.failed or not self.started:
            return False
        text = final.text or final.summary or self._text or "…"
        try:
            await self._connector.stream_step(
                text, stream_type="final", stream_id=self._stream_id, sequence=None, final=final
            )
        except TeamsSendError as exc:
            log.info("Teams refused the end of a stream (%s); sending it plainly", exc.status)
            return False
        return True

    async def _step(self, text: str, *, stream_type: str) -> None:
        self._sequence += 1
        try:
            stream_id = await self._connector.stream_step(
                text, stream_type=stream_type, stream_id=self._stream_id, sequence=self._sequence
            )
        except TeamsSendError as exc:
            log.info("Teams refused a stream step (%s); not streaming", exc.status)
            self.failed = True
            return
        self._last_step = time.monotonic()
        if self._stream_id is None:
            if stream_id is None:
                self.failed = True
                return
            self._stream_id = stream_id
