"""Signs that a user needs a person: visible frustration, or asking the same thing again.

Deterministic, so the offer of a human does not depend on the model noticing. The engine
adds "Talk to a human" (and "Create a ticket") buttons to its answer when this says so.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_FRUSTRATED = re.compile(
    r"""(?ix)
    \b(
        useless | not\s+helpful | (doesn'?t|didn'?t|does\s+not|did\s+not)\s+help |
        still\s+(not|doesn'?t|isn'?t|broken|failing|the\s+same) | again\s+and\s+again |
        waste\s+of\s+(my\s+)?time | ridiculous | frustrat\w* | annoy\w* | fed\s+up |
        give\s+up | ugh+ | wtf | this\s+is\s+(stupid|hopeless|a\s+joke) | for\s+the\s+\w+\s+time
    )\b
    | !{3,}
    """
)
_WORD = re.compile(r"[a-z0-9]+")
_STOP = frozenset(
    {
        "a", "an", "and", "are", "but", "can", "do", "does", "for", "from", "have", "how",
        "i", "in", "is", "it", "me", "my", "of", "on", "or", "so", "the", "this", "to", "was",
        "what", "when", "why", "with", "you", "your",
    }
)  # fmt: skip


def _words(text: str) -> set[str]:
    return {word for word in _WORD.findall(text.lower()) if word not in _STOP and len(word) > 1}


def similar(a: str, b: str, *, threshold: float = 0.5) -> bool:
    """Two messages share most of their meaningful words (a rephrasing of one question)."""
    left, right = _words(a), _words(b)
    if len(left) < 2 or len(right) < 2:
        return False
    return len(left & right) / len(left | right) >= threshold


def wants_a_person(text: str, earlier: Sequence[str]) -> bool:
    """True when `text` sounds frustrated, or repeats one of the user's last three messages
    for the second time (the answers are not landing)."""
    if _FRUSTRATED.search(text):
        return True
    repeats = sum(similar(text, previous) for previous in list(earlier)[-3:])
    return repeats >= 2
