"""The stand-in model's replies: Markdown answers from tool results, small talk and summaries.

Part of the sandbox's deterministic stand-in model (`sandbox.model_rules` decides which tool
to call; this module writes what it says). Answers are grounded only in the tool results;
summaries and handoff notes are terse and bounded, built from the prompt text alone.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

# Also read by the intent rules: urgent words raise a new ticket's priority.
URGENT = re.compile(
    r"\b(urgent\w*|asap|emergency|critical|down for everyone|can't work|cannot work|cant work)\b",
    re.I,
)

_MAX_STEPS = 6  # article steps shown in an answer
_CAPABILITY = {
    "search_kb": "search the knowledge base",
    "get_kb_article": "open knowledge-base articles",
    "list_my_tickets": "look up your tickets",
    "get_ticket": "look up tickets",
    "create_ticket": "create tickets",
    "create_ticket_from_chat": "create tickets",
    "add_ticket_comment": "comment on tickets",
    "update_ticket": "change tickets",
    "check_outages": "check service status",
    "escalate_to_human": "hand this chat to a person",
    "list_my_assets": "look up your devices",
    "list_pending_approvals": "show approvals",
    "approve_ticket": "approve tickets",
    "reject_ticket": "reject tickets",
}


def small_talk(*, kind: str) -> str:
    if kind == "ack":
        return "OK. Is there anything else I can help you with?"
    if kind == "thanks":
        return "You're welcome! Is there anything else I can help you with?"
    return (
        "Hi! I'm the IT helpdesk assistant. I can answer IT questions from the knowledge "
        "base, check for outages, and look up or create tickets. What can I help you with?"
    )


def cannot_do(tool: str, *, can_escalate: bool) -> str:
    what = _CAPABILITY.get(tool, "do that")
    help_ = (
        "I can connect you with a person from the helpdesk if you like."
        if can_escalate
        else "Please contact the helpdesk team directly and they will help you."
    )
    return f"Sorry, I can't {what} for your account here. {help_}"


def answer_from_results(results: Sequence[tuple[str, Any]]) -> str:
    """A Markdown answer from this turn's (tool name, parsed result) pairs, newest per tool."""
    latest: dict[str, Any] = {}
    for name, data in results:
        latest.pop(name, None)
        latest[name] = data
    article = latest.get("get_kb_article")
    article_ok = isinstance(article, dict) and "article" in article
    parts: list[str] = []
    for name, data in latest.items():
        if name == "search_kb" and article_ok:
            continue
        parts.append(_render(name, data if isinstance(data, dict) else {"raw": str(data)}))
    return "\n\n".join(p for p in parts if p) or "I couldn't find anything for that."


def _render(name: str, data: dict[str, Any]) -> str:
    if "error" in data:
        return f"Sorry, that didn't work: {_s(data['error'])}"
    status = data.get("status")
    if status == "awaiting_confirmation":
        return (
            f"Please confirm below: {_s(data.get('summary'))}\n\n"
            "Nothing is changed until you confirm."
        )
    if status == "queued":
        extra = f" {_s(data['message'])}" if data.get("message") else ""
        return f"I've asked a human agent to join this conversation.{extra}"
    if status == "done":
        number = data.get("ticket_number")
        what = f" Ticket **#{number}**." if number is not None else ""
        extra = f" {_s(data['message'])}" if data.get("message") else ""
        return f"Done.{what}{extra}"
    renderer = _RENDERERS.get(name)
    if renderer is None:
        return f"Here is what `{name}` returned:\n\n```\n{json.dumps(data)[:600]}\n```"
    return renderer(data)


def _s(value: Any) -> str:
    return re.sub(r"\s+", " ", str(value if value is not None else "")).strip()


def _when(value: Any) -> str:
    try:
        return datetime.fromisoformat(str(value)).strftime("%d %b %Y %H:%M UTC")
    except ValueError:
        return _s(value)


def _status(value: Any) -> str:
    return _s(value).replace("_", " ")


def trim(text: str, limit: int) -> str:
    """One line of at most `limit` characters, cut at a word, without closing punctuation."""
    text = re.sub(r"\s+", " ", text).strip().rstrip("?!. ").strip()
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0]
    return cut or text[:limit]


def _search(data: dict[str, Any]) -> str:
    articles = [a for a in data.get("articles") or [] if isinstance(a, dict)]
    if not articles:
        return (
            "I couldn't find anything in the knowledge base that covers this, so I won't "
            "guess at a fix. I can create a ticket for you, or connect you with a person "
            "from the helpdesk — which would you prefer?"
        )
    lines = [
        f"- [{_s(a.get('title'))}]({_s(a.get('url'))}): {_s(a.get('summary'))}"
        for a in articles[:3]
    ]
    return "These knowledge-base articles look relevant:\n" + "\n".join(lines)


def _article(data: dict[str, Any]) -> str:
    article = data.get("article") or {}
    title, url = _s(article.get("title")), _s(article.get("url"))
    body = str(article.get("body") or "")
    steps = re.findall(r"^\s*\d+[.)]\s+(.+)$", body, re.M) or re.findall(
        r"^\s*[-*+]\s+(.+)$", body, re.M
    )
    if steps:
        shown = "\n".join(f"{i}. {_s(step)}" for i, step in enumerate(steps[:_MAX_STEPS], 1))
        more = len(steps) - _MAX_STEPS
        tail = f"\n\nThe article has {more} more step(s)." if more > 0 else ""
        text = f"From **{title}**:\n\n{shown}{tail}"
    else:
        paragraphs = [p for p in re.split(r"\n\s*\n", body) if p.strip() and p[:1] != "#"]
        text = f"From **{title}**:\n\n{trim(' '.join(paragraphs[:2]), 500)}."
    link = f"\n\nFull article: [{title}]({url})" if url else ""
    return text + link + "\n\nIf this doesn't fix it, I can create a ticket for you."


def _outages(data: dict[str, Any]) -> str:
    outages = [o for o in data.get("outages") or [] if isinstance(o, dict)]
    if not outages:
        return "All systems are operational — there are no known outages right now."
    lines = []
    for o in outages:
        site = _s(o.get("site_name")) or "all sites"
        title = f": {_s(o.get('title'))}" if o.get("title") else ""
        message = f" {_s(o.get('message'))}" if o.get("message") else ""
        lines.append(
            f"- **{_s(o.get('service'))}** is {_status(o.get('status'))} at {site} "
            f"since {_when(o.get('started_at'))}{title}.{message}"
        )
    return "Known service issues right now:\n" + "\n".join(lines)


def _tickets(data: dict[str, Any]) -> str:
    tickets = [t for t in data.get("tickets") or [] if isinstance(t, dict)]
    which = "" if data.get("status") in (None, "all") else f"{_status(data.get('status'))} "
    if not tickets:
        return f"You have no {which}tickets."
    total = data["total"] if isinstance(data.get("total"), int) else len(tickets)
    lines = [
        f"- **#{t.get('ticket_number')}** {_s(t.get('subject'))} — {_status(t.get('status'))}, "
        f"priority {t.get('priority')}, updated {_when(t.get('updated_at'))}"
        for t in tickets
    ]
    shown = f" (showing {len(tickets)})" if total > len(tickets) else ""
    return f"You have {total} {which}ticket(s){shown}:\n" + "\n".join(lines)


def _ticket(data: dict[str, Any]) -> str:
    t = data.get("ticket") or {}
    tech = _s(t.get("assigned_tech_name")) or "not assigned yet"
    lines = [
        f"**Ticket #{t.get('ticket_number')} — {_s(t.get('subject'))}**",
        f"- Status: {_status(t.get('status'))}",
        f"- Priority: {t.get('priority')}",
        f"- Type: {_s(t.get('job_type')) or 'not set'}",
        f"- Assigned to: {tech}",
        f"- Opened {_when(t.get('created_at'))}, last updated {_when(t.get('updated_at'))}",
    ]
    comments = [c for c in t.get("comments") or [] if isinstance(c, dict)]
    if comments:
        c = comments[-1]
        lines.append(
            f"\nLatest update from {_s(c.get('author_name'))} ({_when(c.get('created_at'))}): "
            f"{trim(_s(c.get('comment')), 300)}"
        )
    return "\n".join(lines)


def _assets(data: dict[str, Any]) -> str:
    assets = [a for a in data.get("assets") or [] if isinstance(a, dict)]
    if not assets:
        return "I couldn't find any devices assigned to you."
    lines = [
        f"- **{_s(a.get('machine_name'))}** — {_s(a.get('asset_type'))}, "
        f"{_s(a.get('manufacturer'))} {_s(a.get('model'))}, serial {_s(a.get('serial_number'))}"
        f" ({_status(a.get('status'))})"
        for a in assets
    ]
    return "These devices are assigned to you:\n" + "\n".join(lines)


def _approvals(data: dict[str, Any]) -> str:
    tickets = [t for t in data.get("tickets") or [] if isinstance(t, dict)]
    if not tickets:
        return "Nothing is waiting for your approval."
    lines = [
        f"- **#{t.get('ticket_number')}** {_s(t.get('subject'))} — from "
        f"{_s(t.get('requester_name'))} ({_s(t.get('job_type'))}), {_when(t.get('created_at'))}"
        for t in tickets
    ]
    return "These tickets are waiting for your approval:\n" + "\n".join(lines)


_RENDERERS = {
    "search_kb": _search,
    "get_kb_article": _article,
    "check_outages": _outages,
    "list_my_tickets": _tickets,
    "get_ticket": _ticket,
    "list_my_assets": _assets,
    "list_pending_approvals": _approvals,
}


def summarize(prompt: str) -> str:
    """Terse, bounded notes for the summary and handoff prompts (no tools are offered)."""
    if "handoff note" in prompt.lower():
        reason = re.search(r"^Reason for handoff:\s*(.+)$", prompt, re.M)
        body = prompt.split("Never include passwords", 1)[-1].splitlines()[1:]
        talk = [trim(line, 120) for line in body if line.strip()]
        numbers = sorted(set(re.findall(r"#(\d{3,7})\b", prompt)))
        return "\n".join(
            [
                f"Issue: {talk[0] if talk else 'not stated'}",
                f"Tried so far: {talk[-1] if len(talk) > 1 else 'nothing recorded'}",
                "KB articles shown: see transcript",
                "Tickets mentioned: " + (", ".join(f"#{n}" for n in numbers) or "none"),
                f"Urgency: {'high' if URGENT.search(prompt) else 'normal'}",
                f"Reason for handoff: {_s(reason.group(1)) if reason else 'user request'}",
            ]
        )
    marker = "Earlier summary (may be empty):"
    notes = prompt.split(marker, 1)[-1] if marker in prompt else prompt
    lines = [
        trim(line, 100)
        for line in notes.splitlines()
        if line.strip() and not line.startswith("Conversation to fold in")
    ]
    kept: list[str] = []
    budget = 900
    for line in reversed(lines[1:]):
        if budget - len(line) < 0:
            break
        kept.insert(0, line)
        budget -= len(line) + 3
    head = lines[:1] if lines and len(lines[0]) <= budget else []
    return "\n".join(f"- {line}" for line in head + kept) or "- (nothing to summarize)"
