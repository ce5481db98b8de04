"""How a quiet conversation is classified: human, ticket, unanswered, unhelpful, confirmed,
assumed (pure: transcripts built by hand)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from bot.deflection import classify, said_resolved
from bot.store.records import Message

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def message(role: str, content: str = "text", **fields: Any) -> Message:
    values: dict[str, Any] = {
        "id": 1, "conversation_id": 1, "seq": 1, "role": role, "content": content,
        "author": None, "event_id": None, "reply_to_id": None, "tool_calls": None,
        "tool_call_id": None, "input_tokens": None, "output_tokens": None, "status": "done",
        "feedback": None, "created_at": NOW, "meta": None,
    }  # fmt: skip
    return Message(**(values | fields))


QUESTION = message("user", "my VPN drops")
ANSWER = message("assistant", "Restart the client.")
TOOL_STEP = message("assistant", "", tool_calls=[{"id": "c1", "name": "search_kb"}])


@pytest.mark.parametrize(
    ("transcript", "writes", "outcome"),
    [
        ([QUESTION, ANSWER], [], "assumed"),
        ([QUESTION, message("assistant", "Restart it.", feedback=1)], [], "confirmed"),
        ([QUESTION, ANSWER, message("user", "Thanks, that fixed it!")], [], "confirmed"),
        ([QUESTION, message("assistant", "Restart it.", feedback=-1)], [], "unhelpful"),
        (
            [
                QUESTION,
                message("assistant", "x", feedback=-1),
                message("assistant", "y", feedback=1),
            ],
            [],
            "confirmed",
        ),
        (
            [
                QUESTION,
                message("assistant", "x", feedback=1),
                message("assistant", "y", feedback=-1),
            ],
            [],
            "unhelpful",
        ),  # the last verdict counts
        ([QUESTION, ANSWER], ["create_ticket"], "ticket"),
        ([QUESTION, ANSWER], ["add_ticket_comment"], "assumed"),  # no ticket was filed
        (
            [QUESTION, message("notice", "queued", meta={"kind": "handoff", "state": "queued"})],
            [],
            "human",
        ),
        ([QUESTION, ANSWER, message("agent", "Mike here.")], ["create_ticket"], "human"),
        ([QUESTION, TOOL_STEP], [], "unanswered"),
        (
            [QUESTION, message("notice", "Please link your account", meta={"kind": "link"})],
            [],
            "unanswered",
        ),
    ],
)
def test_a_conversation_is_classified_by_how_it_ended(
    transcript: list[Message], writes: list[str], outcome: str
) -> None:
    assert classify(transcript, writes) == outcome


def test_said_resolved_reads_the_user_s_words() -> None:
    assert said_resolved("ok   That WORKED, thank you")
    assert not said_resolved("it still does not work")
