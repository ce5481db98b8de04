"""Pure Block Kit rendering of the engine's replies and the helpdesk's records for Slack.

Every function returns data (text fallback + blocks); nothing here calls Slack. The engine
writes Markdown, which the `markdown` block renders as-is in messages
(https://docs.slack.dev/reference/block-kit/blocks/markdown-block); surfaces without that
block (App Home, modals) get `mrkdwn` sections with escaped values. Block Kit limits that
shape the code are named where they apply:
https://docs.slack.dev/reference/block-kit/blocks
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from adapters.slack.payloads import encode_action_id
from adapters.vocabulary import priorities, statuses
from bot import prompts
from bot.helpdesk.models import Outage, Ticket, TicketDetail
from bot.messages import (
    Action,
    AgentMessage,
    ConfirmRequest,
    ErrorReply,
    HandoffStatus,
    LinkRequired,
    Message,
)

Block = dict[str, Any]

MARKDOWN_LIMIT = 11_000  # all markdown blocks of one message: 12,000 characters
SECTION_LIMIT = 3000  # section text
FIELD_LIMIT = 2000  # one section field
BUTTON_LABEL_LIMIT = 75
CONTEXT_ELEMENTS = 10
FALLBACK_LIMIT = 300  # the notification text; the blocks carry the full message

OUTAGE_ICONS = {"outage": "🔴", "degraded": "🟠", "maintenance": "🛠️", "resolved": "✅"}


@dataclass(frozen=True, slots=True)
class Rendered:
    """One Slack message: `text` is the notification fallback, `blocks` what people see."""

    text: str
    blocks: list[Block] = field(default_factory=list)


# --- text helpers --------------------------------------------------------------------------


def escape(text: str) -> str:
    """Escape user or helpdesk text for `mrkdwn` (only &, < and > are special)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def fallback_text(markdown: str) -> str:
    """A short plain version of Markdown for notifications and screen readers."""
    text = re.sub(r"\[([^\]]+)\]\([^)]+\)", r"\1", markdown)
    text = re.sub(r"[*_`#>]+", "", text)
    return truncate(" ".join(text.split()), FALLBACK_LIMIT) or "…"


def split_markdown(text: str, limit: int = MARKDOWN_LIMIT) -> list[str]:
    """Markdown in pieces of at most `limit` characters, cut at paragraph or line ends."""
    pieces: list[str] = []
    rest = text
    while len(rest) > limit:
        cut = max(rest.rfind("\n\n", 0, limit), rest.rfind("\n", 0, limit))
        if cut <= limit // 2:
            cut = rest.rfind(" ", 0, limit)
        if cut <= 0:
            cut = limit
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip("\n ")
    if rest or not pieces:
        pieces.append(rest)
    return pieces


def markdown_block(text: str) -> Block:
    return {"type": "markdown", "text": text}


def mrkdwn_section(text: str, **extra: Any) -> Block:
    return {
        "type": "section",
        "text": {"type": "mrkdwn", "text": truncate(text, SECTION_LIMIT)},
    } | (extra)


def context(*texts: str) -> Block:
    elements = [{"type": "mrkdwn", "text": truncate(text, SECTION_LIMIT)} for text in texts]
    return {"type": "context", "elements": elements[:CONTEXT_ELEMENTS]}


# --- engine replies ------------------------------------------------------------------------


def button(action: Action, position: int) -> Block:
    element: Block = {
        "type": "button",
        "action_id": encode_action_id(action.id, position),
        "text": {"type": "plain_text", "text": truncate(action.label, BUTTON_LABEL_LIMIT)},
    }
    if action.value is not None:
        element["value"] = action.value[:2000]
    if action.url is not None:
        element["url"] = action.url
    if action.style is not None:
        element["style"] = action.style
    return element


def actions_block(actions: Sequence[Action], *, block_id: str | None = None) -> Block | None:
    if not actions:
        return None
    block: Block = {
        "type": "actions",
        "elements": [button(action, position) for position, action in enumerate(actions[:25])],
    }
    if block_id is not None:
        block["block_id"] = block_id
    return block


def source_blocks(message: Message) -> list[Block]:
    """Sources as link context blocks (at most 10 elements per context block)."""
    links = [f"📄 <{source.url}|{escape(source.title)}>" for source in message.sources]
    return [
        context(*links[start : start + CONTEXT_ELEMENTS])
        for start in range(0, min(len(links), 2 * CONTEXT_ELEMENTS), CONTEXT_ELEMENTS)
    ]


def message_footer(message: Message) -> list[Block]:
    """What follows an answer's text: its sources, then its buttons (👍/👎, offers)."""
    blocks = source_blocks(message)
    actions = actions_block(message.actions, block_id="answer_actions")
    if actions is not None:
        blocks.append(actions)
    return blocks


def render_message(message: Message) -> list[Rendered]:
    """An answer as one message, or several when it exceeds Slack's markdown limit; the
    footer goes on the last one."""
    pieces = split_markdown(message.text)
    rendered = [Rendered(fallback_text(piece), [markdown_block(piece)]) for piece in pieces]
    last = rendered[-1]
    rendered[-1] = Rendered(last.text, last.blocks + message_footer(message))
    return rendered


def render_confirm(confirm: ConfirmRequest) -> Rendered:
    """A proposed write: what will be written, notices, then Confirm / Cancel (+ offers)."""
    blocks: list[Block] = [
        {"type": "header", "text": {"type": "plain_text", "text": truncate(confirm.title, 150)}}
    ]
    fields = [
        {"type": "mrkdwn", "text": truncate(f"*{escape(f.label)}*\n{escape(f.value)}", FIELD_LIMIT)}
        for f in confirm.fields
    ]
    for start in range(0, len(fields), 10):  # a section holds at most 10 fields
        blocks.append({"type": "section", "fields": fields[start : start + 10]})
    if confirm.notices:
        blocks.append(context(*(f"⚠️ {escape(notice)}" for notice in confirm.notices)))
    actions = actions_block(confirm.actions, block_id="confirm_actions")
    if actions is not None:
        blocks.append(actions)
    return Rendered(
        prompts.reply("channel_please_confirm", title=truncate(confirm.title, 200)), blocks
    )


def _without_buttons(blocks: Iterable[Mapping[str, Any]]) -> list[Block]:
    return [dict(block) for block in blocks if block.get("type") != "actions"]


def render_confirm_working(card: Iterable[Mapping[str, Any]], *, user_id: str) -> Rendered:
    """The clicked card at once: buttons gone, so nobody clicks twice while it runs."""
    note = prompts.reply("channel_confirmed_working", who=f"<@{user_id}>")
    blocks = [*_without_buttons(card), context(f"⏳ {note}")]
    return Rendered(prompts.reply("channel_working"), blocks)


def render_confirm_outcome(card: Iterable[Mapping[str, Any]], outcome: str) -> Rendered:
    """The card after the click: what was proposed, and what happened; no buttons."""
    blocks = [b for b in _without_buttons(card) if not _is_working_note(b)]
    return Rendered(fallback_text(outcome), [*blocks, markdown_block(outcome)])


def _is_working_note(block: Mapping[str, Any]) -> bool:
    elements = block.get("elements") or []
    return (
        block.get("type") == "context"
        and len(elements) == 1
        and str(elements[0].get("text", "")).startswith("⏳")
    )


def render_handoff(status: HandoffStatus) -> Rendered:
    icon = {"queued": "⏳", "joined": "🙋", "ended": "✅", "cancelled": "↩️"}.get(status.state, "ℹ️")
    return Rendered(fallback_text(status.text), [context(f"{icon} {escape(status.text)}")])


def render_agent_message(message: AgentMessage) -> Rendered:
    name = escape(message.agent_name)
    return Rendered(
        f"{message.agent_name}: {fallback_text(message.text)}",
        [
            context("🧑‍💼 " + prompts.reply("channel_agent_label", name=f"*{name}*")),
            markdown_block(message.text),
        ],
    )


def render_link_required(link: LinkRequired) -> Rendered:
    label = prompts.reply("label_link_account")
    action = Action(id="link", kind="link", label=label, url=link.url, style="primary")
    return Rendered(
        link.text,
        [
            mrkdwn_section(escape(link.text)),
            {"type": "actions", "block_id": "link_actions", "elements": [button(action, 0)]},
        ],
    )


def render_error(error: ErrorReply) -> Rendered:
    blocks = [markdown_block(error.text)]
    actions = actions_block(error.actions, block_id="error_actions")
    if actions is not None:
        blocks.append(actions)
    return Rendered(fallback_text(error.text), blocks)


def render_notice(text: str) -> Rendered:
    return Rendered(fallback_text(text), [markdown_block(text)])


# --- helpdesk records (also used by App Home and the slash command) -----------------------


def ticket_card(ticket: Ticket) -> list[Block]:
    title = f"*#{ticket.ticket_number} {escape(truncate(ticket.subject, 200))}*"
    facts = [statuses().get(ticket.status, ticket.status)]
    if ticket.priority is not None:
        priority = priorities().get(ticket.priority, ticket.priority)
        facts.append(prompts.reply("channel_fact_priority", priority=priority))
    if ticket.job_type:
        facts.append(escape(ticket.job_type))
    if ticket.approval_status == "pending":
        facts.append(prompts.reply("channel_awaiting_approval"))
    if ticket.assigned_tech_name:
        name = escape(ticket.assigned_tech_name)
        facts.append(prompts.reply("channel_fact_assigned", name=name))
    if ticket.updated_at is not None:
        date = f"{ticket.updated_at:%d %b %Y}"
        facts.append(prompts.reply("channel_fact_updated", date=date))
    return [mrkdwn_section(title), context(" · ".join(facts))]


def ticket_detail(ticket: TicketDetail) -> list[Block]:
    blocks = ticket_card(ticket)
    if ticket.description:
        blocks.append(mrkdwn_section(escape(truncate(ticket.description, 1500))))
    public = [comment for comment in ticket.comments if not comment.is_internal][-3:]
    for comment in public:
        author = escape(comment.author_name or prompts.reply("slack_comment_author_unknown"))
        blocks.append(context(f"💬 *{author}*: {escape(truncate(comment.comment, 500))}"))
    return blocks


def outage_notice(outage: Outage) -> list[Block]:
    icon = OUTAGE_ICONS.get(outage.status, "⚠️")
    where = f" · {escape(outage.site_name or prompts.reply('channel_all_sites'))}"
    blocks = [mrkdwn_section(f"{icon} *{escape(outage.title)}*")]
    detail = f"{escape(outage.service)}: {outage.status}{where}"
    if outage.message:
        detail += f" — {escape(truncate(outage.message, 400))}"
    blocks.append(context(detail))
    return blocks


def active(outages: Iterable[Outage]) -> list[Outage]:
    return [outage for outage in outages if outage.status != "resolved"]


def open_tickets(tickets: Iterable[Ticket]) -> list[Ticket]:
    return [ticket for ticket in tickets if ticket.status != "closed"]


def suggested_prompts(
    outages: Sequence[Outage], tickets: Sequence[Ticket], *, limit: int = 4
) -> list[dict[str, str]]:
    """Up to 4 assistant-thread prompts, live state first: active outages, then the most
    recent open ticket, then everyday requests.
    https://docs.slack.dev/reference/methods/assistant.threads.setSuggestedPrompts
    """
    offered: list[dict[str, str]] = []
    for outage in active(outages)[:2]:
        service, status = outage.service, outage.status
        offered.append(
            {
                "title": truncate(
                    prompts.reply("slack_prompt_outage_title", service=service, status=status), 75
                ),
                "message": prompts.reply("slack_prompt_outage", service=service),
            }
        )
    for ticket in open_tickets(tickets)[:1]:
        number = ticket.ticket_number
        offered.append(
            {
                "title": truncate(prompts.reply("slack_prompt_ticket_title", number=number), 75),
                "message": prompts.reply("slack_prompt_ticket", number=number),
            }
        )
    offered += [
        {
            "title": prompts.reply("slack_prompt_vpn_title"),
            "message": prompts.reply("slack_prompt_vpn"),
        },
        {
            "title": prompts.reply("label_open_ticket"),
            "message": prompts.reply("slack_prompt_open_ticket"),
        },
        {
            "title": prompts.reply("slack_prompt_person_title"),
            "message": prompts.reply("slack_prompt_person"),
        },
    ]
    return offered[:limit]


def render_help() -> Rendered:
    help_text = prompts.reply("slack_help")
    return Rendered(prompts.reply("slack_help_fallback"), [mrkdwn_section(help_text)])


def render_tickets(tickets: Sequence[Ticket], *, heading: str) -> Rendered:
    if not tickets:
        empty = mrkdwn_section(prompts.reply("channel_no_tickets"))
        return Rendered(prompts.reply("slack_no_tickets_fallback"), [empty])
    blocks: list[Block] = [mrkdwn_section(f"*{escape(heading)}*")]
    for ticket in tickets[:15]:  # 2 blocks each; a message holds at most 50 blocks
        blocks += ticket_card(ticket)
    return Rendered(heading, blocks)


def render_outages(outages: Sequence[Outage]) -> Rendered:
    current = active(outages)
    if not current:
        none = mrkdwn_section(prompts.reply("channel_no_outages"))
        return Rendered(prompts.reply("slack_no_outages_fallback"), [none])
    blocks: list[Block] = []
    for outage in current[:20]:
        blocks += outage_notice(outage)
    return Rendered(prompts.reply("channel_active_outages", count=len(current)), blocks)
