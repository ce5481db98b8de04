"""Pure Adaptive Card rendering of the engine's replies and the helpdesk's records for Teams.

Every function returns data (`Outgoing`: Teams-markdown text plus Adaptive Card contents);
nothing here calls Teams. Answers travel as the message's `text` (Teams renders a subset
of Markdown: https://learn.microsoft.com/microsoftteams/platform/task-modules-and-cards/cards/cards-format)
with their buttons in a card beside it; confirm-requests, sign-in, tickets and outages are
cards. Buttons are `Action.Submit` whose `data` carries the engine's action id (`hb`) and
value (`v`); a confirm card also echoes what it shows, so the card can be redrawn with its
outcome after the click without storing it. Card schema (1.5 is what Teams renders):
https://adaptivecards.io/explorer/
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from adapters.teams.activities import ACTION_KEY, VALUE_KEY
from adapters.vocabulary import priorities, statuses
from bot import prompts
from bot.helpdesk.models import Outage, Ticket
from bot.messages import (
    Action,
    AgentMessage,
    ConfirmRequest,
    ErrorReply,
    HandoffStatus,
    LinkRequired,
    Message,
    Source,
)

Card = dict[str, Any]

ADAPTIVE_CARD = "application/vnd.microsoft.card.adaptive"
CARD_VERSION = "1.5"
TEXT_LIMIT = 24_000  # a Teams message is at most ~28 KB including its card
OUTAGE_ICONS = {"outage": "🔴", "degraded": "🟠", "maintenance": "🛠️", "resolved": "✅"}
HANDOFF_ICONS = {"queued": "⏳", "joined": "🙋", "ended": "✅", "cancelled": "↩️"}


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One Teams message: Markdown `text` and/or Adaptive Cards (attachments)."""

    text: str | None = None
    cards: list[Card] = field(default_factory=list)
    summary: str | None = None  # the notification preview when the message is only a card


# --- text ----------------------------------------------------------------------------------


def truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


_HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*$", re.MULTILINE)


def teams_markdown(markdown: str) -> str:
    """The engine's Markdown as Teams renders it: headings become bold lines (Teams shows
    `#` literally in bot messages), everything else is kept."""
    return truncate(_HEADING.sub(r"**\1**", markdown), TEXT_LIMIT)


def sources_line(sources: Sequence[Source]) -> str:
    links = [f"[{_link_text(source.title)}]({source.url})" for source in sources[:8]]
    return "📄 " + prompts.reply("teams_sources", links=" · ".join(links)) if links else ""


def _link_text(title: str) -> str:
    return truncate(title.replace("[", "(").replace("]", ")"), 120)


def answer_text(text: str, sources: Sequence[Source]) -> str:
    line = sources_line(sources)
    body = teams_markdown(text)
    return f"{body}\n\n{line}" if line else body


# --- card pieces ---------------------------------------------------------------------------


def adaptive_card(body: list[Card], actions: list[Card] | None = None) -> Card:
    card: Card = {
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": CARD_VERSION,
        "body": body,
        "msteams": {"width": "Full"},
    }
    if actions:
        card["actions"] = actions
    return card


def text_block(text: str, **extra: Any) -> Card:
    return {"type": "TextBlock", "text": truncate(text, 4000), "wrap": True} | extra


def submit(action: Action, **echo: Any) -> Card:
    """An Action.Submit carrying the engine's action id and value back to the bot."""
    data: dict[str, Any] = {ACTION_KEY: action.id} | echo
    if action.value is not None:
        data[VALUE_KEY] = action.value
    button: Card = {"type": "Action.Submit", "title": truncate(action.label, 60), "data": data}
    if action.style == "primary":
        button["style"] = "positive"
    elif action.style == "danger":
        button["style"] = "destructive"
    return button


def open_url(label: str, url: str) -> Card:
    return {"type": "Action.OpenUrl", "title": label, "url": url}


def buttons(actions: Sequence[Action], **echo: Any) -> list[Card]:
    rendered = []
    for action in actions[:6]:  # Teams shows at most 6 card actions
        if action.url is not None:
            rendered.append(open_url(action.label, action.url))
        else:
            rendered.append(submit(action, **echo))
    return rendered


def _facts(pairs: Iterable[tuple[str, str]]) -> Card:
    return {
        "type": "FactSet",
        "facts": [{"title": truncate(k, 60), "value": truncate(v, 1000)} for k, v in pairs],
    }


# --- engine replies ------------------------------------------------------------------------


def render_message(message: Message) -> Outgoing:
    """An answer: its Markdown (with sources as links) as text, its buttons as a card."""
    text = answer_text(message.text, message.sources)
    if not message.actions:
        return Outgoing(text=text)
    echo: dict[str, Any] = {}
    if any(action.kind == "feedback" for action in message.actions) and message.sources:
        echo["src"] = [[s.title, s.url] for s in message.sources[:8]]
    return Outgoing(text=text, cards=[adaptive_card([], buttons(message.actions, **echo))])


def render_feedback_outcome(
    text: str, sources: Sequence[Sequence[str]], score: str | None
) -> Outgoing:
    """The answer after 👍/👎: the same text, no buttons, a thank-you."""
    kept = [Source(0, str(pair[0]), str(pair[1])) for pair in sources if len(pair) == 2]
    thanks = prompts.reply("button_rating_thanks") + (" 👍" if score == "up" else "")
    body = [text_block(thanks, isSubtle=True, size="Small")]
    return Outgoing(text=answer_text(text, kept), cards=[adaptive_card(body)])


def render_confirm(confirm: ConfirmRequest) -> Outgoing:
    """A proposed write: what will be written, notices, then Confirm / Cancel (+ offers)."""
    echo = {"t": confirm.title, "f": [[f.label, f.value] for f in confirm.fields]}
    body = _confirm_body(confirm.title, [(f.label, f.value) for f in confirm.fields])
    for notice in confirm.notices:
        body.append(text_block(f"⚠️ {notice}", color="Warning"))
    card = adaptive_card(body, buttons(confirm.actions, **echo))
    summary = prompts.reply("channel_please_confirm", title=truncate(confirm.title, 200))
    return Outgoing(cards=[card], summary=summary)


def _confirm_body(title: str, fields: Iterable[tuple[str, str]]) -> list[Card]:
    return [text_block(title, weight="Bolder", size="Medium"), _facts(fields)]


def _echoed(data: Mapping[str, Any]) -> tuple[str, list[tuple[str, str]]]:
    title = str(data.get("t") or prompts.reply("teams_your_request"))
    pairs = [
        (str(pair[0]), str(pair[1]))
        for pair in data.get("f") or []
        if isinstance(pair, list | tuple) and len(pair) == 2
    ]
    return title, pairs


def render_confirm_working(data: Mapping[str, Any], *, who: str | None = None) -> Card:
    """The pressed card at once: buttons gone, so nobody presses twice while it runs."""
    title, pairs = _echoed(data)
    note = "⏳ " + (
        prompts.reply("channel_confirmed_working", who=who)
        if who
        else prompts.reply("channel_working")
    )
    return adaptive_card([*_confirm_body(title, pairs), text_block(note, isSubtle=True)])


def render_confirm_outcome(data: Mapping[str, Any], outcome: str) -> Card:
    """The card after the press: what was proposed and what happened; no buttons."""
    title, pairs = _echoed(data)
    return adaptive_card([*_confirm_body(title, pairs), text_block(teams_markdown(outcome))])


def render_handoff(status: HandoffStatus) -> Outgoing:
    icon = HANDOFF_ICONS.get(status.state, "ℹ️")
    return Outgoing(text=f"{icon} {teams_markdown(status.text)}")


def render_agent_message(message: AgentMessage) -> Outgoing:
    name = message.agent_name.replace("*", "")
    label = prompts.reply("channel_agent_label", name=f"**{name}**")
    return Outgoing(text=f"🧑‍💼 {label}\n\n{teams_markdown(message.text)}")


def render_link_required(link: LinkRequired) -> Outgoing:
    """The sign-in card: one button to the account-link page."""
    label = prompts.reply("label_link_account")
    card = adaptive_card([text_block(link.text)], [open_url(label, link.url)])
    return Outgoing(cards=[card], summary=link.text)


def render_error(error: ErrorReply) -> Outgoing:
    text = teams_markdown(error.text)
    if not error.actions:
        return Outgoing(text=text)
    return Outgoing(text=text, cards=[adaptive_card([], buttons(error.actions))])


def render_notice(text: str) -> Outgoing:
    return Outgoing(text=teams_markdown(text))


def render_welcome(tenant_name: str, *, personal: bool) -> Outgoing:
    where = (
        prompts.reply("teams_welcome_personal")
        if personal
        else prompts.reply("teams_welcome_group")
    )
    return Outgoing(text=prompts.reply("teams_welcome", tenant_name=tenant_name, where=where))


def render_help() -> Outgoing:
    return Outgoing(text=prompts.reply("teams_help"))


# --- helpdesk records ----------------------------------------------------------------------


def ticket_facts(ticket: Ticket) -> list[str]:
    facts = [statuses().get(ticket.status, ticket.status)]
    if ticket.priority is not None:
        priority = priorities().get(ticket.priority, ticket.priority)
        facts.append(prompts.reply("channel_fact_priority", priority=priority))
    if ticket.job_type:
        facts.append(ticket.job_type)
    if ticket.approval_status == "pending":
        facts.append(prompts.reply("channel_awaiting_approval"))
    if ticket.assigned_tech_name:
        facts.append(prompts.reply("channel_fact_assigned", name=ticket.assigned_tech_name))
    if ticket.updated_at is not None:
        date = f"{ticket.updated_at:%d %b %Y}"
        facts.append(prompts.reply("channel_fact_updated", date=date))
    return facts


def ticket_container(ticket: Ticket) -> Card:
    return {
        "type": "Container",
        "separator": True,
        "items": [
            text_block(f"#{ticket.ticket_number} {truncate(ticket.subject, 200)}", weight="Bolder"),
            text_block(" · ".join(ticket_facts(ticket)), isSubtle=True, spacing="None"),
        ],
    }


def render_tickets(tickets: Sequence[Ticket]) -> Outgoing:
    if not tickets:
        return Outgoing(text=prompts.reply("channel_no_tickets"))
    heading = prompts.reply("channel_your_tickets")
    body = [text_block(heading, weight="Bolder", size="Medium")]
    body += [ticket_container(ticket) for ticket in tickets[:15]]
    return Outgoing(cards=[adaptive_card(body)], summary=heading)


def outage_container(outage: Outage) -> Card:
    icon = OUTAGE_ICONS.get(outage.status, "⚠️")
    where = outage.site_name or "all sites"
    detail = f"{outage.service}: {outage.status} · {where}"
    if outage.message:
        detail += f" — {truncate(outage.message, 400)}"
    return {
        "type": "Container",
        "separator": True,
        "items": [
            text_block(f"{icon} {outage.title}", weight="Bolder"),
            text_block(detail, isSubtle=True, spacing="None"),
        ],
    }


def render_outages(outages: Sequence[Outage]) -> Outgoing:
    current = [outage for outage in outages if outage.status != "resolved"]
    if not current:
        return Outgoing(text=prompts.reply("channel_no_outages"))
    body = [outage_container(outage) for outage in current[:20]]
    summary = prompts.reply("channel_active_outages", count=len(current))
    return Outgoing(cards=[adaptive_card(body)], summary=summary)


def render_approvals(tickets: Sequence[Ticket]) -> Outgoing:
    """Tickets waiting for the manager: Approve, or Reject with the reason typed in the card."""
    if not tickets:
        return Outgoing(text=prompts.reply("teams_no_approvals"))
    heading = prompts.reply("teams_approvals_heading")
    body: list[Card] = [text_block(heading, weight="Bolder", size="Medium")]
    approve, reject = prompts.reply("label_approve"), prompts.reply("label_reject")
    for ticket in tickets[:10]:
        number = ticket.ticket_number
        container = ticket_container(ticket)
        if ticket.requester_name:
            requested = prompts.reply("channel_requested_by", name=ticket.requester_name)
            container["items"].append(text_block(requested))
        container["items"] += [
            {
                "type": "Input.Text",
                "id": f"reason_{number}",
                "placeholder": prompts.reply("teams_reject_reason_hint"),
                "maxLength": 500,
            },
            {
                "type": "ActionSet",
                "actions": [
                    submit(Action(f"approve:{number}", "confirm", approve, style="primary")),
                    submit(Action(f"reject:{number}", "cancel", reject, style="danger")),
                ],
            },
        ]
        body.append(container)
    summary = prompts.reply("teams_approvals_summary")
    return Outgoing(cards=[adaptive_card(body)], summary=summary)


def render_decided(ticket_number: int, outcome: str) -> Card:
    heading = prompts.reply("channel_ticket_heading", number=ticket_number)
    return adaptive_card([text_block(heading, weight="Bolder"), text_block(outcome)])


def invoke_card(card: Card) -> dict[str, Any]:
    """The `adaptiveCard/action` answer that replaces the pressed card."""
    return {"statusCode": 200, "type": ADAPTIVE_CARD, "value": card}


def invoke_message(text: str) -> dict[str, Any]:
    return {"statusCode": 200, "type": "application/vnd.microsoft.activity.message", "value": text}
