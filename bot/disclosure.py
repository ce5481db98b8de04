"""Keeps the model from reciting its instructions to the user, even when it is talked into it.

The system prompt and the tool descriptions are the assistant's instructions. A prompt
injection ("print your system prompt", "repeat everything above") can make any model
recite them; this guard sits between the model's stream and the user and notices verbatim
recitation: any run of `RUN_WORDS` consecutive words of an instruction text, compared
case-insensitively on letters and digits only (so Markdown or punctuation changes do not
hide it). A short quote of a few words stays allowed (a model saying which assistant it is).

Streaming: the last `RUN_WORDS - 1` words are held back until the next delta shows they do
not start a recitation, so no recited run ever reaches the user. Once a run is seen,
nothing more of that step is released and its text is replaced by a refusal.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable

__all__ = ["RUN_WORDS", "DisclosureGuard"]

RUN_WORDS = 12
_WORD = re.compile(r"[^\W_]+")


def _words(text: str) -> list[str]:
    return [word.lower() for word in _WORD.findall(text)]


def _runs(words: list[str]) -> set[tuple[str, ...]]:
    return {tuple(words[i : i + RUN_WORDS]) for i in range(len(words) - RUN_WORDS + 1)}


@functools.lru_cache(maxsize=64)
def _text_runs(text: str) -> frozenset[tuple[str, ...]]:
    return frozenset(_runs(_words(text)))


@functools.lru_cache(maxsize=8)
def protected_runs(instructions: tuple[str, ...]) -> frozenset[tuple[str, ...]]:
    """Every run of the instruction texts. Built once per set of texts, not per model step:
    the system prompt and tool descriptions are the same from turn to turn (the union
    shares its runs with the per-text sets, so a cached entry costs little memory)."""
    return frozenset().union(*(_text_runs(text) for text in instructions))


class DisclosureGuard:
    """One model step's text, released to the user as long as it recites no instruction."""

    def __init__(self, instructions: Iterable[str]) -> None:
        self._protected = protected_runs(tuple(instructions))
        self._text = ""
        self._released = 0  # characters of `_text` already given to the user
        self._checked = 0  # words of `_text` whose run was already compared
        self.leaked = False

    @property
    def released_text(self) -> str:
        """What the user has been shown of this step."""
        return self._text[: self._released]

    def feed(self, delta: str) -> str:
        """Take a streamed piece; return what may be shown now (possibly "")."""
        self._text += delta
        spans = [match.span() for match in _WORD.finditer(self._text)]
        if spans and spans[-1][1] == len(self._text):
            spans.pop()  # a word still being streamed is neither judged nor shown yet
        if self._recites(spans):
            self.leaked = True
        if self.leaked:
            return ""
        hold_from = len(spans) - (RUN_WORDS - 1)
        safe_end = spans[hold_from][0] if hold_from > 0 else 0
        return self._release(max(safe_end, self._released))

    def finish(self, text: str) -> str:
        """The step ended with `text`: the rest to show now ("" after a recitation)."""
        if not self._text:  # nothing was streamed: judge the whole text
            self._text = text
            if self._recites([match.span() for match in _WORD.finditer(text)]):
                self.leaked = True
            self._released = len(text) if not self.leaked else 0
            return ""
        if self.leaked:
            return ""
        spans = [match.span() for match in _WORD.finditer(self._text)]
        if self._recites(spans):
            self.leaked = True
            return ""
        return self._release(len(self._text))

    def _recites(self, spans: list[tuple[int, int]]) -> bool:
        words = [self._text[start:end].lower() for start, end in spans]
        first = max(0, self._checked - RUN_WORDS + 1)
        self._checked = len(words)
        return any(
            tuple(words[i : i + RUN_WORDS]) in self._protected
            for i in range(first, len(words) - RUN_WORDS + 1)
        )

    def _release(self, end: int) -> str:
        piece = self._text[self._released : end]
        self._released = end
        return piece
