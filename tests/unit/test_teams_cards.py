"""Pure Adaptive Card rendering for Teams: every Reply kind, the outcome after a press, and
the message action's form."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from adapters.teams.cards import (
    ADAPTIVE_CARD,
    invoke_card,
    render_agent_message,
    render_approvals,
    render_confirm,
    render_confirm_outcome,
    render_confirm_working,
    render_error,
    render_feedback_outcome,
    render_handoff,
    render_link_required,
    render_message,
    render_outages,
    render_tickets,
    teams_markdown,
)
from adapters.teams.forms import render_ticket_form, task_continue
from adapters.teams.replies import render_standalone
from bot.helpdesk.models import JobType, Outage, Ticket
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


def actions_of(card: dict[str, Any]) -> list[dict[str, Any]]:
    found = list(card.get("actions") or [])
    stack = list(card.get("body") or [])
    while stack:
        item = stack.pop()
        found += item.get("actions") or [] if item.get("type") == "ActionSet" else []
        stack += item.get("items") or []
    return found


CONFIRM = ConfirmRequest(
    pending_action_id="pa-1",
    title="Create ticket: Monitor flickers",
    fields=(ConfirmField("Subject", "Monitor flickers"), ConfirmField("Priority", "Medium")),
    notices=("An outage affects displays.",),
    actions=(
        Action("confirm:pa-1", "confirm", "Confirm", style="primary"),
        Action("cancel:pa-1", "cancel", "Cancel"),
    ),
)


def test_an_answer_is_teams_markdown_with_sources_as_links_and_buttons_as_a_card() -> None:
    message = Message(
        text="# Fix\nRestart the **VPN** client.",
        sources=(Source(7, "VPN [guide]", "https://kb.example/7"),),
        actions=(
            Action("feedback:9", "feedback", "👍", value="up"),
            Action("feedback:9", "feedback", "👎", value="down"),
        ),
    )
    out = render_message(message)
    assert out.text is not None
    assert out.text.startswith("**Fix**\nRestart the **VPN** client.")
    assert "[VPN (guide)](https://kb.example/7)" in out.text
    [card] = out.cards
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.5"
    buttons = actions_of(card)
    assert [b["title"] for b in buttons] == ["👍", "👎"]
    assert buttons[0]["data"] == {
        "hb": "feedback:9",
        "v": "up",
        "src": [["VPN [guide]", "https://kb.example/7"]],
    }


def test_a_plain_answer_has_no_card() -> None:
    assert render_message(Message(text="Hi")).cards == []


def test_a_confirm_request_shows_what_will_be_written_and_confirm_cancel_submits() -> None:
    out = render_confirm(CONFIRM)
    [card] = out.cards
    assert "Monitor flickers" in str(card["body"]) and "outage" in str(card["body"])
    confirm, cancel = actions_of(card)
    assert (confirm["type"], confirm["title"], confirm["style"]) == (
        "Action.Submit",
        "Confirm",
        "positive",
    )
    assert confirm["data"]["hb"] == "confirm:pa-1" and cancel["data"]["hb"] == "cancel:pa-1"
    assert confirm["data"]["t"] == CONFIRM.title  # the card can be redrawn from the press
    assert out.summary == "Please confirm: Create ticket: Monitor flickers"


def test_after_a_press_the_card_keeps_what_was_proposed_and_loses_its_buttons() -> None:
    data = actions_of(render_confirm(CONFIRM).cards[0])[0]["data"]
    working = render_confirm_working(data)
    outcome = render_confirm_outcome(data, "Created ticket **3031**.")
    for card in (working, outcome):
        assert actions_of(card) == [] and "Monitor flickers" in str(card["body"])
    assert "Working on it" in str(working["body"])
    assert "Created ticket **3031**." in str(outcome["body"])
    assert invoke_card(outcome) == {"statusCode": 200, "type": ADAPTIVE_CARD, "value": outcome}


def test_the_sign_in_card_opens_the_link_page() -> None:
    out = render_link_required(LinkRequired(url="https://bot/link/abc", text="Link first."))
    [card] = out.cards
    assert actions_of(card) == [
        {
            "type": "Action.OpenUrl",
            "title": "Link your helpdesk account",
            "url": "https://bot/link/abc",
        }
    ]


def test_handoff_agent_error_and_rating_replies() -> None:
    assert (
        render_handoff(HandoffStatus("queued", "Waiting for an agent.")).text
        == "⏳ Waiting for an agent."
    )
    agent = render_agent_message(AgentMessage("Alex", "On it."))
    assert agent.text == "🧑‍💼 **Alex** (helpdesk agent)\n\nOn it."
    error = render_error(
        ErrorReply(
            "Failed.", actions=(Action("talk_to_human", "talk_to_human", "Talk to a human"),)
        )
    )
    assert [a["data"]["hb"] for a in actions_of(error.cards[0])] == ["talk_to_human"]
    rating = Message(
        text="How did we do?",
        actions=tuple(Action("rating:5", "rating", str(n), value=str(n)) for n in range(1, 6)),
    )
    assert [a["data"]["v"] for a in actions_of(render_message(rating).cards[0])] == [
        "1",
        "2",
        "3",
        "4",
        "5",
    ]
    assert render_standalone(Typing()) is None and render_standalone(TextDelta("x")) is None


def test_feedback_outcome_keeps_the_answer_without_buttons() -> None:
    out = render_feedback_outcome("Restart it.", [["Guide", "https://kb/1"]], "up")
    assert out.text == "Restart it.\n\n📄 Sources: [Guide](https://kb/1)"
    assert actions_of(out.cards[0]) == [] and "Thanks" in str(out.cards[0])


def test_tickets_outages_and_approvals() -> None:
    ticket = Ticket(
        ticket_id=1,
        ticket_number=3018,
        subject="Laptop",
        status="open",
        priority=2,
        approval_status="pending",
        requester_name="Jane",
        updated_at=datetime(2025, 1, 2, tzinfo=UTC),
    )
    assert "#3018 Laptop" in str(render_tickets([ticket]).cards)
    assert "High priority · awaiting approval" in str(render_tickets([ticket]).cards)
    assert render_tickets([]).text == "You have no open tickets. 🎉"
    outage = Outage(outage_id=1, service="VPN", status="outage", title="VPN down")
    assert "🔴 VPN down" in str(render_outages([outage]).cards)
    assert render_outages([]).text == "✅ All systems are operational."
    [card] = render_approvals([ticket]).cards
    assert [a["data"]["hb"] for a in actions_of(card)] in (
        ["approve:3018", "reject:3018"],
        ["reject:3018", "approve:3018"],
    )
    assert "reason_3018" in str(card["body"])


def test_the_ticket_form_is_prefilled_and_lists_job_types() -> None:
    card = render_ticket_form("Printer jams\nevery page", [JobType(job_type_id=1, name="Hardware")])
    inputs = {item["id"]: item for item in card["body"] if "id" in item}
    assert inputs["subject"]["value"] == "Printer jams"
    assert inputs["description"]["value"] == "Printer jams\nevery page"
    assert inputs["job_type"]["choices"] == [{"title": "Hardware", "value": "Hardware"}]
    task = task_continue(card, title="Create a helpdesk ticket")
    assert task["task"]["value"]["card"] == {"contentType": ADAPTIVE_CARD, "content": card}


def test_headings_become_bold_lines() -> None:
    assert teams_markdown("## Steps\n1. a") == "**Steps**\n1. a"
