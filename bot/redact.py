"""Masks secrets a user pastes (passwords, MFA codes, API keys, tokens) before anyone sees them.

The masked text is what reaches the model, the helpdesk chat and our own transcript; the
caller warns the user when something was masked. Patterns favour precision: a ticket number
or a serial number must survive, a pasted password must not.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MASK = "[redacted]"

# "password is hunter2", "pwd: hunter2", "my passcode = x", "new password hunter2!"
_LABELLED_SECRET = re.compile(
    r"""(?ix)
    \b(?P<label>
        pass(?:word|wd|code|phrase)? | pwd | pw |
        (?:mfa|2fa|otp|sms|verification|one[- ]time|security|auth(?:entication)?)\s*(?:code|pin)? |
        pin | secret | api[ _-]?key | access[ _-]?key | token
    )
    (?P<sep>\s*(?:is|was|=|:|->)\s*|\s+)
    (?P<value>"[^"\n]{1,128}"|'[^'\n]{1,128}'|[^\s"',;]{3,128})
    """
)

_TOKEN_SHAPES = re.compile(
    r"""(?x)
    \b(?:
        sk-(?:proj-|ant-)?[A-Za-z0-9_\-]{16,} |          # OpenAI / Anthropic style keys
        xox[abposr]-[A-Za-z0-9\-]{10,} |                 # Slack tokens
        xapp-[A-Za-z0-9\-]{10,} |
        gh[pousr]_[A-Za-z0-9]{30,} |                     # GitHub tokens
        AKIA[0-9A-Z]{16} |                               # AWS access key id
        AIza[0-9A-Za-z_\-]{35} |                         # Google API key
        eyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}  # a JWT
    )
    | (?i:\bbearer\s+[A-Za-z0-9_\-\.=]{16,})
    """
)

# Words that follow "password" in ordinary sentences and are not the password itself.
_NOT_A_SECRET = frozenset(
    {
        "reset", "resets", "expired", "expires", "expiry", "policy", "change", "changed",
        "changes", "manager", "for", "to", "and", "or", "the", "a", "my", "your", "is",
        "was", "has", "have", "not", "isn't", "wasn't", "doesn't", "does", "did", "didn't",
        "on", "in", "of", "at", "with", "field", "prompt", "page", "screen", "rules",
        "requirements", "length", "again", "anymore", "locked", "lockout", "work", "works",
        "working", "correct", "incorrect", "wrong", "right", "still", "keeps", "keep",
        "won't", "will", "can't", "cannot", "should", "must", "needs", "need", "because",
        "but", "so", "when", "every", "each", "that", "this", "it", "by", "from", "via",
        "app", "apps", "code", "codes", "sent", "send", "number", "again.", "request",
        "requests", "update", "updated", "recovery", "self-service", "pin", "key", "keys",
        "token", "tokens", "expired.", "reset.", "please", "help", "issue", "issues",
        "too", "very", "now", "being", "required", "needed", "same", "different", "weak",
        "strong", "short", "long", "invalid", "rejected", "accepted", "blank", "empty",
        "gone", "lost", "forgotten", "unknown", "saved", "stored", "here", "there",
    }
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Redaction:
    text: str
    masked: int  # how many secrets were replaced

    @property
    def found(self) -> bool:
        return self.masked > 0


def mask_secrets(text: str) -> Redaction:
    """Replace secrets in `text` with `[redacted]`; report how many."""
    count = 0

    def labelled(match: re.Match[str]) -> str:
        nonlocal count
        value = match.group("value")
        bare = value.strip("\"'").lower()
        if bare in _NOT_A_SECRET or (match.group("sep").isspace() and not _looks_secret(bare)):
            return match.group(0)
        count += 1
        return f"{match.group('label')}{match.group('sep')}{MASK}"

    def shaped(match: re.Match[str]) -> str:
        nonlocal count
        count += 1
        return MASK

    masked = _TOKEN_SHAPES.sub(shaped, text)
    masked = _LABELLED_SECRET.sub(labelled, masked)
    return Redaction(text=masked, masked=count)


def _looks_secret(word: str) -> bool:
    """Without "is" or ":" between label and word, only mask what does not read as English."""
    if word == MASK.lower():
        return False
    has_digit = any(c.isdigit() for c in word)
    has_symbol = any(not c.isalnum() for c in word)
    return has_digit or has_symbol or (len(word) >= 8 and not word.isalpha())
