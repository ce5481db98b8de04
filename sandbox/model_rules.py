"""The stand-in model's intent rules: which tool to call from the user's words, or when to answer.

Deterministic rules, a stand-in for a real model in demos and tests, never a product feature.
Intent is read ONLY from the user's own messages; tool results are data that shape the answer
and the one structural follow-up (read the top KB article), never a source of tool calls —
that is what makes prompt-injection tests meaningful. The answer text itself (grounded only
in the tool results), small talk and summaries are composed in `sandbox.model_answers`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sandbox.model_answers import (
    URGENT,
    answer_from_results,
    cannot_do,
    small_talk,
    summarize,
    trim,
)

MAX_TOOL_STEPS = 4
_MAX_QUERY = 200
_MAX_SUBJECT = 80


@dataclass(frozen=True, slots=True)
class Call:
    """A tool call the assistant made earlier in the conversation."""

    id: str
    name: str
    arguments: str


@dataclass(frozen=True, slots=True)
class Message:
    """One request message reduced to what the rules read."""

    role: str
    text: str = ""
    calls: tuple[Call, ...] = ()
    tool_call_id: str | None = None


@dataclass(frozen=True, slots=True)
class Planned:
    """A tool call the stand-in decided to make."""

    name: str
    arguments: dict[str, Any] = field(default_factory=dict)

    def key(self) -> tuple[str, str]:
        return self.name, json.dumps(self.arguments, sort_keys=True)


@dataclass(frozen=True, slots=True)
class Decision:
    """What one model step produces: text, or tool calls; `rule` names why (for the log)."""

    rule: str
    text: str | None = None
    calls: tuple[Planned, ...] = ()


def decide(messages: Sequence[Message], offered: frozenset[str]) -> Decision:
    """One model step over a conversation, given the names of the tools offered."""
    if not offered and (prompt := _summary_prompt(messages)) is not None:
        return Decision("summarize", text=summarize(prompt))
    last = next((m for m in reversed(messages) if m.role not in ("system", "developer")), None)
    if last is None:
        return Decision("no_user_message", text="Hi! What can I help you with today?")
    if last.role == "user":
        return _from_user(messages, offered)
    if last.role == "tool":
        return _from_tool_results(messages, offered)
    return Decision("assistant_last", text="Is there anything else I can help you with?")


# --- intent from the user's words ---------------------------------------------------------

_GREETING = {"hi", "hello", "hey", "hiya", "yo", "morning", "good", "afternoon", "evening"}
_THANKS = {"thanks", "thank", "thx", "ty", "cheers", "great", "perfect", "awesome", "cool"}
_ACK = {"yes", "no", "yep", "nope", "sure", "ok", "okay", "fine", "alright", "k"}
_FILLER = {"there", "you", "so", "much", "very", "a", "lot", "ok", "okay", "all", "bye"}
_FILLER |= {"goodbye", "got", "it", "team", "bot", "again", "many", "that", "helps", "helped"}
_NUMBER = r"#?\s?(\d{3,7})\b"
_TICKET_REF = re.compile(
    r"(?:#\s?(\d{3,7})\b|\bticket\s*(?:number|no\.?|num|#)?\s*#?(\d{3,7})\b)", re.I
)
_BARE_NUMBER = re.compile(r"\b(\d{4,7})\b", re.I)
_STATUS_WORDS = re.compile(
    r"\b(status|happening|update|updates|progress|news|where|check|look up|details|about)\b", re.I
)
_CHAT_TO_TICKET = re.compile(
    r"\b(turn|make|convert|save)\b.*\b(this|chat|conversation)\b.*\bticket\b"
    r"|\bticket\b.*\b(from|of)\s+(this|the|our)\s+(chat|conversation)\b",
    re.I,
)
_REJECT = re.compile(r"\breject\s+(?:ticket\s+)?" + _NUMBER, re.I)
_REASON = re.compile(r"\b(?:because|since|due to|reason(?:\s+is)?\s*:?|as)\s+(.+)$", re.I | re.S)
_APPROVE = re.compile(r"\bapprove\s+(?:ticket\s+)?" + _NUMBER, re.I)
_CLOSE = re.compile(r"\b(close|reopen)\b", re.I)
_COMMENT = re.compile(r"\b(comment|add (?:a )?note|note to|note on)\b", re.I)
_COMMENT_TEXT = re.compile(
    r"(?:\b(?:comment|note)\s*:|\bsaying\b|\bthat says\b|\d{3,7}\s*:)\s*(.+)$", re.I | re.S
)
_CREATE = re.compile(
    r"\b(?:create|open|file|raise|submit|log|make|start|lodge|put in|need|want)\s+(?:me\s+)?"
    r"(?:a\s+|an\s+|new\s+|another\s+|one\s+)*(?:support\s+|helpdesk\s+|it\s+)?"
    r"(?:ticket|incident|case)\b(?!\s*#?\d)|\bnew ticket\b",
    re.I,
)
_HUMAN = re.compile(
    r"\b(human|real person|a person|an agent|live agent|agent|technician|talk to|speak to"
    r"|speak with|talk with|connect me|(?:get|need|want)\s+(?:someone|somebody))\b",
    re.I,
)
_APPROVALS = re.compile(r"\bapprovals?\b|\bto approve\b|\bawaiting (?:my )?approval\b", re.I)
_MY_TICKETS = re.compile(
    r"\bmy\s+(?:\w+\s+)?(?:tickets|requests|cases)\b|\b(?:open|closed|pending|active)\s+tickets\b"
    r"|\bticket status\b|\bstatus of my\b|\btickets\b.*\b(?:i have|i've|i opened|i raised)\b",
    re.I,
)
_ASSETS = re.compile(
    r"\b(?:my|which|what|list|show)\b.*\b(?:assets?|equipment|devices?|laptops?|computers?"
    r"|machines?|hardware)\b|\bserial number\b|\basset tag\b",
    re.I,
)
# "How do I set up the VPN on my laptop?" is a how-to question, not a request for the asset list.
_HOW_TO = re.compile(r"\bhow\s+(?:do|can|could|should|would|to)\b", re.I)
_OUTAGE = re.compile(
    r"\boutages?\b|\bis\s+(?:the\s+)?[\w\s.-]{1,30}?\s+down\b|\bdown for\b|\bstatus of (?:the )?"
    r"(?:services|systems)\b|\b(?:service|system)s? status\b|\bany(?:one|body) else\b"
    r"|\beveryone else\b|\bknown (?:issues|problems)\b",
    re.I,
)
_SERVICE = re.compile(
    r"\b(vpn|wi-?fi|wireless|network|internet|e-?mail|outlook|mailbox|mail)\b", re.I
)
_PROBLEM = re.compile(
    r"\b(not working|isn't working|isnt working|doesn't work|does not work|won't|wont|can't"
    r"|cant|cannot|unable|fails?|failing|failed|errors?|broken|drop(?:s|ping|ped)?"
    r"|disconnect\w*|slow|issues?|problems?|trouble|keeps|stuck|crash\w*)\b",
    re.I,
)
_JOB_TYPES = (
    (re.compile(r"\b(vpn|wi-?fi|wireless|network|internet)\b", re.I), "Network"),
    (re.compile(r"\b(printer|printing|laptop|monitor|keyboard|mouse|dock)\b", re.I), "Hardware"),
    (re.compile(r"\b(outlook|e-?mail|mailbox|calendar)\b", re.I), "Email"),
    (
        re.compile(r"\b(password|mfa|2fa|locked|lockout|login|log in|sign in)\b", re.I),
        "Account & Password",
    ),
)


def _flat(text: str) -> str:
    """Straight apostrophes, single spaces: every pattern runs on this one string."""
    text = text.replace("\u2019", "'").replace("\u2018", "'")
    return re.sub(r"\s+", " ", text).strip()


def _ticket_number(text: str, *, bare_ok: bool) -> int | None:
    if m := _TICKET_REF.search(text):
        return int(m.group(1) or m.group(2))
    if bare_ok and (m := _BARE_NUMBER.search(text)):
        return int(m.group(1))
    return None


def _classify(text: str, history: Sequence[str]) -> Decision:
    """The user's intent as a Decision whose calls are not yet filtered by what is offered."""
    t = _flat(text)
    words = re.findall(r"[a-z']+", t.lower())
    if words and set(words) <= _ACK:
        return Decision("small_talk", text=small_talk(kind="ack"))
    if words and len(words) <= 6 and set(words) <= _GREETING | _THANKS | _FILLER:
        thanks = bool(set(words) & _THANKS) or "bye" in words or "goodbye" in words
        return Decision("small_talk", text=small_talk(kind="thanks" if thanks else "greeting"))
    if _CHAT_TO_TICKET.search(t):
        return Decision("create_ticket_from_chat", calls=(Planned("create_ticket_from_chat"),))
    if m := _REJECT.search(t):
        number = int(m.group(1))
        reason = _REASON.search(t[m.end() :])
        if reason is None:
            return Decision("reject_needs_reason", text=f"Why are you rejecting ticket #{number}?")
        args = {"ticket_number": number, "reason": trim(reason.group(1), 300)}
        return Decision("reject_ticket", calls=(Planned("reject_ticket", args),))
    if m := _APPROVE.search(t):
        args = {"ticket_number": int(m.group(1))}
        return Decision("approve_ticket", calls=(Planned("approve_ticket", args),))
    if (m := _CLOSE.search(t)) and (closing := _ticket_number(t, bare_ok=True)) is not None:
        status = "closed" if m.group(1).lower() == "close" else "open"
        args = {"ticket_number": closing, "status": status}
        return Decision("update_ticket", calls=(Planned("update_ticket", args),))
    if _COMMENT.search(t) and (target := _ticket_number(t, bare_ok=True)) is not None:
        body = _COMMENT_TEXT.search(t)
        if body is None or not body.group(1).strip():
            return Decision("comment_needs_text", text=f"What should the comment on #{target} say?")
        args = {"ticket_number": target, "comment": body.group(1).strip()[:2000]}
        return Decision("add_ticket_comment", calls=(Planned("add_ticket_comment", args),))
    if m := _CREATE.search(t):
        return _create_ticket(t, m, history)
    if _HUMAN.search(t):
        args = {"reason": "User asked for a person: " + trim(t, 150)}
        return Decision("escalate_to_human", calls=(Planned("escalate_to_human", args),))
    if _APPROVALS.search(t):
        return Decision("list_pending_approvals", calls=(Planned("list_pending_approvals"),))
    explicit = _ticket_number(t, bare_ok=False)
    asked = explicit if explicit is not None else _ticket_number(t, bare_ok=True)
    if asked is not None and (explicit is not None or _STATUS_WORDS.search(t)):
        args = {"ticket_number": asked}
        return Decision("get_ticket", calls=(Planned("get_ticket", args),))
    if _MY_TICKETS.search(t):
        return Decision("list_my_tickets", calls=(Planned("list_my_tickets", _status_filter(t)),))
    if _ASSETS.search(t) and not _PROBLEM.search(t) and not _HOW_TO.search(t):
        return Decision("list_my_assets", calls=(Planned("list_my_assets"),))
    query = {"query": trim(t, _MAX_QUERY)}
    if _SERVICE.search(t) and _PROBLEM.search(t):
        calls = (Planned("check_outages"), Planned("search_kb", query))
        return Decision("service_problem", calls=calls)
    if _OUTAGE.search(t):
        return Decision("check_outages", calls=(Planned("check_outages"),))
    return Decision("search_kb", calls=(Planned("search_kb", query),))


def _status_filter(t: str) -> dict[str, Any]:
    for pattern, status in (
        (r"\bin[ -]progress\b", "in_progress"),
        (r"\bon[ -]hold\b", "on_hold"),
        (r"\bclosed\b", "closed"),
        (r"\bopen\b", "open"),
        (r"\ball\b", "all"),
    ):
        if re.search(pattern, t, re.I):
            return {"status": status}
    return {}


_CONNECTORS = re.compile(
    r"^(?:\s|[:,;.!-]|\b(?:for me|for|about|because|regarding|re|saying|that|to say|on|as)\b)+",
    re.I,
)
_TAIL_FILLER = re.compile(
    r"(?:\s|[:,;.!-]|\b(?:please|pls|can you|could you|would you|so|and|i want to|i'd like to"
    r"|i would like to|i need to|let's|help me|hi|hello|hey)\b)+$",
    re.I,
)

_FEEDBACK = re.compile(
    r"^(?:that|this|it|still|nope|no|ok|okay|nothing|didn't|did not)\b.{0,25}$", re.I
)
_SUBJECT_TAIL = re.compile(
    r"(?:[\s,;:!.-]|\b(?:urgent(?:ly)?|asap|please|pls|thanks|thank you)\b)+$", re.I
)


def _create_ticket(t: str, m: re.Match[str], history: Sequence[str]) -> Decision:
    """Subject from the words around the request phrase; an earlier problem if there are none."""
    after = _CONNECTORS.sub("", t[m.end() :]).strip()
    before = _TAIL_FILLER.sub("", t[: m.start()]).strip()
    if _FEEDBACK.match(before):
        before = ""  # "that didn't help, open a ticket": the problem was stated earlier
    problem = after if len(after) >= 8 else before
    description = t
    if len(problem) < 8:
        earlier = next((h for h in reversed(history) if _is_problem(h)), None)
        if earlier is None:
            return Decision("create_needs_details", text="Sure — what should the ticket be about?")
        problem = _flat(earlier)
        description = f"{problem}\n\n{t}"
    sentence = re.split(r"(?<=[.!?])\s", problem, maxsplit=1)[0]
    subject = trim(_SUBJECT_TAIL.sub("", sentence) or sentence, _MAX_SUBJECT)
    subject = subject[:1].upper() + subject[1:]
    both = problem + " " + t
    job_type = next((name for rx, name in _JOB_TYPES if rx.search(both)), "General")
    args = {
        "subject": subject,
        "description": description,
        "priority": 2 if URGENT.search(both) else 3,
        "job_type": job_type,
    }
    return Decision("create_ticket", calls=(Planned("create_ticket", args),))


def _is_problem(text: str) -> bool:
    return _classify(text, ()).rule in ("search_kb", "service_problem")


def _from_user(messages: Sequence[Message], offered: frozenset[str]) -> Decision:
    users = [m.text for m in messages if m.role == "user"]
    wanted = _classify(users[-1], users[:-1])
    if not wanted.calls:
        return wanted
    calls = tuple(c for c in wanted.calls if c.name in offered)
    if not calls:
        return Decision(
            f"{wanted.rule}:not_offered",
            text=cannot_do(wanted.calls[0].name, can_escalate="escalate_to_human" in offered),
        )
    return Decision(wanted.rule, calls=calls)


# --- after tool results -------------------------------------------------------------------


def _from_tool_results(messages: Sequence[Message], offered: frozenset[str]) -> Decision:
    start = max((i for i, m in enumerate(messages) if m.role == "user"), default=-1) + 1
    turn = messages[start:]
    calls = {c.id: c for m in turn if m.role == "assistant" for c in m.calls}
    steps = sum(1 for m in turn if m.role == "assistant" and m.calls)
    results: list[tuple[Call, Any]] = []
    for m in turn:
        if m.role == "tool" and m.tool_call_id in calls:
            results.append((calls[m.tool_call_id], _parse(m.text)))
    done = {Planned(c.name, _parse_args(c.arguments)).key() for c in calls.values()}
    if steps < MAX_TOOL_STEPS and "get_kb_article" in offered:
        follow = _read_top_article(results)
        if follow is not None and follow.key() not in done:
            return Decision("read_top_article", calls=(follow,))
    named = [(call.name, data) for call, data in results]
    return Decision("answer", text=answer_from_results(named))


def _read_top_article(results: Sequence[tuple[Call, Any]]) -> Planned | None:
    if any(call.name == "get_kb_article" for call, _ in results):
        return None
    for call, data in reversed(results):
        if call.name == "search_kb" and isinstance(data, dict):
            articles = data.get("articles")
            if isinstance(articles, list) and articles and isinstance(articles[0], dict):
                article_id = articles[0].get("article_id")
                if isinstance(article_id, int):
                    return Planned("get_kb_article", {"article_id": article_id})
    return None


def _parse(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return {"raw": text}


def _parse_args(arguments: str) -> dict[str, Any]:
    parsed = _parse(arguments or "{}")
    return parsed if isinstance(parsed, dict) else {"raw": arguments}


def _summary_prompt(messages: Sequence[Message]) -> str | None:
    for m in messages:
        low = m.text.lstrip().lower()
        if m.role != "tool" and (low.startswith("summarize") or "write the handoff note" in low):
            return m.text
    return None
