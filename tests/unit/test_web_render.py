"""Widget rendering is pure: every Reply type and every stored row maps to a known frame."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from adapters.web.render import (
    handoff_label,
    is_confirm_text,
    is_final,
    render_reply,
    render_stored,
    reply_text,
    safe_url,
)
from bot import confirmations
from bot.messages import (
    Action,
    AgentMessage,
    ConfirmField,
    ConfirmRequest,
    ErrorReply,
    HandoffStatus,
    LinkRequired,
    Message,
    Source,
    TextDelta,
    Typing,
)
from bot.store.records import Message as StoredMessage
from bot.store.records import PendingAction

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def row(role: str, content: str, **fields: object) -> StoredMessage:
    base = StoredMessage(
        id=41, conversation_id=7, seq=12, role="user", content="", author=None, event_id=None,
        reply_to_id=None, tool_calls=None, tool_call_id=None, input_tokens=None,
        output_tokens=None, status="done", feedback=None, created_at=NOW,
    )  # fmt: skip
    return replace(base, role=role, content=content, **fields)  # type: ignore[arg-type]


def pending(action_id: str = "pa-1") -> PendingAction:
    return PendingAction(
        id=action_id, conversation_id=7, user_key="web:x", tool_name="create_ticket",
        arguments={}, idempotency_key="k", status="pending", result=None, created_at=NOW,
        expires_at=NOW, executed_at=None, finished_at=None,
    )  # fmt: skip


CONFIRM = ConfirmRequest(
    pending_action_id="pa-1",
    title="Create a ticket",
    fields=(ConfirmField("Subject", "VPN drops"), ConfirmField("Priority", "3 — normal")),
    notices=("VPN is degraded at Main Office",),
    actions=(
        Action(id="confirm:pa-1", kind="confirm", label="Confirm", style="primary"),
        Action(id="cancel:pa-1", kind="cancel", label="Cancel"),
        Action(id="comment_instead:pa-1", kind="comment_instead", label="Comment on 3012 instead",
               value="3012"),
    ),
)  # fmt: skip


def test_typing_and_deltas_are_transient() -> None:
    assert render_reply(Typing("Searching")) == {"type": "typing", "status": "Searching"}
    assert render_reply(TextDelta("Hel")) == {"type": "delta", "text": "Hel"}
    assert not is_final(Typing()) and not is_final(TextDelta("x"))


def test_an_answer_carries_text_sources_and_buttons() -> None:
    reply = Message(
        text="Try **this**",
        sources=(
            Source(2, "VPN keeps disconnecting", "https://help.example/kb/2"),
            Source(3, "Evil", "javascript:alert(1)"),
        ),
        actions=(
            Action(id="feedback:9", kind="feedback", label="👍", value="up"),
            Action(id="link", kind="link", label="Open", url="javascript:alert(1)"),
        ),
        message_id=9,
        degraded=True,
    )

    frame = render_reply(reply)

    assert frame == {
        "type": "message",
        "role": "assistant",
        "text": "Try **this**",
        "sources": [
            {"title": "VPN keeps disconnecting", "url": "https://help.example/kb/2"},
            {"title": "Evil", "url": None},
        ],
        "actions": [
            {
                "id": "feedback:9",
                "kind": "feedback",
                "label": "👍",
                "value": "up",
                "url": None,
                "style": None,
            },
        ],
        "degraded": True,
        "feedback": None,
    }
    assert is_final(reply)


def test_a_confirm_request_shows_exactly_what_will_be_written() -> None:
    frame = render_reply(CONFIRM)

    assert frame["type"] == "confirm" and frame["title"] == "Create a ticket"
    assert frame["fields"] == [
        {"label": "Subject", "value": "VPN drops"},
        {"label": "Priority", "value": "3 — normal"},
    ]
    assert frame["notices"] == ["VPN is degraded at Main Office"]
    assert [(a["id"], a["label"]) for a in frame["actions"]] == [
        ("confirm:pa-1", "Confirm"),
        ("cancel:pa-1", "Cancel"),
        ("comment_instead:pa-1", "Comment on 3012 instead"),
    ]
    assert frame["actions"][2]["value"] == "3012"


@pytest.mark.parametrize(
    ("state", "agent", "label"),
    [
        ("queued", None, "Waiting for an agent…"),
        ("joined", "Mike Tech", "Mike Tech joined"),
        ("ended", "Mike Tech", "The agent ended the chat"),
        ("cancelled", None, "You left the queue"),
        ("unavailable", None, "No agent is available right now"),
    ],
)
def test_handoff_states_have_the_widget_labels(state: str, agent: str | None, label: str) -> None:
    status = HandoffStatus(state=state, text="long text", agent_name=agent)  # type: ignore[arg-type]

    assert handoff_label(status) == label
    assert render_reply(status) == {
        "type": "handoff", "state": state, "label": label, "text": "long text",
        "agent_name": agent,
    }  # fmt: skip


def test_agent_link_and_error_replies() -> None:
    assert render_reply(AgentMessage("Mike Tech", "On it", 5)) == {
        "type": "agent",
        "name": "Mike Tech",
        "text": "On it",
    }
    assert render_reply(LinkRequired(url="http://bot/widget/frame#signin", text="Sign in")) == {
        "type": "signin_required",
        "text": "Sign in",
    }
    error = render_reply(
        ErrorReply("Oops", (Action(id="talk_to_human", kind="talk_to_human", label="Talk"),))
    )
    assert error["type"] == "error" and error["code"] == "turn" and error["text"] == "Oops"
    assert [a["kind"] for a in error["actions"]] == ["talk_to_human"]


def test_reply_text_is_what_the_engine_stores() -> None:
    assert reply_text(CONFIRM) == confirmations.render_confirm_text(CONFIRM)
    assert is_confirm_text(confirmations.render_confirm_text(CONFIRM))
    assert not is_confirm_text("Cancelled — nothing was changed.")
    assert reply_text(HandoffStatus(state="joined", text="Mike Tech joined")) == "Mike Tech joined"
    assert reply_text(Typing()) is None


@pytest.mark.parametrize(
    ("url", "safe"),
    [
        ("https://help.example/kb/2", True),
        ("http://127.0.0.1:8080/kb?id=2", True),
        ("javascript:alert(1)", False),
        ("JaVaScRiPt:alert(1)", False),
        ("data:text/html,<script>", False),
        ("/relative/path", False),
        ("//evil.example/x", False),
        ("https://", False),
        ("", False),
        (None, False),
    ],
)
def test_only_absolute_http_urls_survive(url: str | None, safe: bool) -> None:
    assert (safe_url(url) is not None) is safe


def test_stored_user_rows_keep_their_client_id_and_hide_button_presses() -> None:
    frame = render_stored(row("user", "Hi <b>there</b>", event_id="web:abc12345"))
    assert frame == {"type": "user", "client_id": "abc12345", "text": "Hi <b>there</b>", "seq": 12}
    slack = render_stored(row("user", "hello", event_id="Ev123"))
    assert slack is not None and slack["client_id"] is None
    assert render_stored(row("user", "[pressed confirm]", event_id="web:abc12345")) is None


def test_stored_answers_offer_feedback_only_for_model_answers() -> None:
    answered = render_stored(row("assistant", "Answer", input_tokens=120, feedback=-1))
    assert answered is not None and answered["type"] == "message"
    assert [a["id"] for a in answered["actions"]] == ["feedback:41", "feedback:41"]
    assert answered["feedback"] == "down" and answered["sources"] == []
    said = render_stored(row("assistant", "Cancelled — nothing was changed."))
    assert said is not None and said["actions"] == []


def test_stored_rows_users_never_see_are_skipped() -> None:
    assert render_stored(row("tool", '{"results": []}', tool_call_id="c1")) is None
    assert render_stored(row("system", "Result of create_ticket ...")) is None
    assert render_stored(row("assistant", "", tool_calls=[{"id": "c1"}])) is None


def test_stored_agent_and_notice_rows() -> None:
    assert render_stored(row("agent", "Hi", author="Mike Tech")) == {
        "type": "agent",
        "name": "Mike Tech",
        "text": "Hi",
        "seq": 12,
    }
    assert render_stored(row("notice", "Mike Tech joined")) == {
        "type": "notice",
        "text": "Mike Tech joined",
        "seq": 12,
    }


def test_a_stored_confirm_has_buttons_only_while_its_action_is_pending() -> None:
    text = confirmations.render_confirm_text(CONFIRM)

    stale = render_stored(row("notice", text))
    live = render_stored(row("notice", text), live_confirm=pending("pa-9"))

    assert stale is not None and stale["type"] == "confirm" and stale["actions"] == []
    assert stale["text"] == text and stale["title"] is None
    assert live is not None
    assert [(a["id"], a["label"]) for a in live["actions"]] == [
        ("confirm:pa-9", "Confirm"),
        ("cancel:pa-9", "Cancel"),
    ]
