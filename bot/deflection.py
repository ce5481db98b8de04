"""How conversations ended, counted once each when they go quiet: deflection, honestly.

A conversation the bot owns that has been quiet for `CONVERSATION_SETTLE_AFTER_S` is
classified once (claimed in the store, so one replica counts it) into
`helpdesk_bot_conversations_settled_total{outcome}`:

- ``human``      the user asked for a person (a handoff, whatever came of it) or an agent wrote
- ``ticket``     a ticket was filed from the conversation (confirmed `create_ticket*` write)
- ``unanswered`` the bot never answered (e.g. the user never linked their account)
- ``unhelpful``  the user's last verdict on an answer was 👎 and they never said it worked
- ``confirmed``  resolved by the bot, and the user said so: 👍 on an answer, or a message
                 such as "that fixed it"
- ``assumed``    answered, no ticket, no human, no verdict: the user just went quiet

Deflection is ``confirmed`` (and, less surely, ``assumed``) over everything but
``unanswered``; the two are kept apart because silence is not proof that the answer helped.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from bot import metrics
from bot.store.records import Message
from bot.store.store import Store

log = logging.getLogger(__name__)

SETTLE_SOURCE = "settled"
# Conversations quiet for longer than this before the first scan are not counted: their
# claims would have been pruned with the day-old event ids (server EVENT_MEMORY).
SCAN_WINDOW = timedelta(hours=12)
TICKET_TOOLS = frozenset({"create_ticket", "create_ticket_from_chat"})
RESOLVED_PHRASES = ("that fixed it", "that worked", "it works now", "works now", "solved it",
                    "problem solved", "issue resolved", "that helped", "all good now",
                    "that did it", "fixed now")  # fmt: skip
TRANSCRIPT_LIMIT = 500


async def settle_quiet_conversations(
    store: Store,
    *,
    quiet_for_s: float,
    now: datetime | None = None,
    into: metrics.Metrics | None = None,
) -> dict[str, int]:
    """Classify and count every conversation that went quiet since the last scan; returns
    the counts of this scan by outcome."""
    now = now or datetime.now(UTC)
    quiet_since = now - timedelta(seconds=quiet_for_s)
    found = await store.quiet_conversations(
        quiet_since=quiet_since, not_before=quiet_since - SCAN_WINDOW
    )
    counted: dict[str, int] = {}
    series = (into or metrics.current()).settled
    for conversation in found:
        if not await store.claim_event(SETTLE_SOURCE, str(conversation.id), now=now):
            continue
        messages = await store.recent_messages(conversation.id, limit=TRANSCRIPT_LIMIT)
        outcome = classify(messages, await store.done_writes(conversation.id))
        series.labels(outcome=outcome).inc()
        counted[outcome] = counted.get(outcome, 0) + 1
    if counted:
        log.info("Settled conversations: %s", counted)
    return counted


def classify(messages: Sequence[Message], done_tools: Sequence[str]) -> str:
    """One conversation's outcome from its transcript and its carried-out writes."""
    if any(_involved_a_human(message) for message in messages):
        return "human"
    if TICKET_TOOLS.intersection(done_tools):
        return "ticket"
    answers = [m for m in messages if m.role == "assistant" and not m.tool_calls and m.content]
    if not answers:
        return "unanswered"
    said_so = any(m.role == "user" and said_resolved(m.content) for m in messages)
    verdicts = [m.feedback for m in answers if m.feedback is not None]
    if said_so or (verdicts and verdicts[-1] == 1):
        return "confirmed"
    if verdicts and verdicts[-1] == -1:
        return "unhelpful"
    return "assumed"


def said_resolved(text: str) -> bool:
    """The user says the problem is solved ("thanks, that fixed it")."""
    words = " ".join(text.lower().split())
    return any(phrase in words for phrase in RESOLVED_PHRASES)


def _involved_a_human(message: Message) -> bool:
    return message.role == "agent" or (message.meta or {}).get("kind") == "handoff"
