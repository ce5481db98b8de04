"""Pure Block Kit rendering: answers, confirm cards and their outcome, link buttons, ticket
cards, outages, suggested prompts, App Home and modals — within Slack's limits."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from adapters.slack.home import HomeState, render_home
from adapters.slack.modals import new_ticket_modal, reject_modal
from adapters.slack.render import (
    MARKDOWN_LIMIT,
    escape,
    fallback_text,
    render_confirm,
    render_confirm_outcome,
    render_confirm_working,
    render_link_required,
    render_message,
    render_outages,
    render_tickets,
    split_markdown,
    suggested_prompts,
    ticket_card,
)
from bot.helpdesk.models import JobType, Outage, Ticket
from bot.messages import Action, ConfirmField, ConfirmRequest, LinkRequired, Message, Source
from tests.fakes.slack_api import _check_blocks

FEEDBACK = (
    Action(id="feedback:7", kind="feedback", label="👍", value="up"),
    Action(id="feedback:7", kind="feedback", label="👎", value="down"),
)


def elements(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for b in blocks if b["type"] == "actions" for e in b["elements"]]


def test_an_answer_is_markdown_then_sources_then_feedback() -> None:
    message = Message(
        text="Restart the **VPN** client.",
        sources=(Source(12, "VPN <setup> & you", "https://kb.example/12"),),
        actions=FEEDBACK,
    )
    [rendered] = render_message(message)
    kinds = [b["type"] for b in rendered.blocks]
    assert kinds == ["markdown", "context", "actions"]
    assert rendered.blocks[0]["text"] == "Restart the **VPN** client."
    assert rendered.blocks[1]["elements"][0]["text"] == (
        "📄 <https://kb.example/12|VPN &lt;setup&gt; &amp; you>"
    )
    buttons = elements(rendered.blocks)
    assert [b["value"] for b in buttons] == ["up", "down"]
    assert len({b["action_id"] for b in buttons}) == 2  # unique though the engine's id is one
    assert rendered.text == "Restart the VPN client."
    assert _check_blocks(rendered.blocks) is None


def test_a_long_answer_is_split_under_slacks_markdown_limit_with_the_footer_last() -> None:
    paragraph = "word " * 400
    text = "\n\n".join([paragraph] * 12)
    pieces = render_message(Message(text=text, actions=FEEDBACK))
    assert len(pieces) >= 2
    assert all(len(p.blocks[0]["text"]) <= MARKDOWN_LIMIT for p in pieces)
    assert " ".join(p.blocks[0]["text"] for p in pieces).split() == text.split()
    assert elements(pieces[-1].blocks) and not elements(pieces[0].blocks)
    assert all(_check_blocks(p.blocks) is None for p in pieces)


def test_split_markdown_cuts_at_paragraphs() -> None:
    assert split_markdown("a" * 10 + "\n\n" + "b" * 10, limit=15) == ["a" * 10, "b" * 10]
    assert split_markdown("short", limit=15) == ["short"]
    assert split_markdown("", limit=15) == [""]


def confirm() -> ConfirmRequest:
    return ConfirmRequest(
        pending_action_id="p1",
        title="Create a ticket",
        fields=(ConfirmField("Subject", "Printer <jams>"), ConfirmField("Priority", "2 — high")),
        notices=("VPN is degraded at Main Office",),
        actions=(
            Action(id="confirm:p1", kind="confirm", label="Confirm", style="primary"),
            Action(id="cancel:p1", kind="cancel", label="Cancel"),
            Action(
                id="comment_instead:p1",
                kind="comment_instead",
                label="Comment on 3018 instead",
                value="3018",
            ),
        ),
    )


def test_a_confirm_card_shows_what_will_be_written_and_its_buttons() -> None:
    card = render_confirm(confirm())
    assert [b["type"] for b in card.blocks] == ["header", "section", "context", "actions"]
    fields = [f["text"] for f in card.blocks[1]["fields"]]
    assert fields == ["*Subject*\nPrinter &lt;jams&gt;", "*Priority*\n2 — high"]
    assert "⚠️ VPN is degraded" in card.blocks[2]["elements"][0]["text"]
    buttons = elements(card.blocks)
    assert [b["text"]["text"] for b in buttons] == ["Confirm", "Cancel", "Comment on 3018 instead"]
    assert buttons[0]["style"] == "primary" and buttons[2]["value"] == "3018"
    assert _check_blocks(card.blocks) is None


def test_after_a_click_the_card_loses_its_buttons_then_shows_the_outcome() -> None:
    card = render_confirm(confirm()).blocks
    working = render_confirm_working(card, user_id="U1")
    assert elements(working.blocks) == []
    assert "<@U1> confirmed" in str(working.blocks[-1])
    done = render_confirm_outcome(working.blocks, "Created ticket **3050**.")
    assert elements(done.blocks) == [] and "working" not in str(done.blocks)
    assert done.blocks[0] == card[0] and done.blocks[-1] == {
        "type": "markdown",
        "text": "Created ticket **3050**.",
    }


def test_the_link_button_opens_the_link_page() -> None:
    rendered = render_link_required(LinkRequired(url="https://bot/link/t", text="Link <me>"))
    [button] = elements(rendered.blocks)
    assert button["url"] == "https://bot/link/t"
    assert button["text"]["text"] == "Link your helpdesk account"
    assert rendered.blocks[0]["text"]["text"] == "Link &lt;me&gt;"


def ticket(number: int, status: str = "open", **extra: Any) -> Ticket:
    values: dict[str, Any] = {
        "ticket_id": number,
        "ticket_number": number,
        "subject": f"Subject {number} <b>",
        "status": status,
        "priority": 2,
        "updated_at": datetime(2026, 3, 4, tzinfo=UTC),
    }
    return Ticket.model_validate(values | extra)


def outage(status: str = "degraded", service: str = "VPN") -> Outage:
    return Outage(outage_id=1, service=service, status=status, title=f"{service} {status}")


def test_ticket_cards_escape_and_summarise() -> None:
    blocks = ticket_card(ticket(3018, approval_status="pending", assigned_tech_name="Sam"))
    assert blocks[0]["text"]["text"] == "*#3018 Subject 3018 &lt;b&gt;*"
    assert blocks[1]["elements"][0]["text"] == (
        "Open · High priority · awaiting approval · with Sam · updated 04 Mar 2026"
    )
    assert "no open tickets" in str(render_tickets([], heading="Yours").blocks)
    many = render_tickets([ticket(n) for n in range(40)], heading="Yours")
    assert _check_blocks(many.blocks) is None  # at most 50 blocks


def test_only_active_outages_are_shown() -> None:
    assert "operational" in str(render_outages([outage("resolved")]).blocks)
    shown = str(render_outages([outage(), outage("resolved", "Mail")]).blocks)
    assert "VPN" in shown and "Mail" not in shown


def test_suggested_prompts_put_live_state_first_and_stop_at_four() -> None:
    prompts = suggested_prompts([outage(), outage("resolved", "Mail")], [ticket(3018)])
    assert [p["title"] for p in prompts] == [
        "VPN is degraded — check status",
        "Status of ticket 3018",
        "Fix a VPN problem",
        "Open a ticket",
    ]
    assert prompts[0]["message"] == "Is there a problem with VPN right now?"
    assert len(suggested_prompts([], [])) == 3
    assert all(len(p["title"]) <= 75 for p in prompts)


def test_home_for_an_unlinked_user_offers_only_the_link() -> None:
    view = render_home(HomeState(link_url="https://bot/link/x"))
    assert view["type"] == "home"
    [button] = elements(view["blocks"])
    assert button["url"] == "https://bot/link/x"


def test_home_for_a_manager_lists_approvals_with_approve_and_reject() -> None:
    view = render_home(
        HomeState(
            linked_as="Mike Manager",
            tickets=[ticket(3012)],
            outages=[outage()],
            approvals=[ticket(3030, requester_name="Jane"), ticket(3031)],
            notice="Approved ticket 3029.",
        )
    )
    text = str(view["blocks"])
    assert "Mike Manager" in text and "#3012" in text and "VPN" in text
    assert "Approved ticket 3029." in text
    decisions = [e for e in elements(view["blocks"]) if e["action_id"].startswith("home:")]
    assert [(e["text"]["text"], e["value"]) for e in decisions if "value" in e] == [
        ("Approve", "3030"),
        ("Reject", "3030"),
        ("Approve", "3031"),
        ("Reject", "3031"),
    ]
    assert _check_blocks(view["blocks"], limit=100) is None


def test_home_says_when_a_section_could_not_load() -> None:
    view = render_home(HomeState(linked_as="Jane", tickets=None, outages=None))
    text = str(view["blocks"])
    assert "Couldn't load your tickets" in text and "Couldn't load outages" in text
    assert "approval" not in text


def test_the_ticket_form_and_the_reject_form() -> None:
    modal = new_ticket_modal(
        [JobType(job_type_id=1, name="Access Request", requires_approval=True)]
    )
    by_id = {b.get("block_id"): b for b in modal["blocks"]}
    assert set(by_id) >= {"subject", "description", "priority", "job_type"}
    assert by_id["priority"]["element"]["initial_option"]["value"] == "3"
    [option] = by_id["job_type"]["element"]["options"]
    assert option == {
        "text": {"type": "plain_text", "text": "Access Request (needs approval)"},
        "value": "Access Request",
    }
    assert by_id["job_type"]["optional"] is True
    assert "job_type" not in {b.get("block_id") for b in new_ticket_modal([])["blocks"]}
    assert len(modal["title"]["text"]) <= 24  # Slack's modal title limit
    reject = reject_modal("3030")
    assert reject["private_metadata"] == "3030" and len(reject["title"]["text"]) <= 24


def test_escaping_and_fallback_text() -> None:
    assert escape("a<b>&c") == "a&lt;b&gt;&amp;c"
    assert fallback_text("**Bold** [link](https://x) `code`") == "Bold link code"
