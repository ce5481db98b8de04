"""Finds, without a model, the active outages and open tickets a new ticket may duplicate.

The create_ticket confirm-request shows them ("VPN is degraded at Main Office since 09:10
UTC"; "You also have open ticket 3012 'VPN drops'") so the user can comment on the existing
ticket instead. The heuristic is deliberately small and explainable:

- words are lower-cased, split on non-alphanumerics, stop words dropped, crudely stemmed
  ("disconnecting" → "disconnect") and mapped through a short synonym table
  ("disconnect" → "drop", "wi-fi" → "wifi", "printer" → "print");
- each word weighs 1, except names of IT services and devices (`KEY_TERMS`: vpn, outlook,
  printer, ...) which weigh 3 — sharing "vpn" says more than sharing "minutes";
- a ticket is similar when the weighted Dice coefficient of the two word sets is at least
  `SIMILAR_SCORE` and the shared words weigh at least `MIN_SHARED_WEIGHT` (one key term, or
  two ordinary words);
- an outage relates when the new ticket shares a word with its service, or a key term with
  its title; when there are at most `FEW_OUTAGES` active outages all are shown, related first.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from bot.helpdesk.errors import HelpdeskError, ReauthRequired
from bot.helpdesk.models import Outage, Ticket
from bot.tooling import ToolContext
from tools._common import OPEN_STATUSES, concurrent_calls, status_label

SIMILAR_SCORE = 0.4
MIN_SHARED_WEIGHT = 2.0
KEY_TERM_WEIGHT = 3.0
FEW_OUTAGES = 2
MAX_SIMILAR_NOTICES = 2

_STOP_TEXT = """
    a about after again all also always am an and any are as at be because been before being
    but by can cannot cant could did do does doesnt dont each every few for from get gets got
    had has have having he her here him his how i im if in into is isnt it its just keep keeps
    me more most my no not now of off on once only or other our out over own please same she
    should since so some still such than that the their them then there these they this those
    through to too under until up very was we were what when where which while who why will
    with wont would you your yours
    help issue issues problem problems work works working trying tried
    anymore today yesterday morning again ticket new need needs want wants like time times
"""
STOP_WORDS = frozenset(_STOP_TEXT.split())

# Names of services and devices: sharing one of these is strong evidence of the same problem.
_KEY_TEXT = """
    vpn wifi network internet ethernet dns email outlook mailbox calendar teams slack zoom
    print scanner laptop monitor display keyboard mouse dock headset camera phone iphone
    android mfa password login sso account erp crm salesforce sharepoint onedrive share drive
    excel word powerpoint acrobat adobe visio docker github jira confluence wms badge
    certificate license backup server database vm citrix windows macos bluetooth battery
"""
KEY_TERMS = frozenset(_KEY_TEXT.split())

SYNONYMS = {
    "disconnect": "drop",
    "dropout": "drop",
    "wireless": "wifi",
    "mail": "email",
    "e-mail": "email",
    "printer": "print",
    "notebook": "laptop",
    "screen": "display",
    "2fa": "mfa",
    "authenticator": "mfa",
    "logon": "login",
    "signin": "login",
    "sign-in": "login",
    "pwd": "password",
    "cert": "certificate",
    "licence": "license",
    "webcam": "camera",
}

_JOINED = re.compile(r"\b(wi-fi|e-mail|sign-in)\b")
_WORD = re.compile(r"[a-z0-9]+")


def _stem(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    for suffix in ("ing", "ed"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            word = word[: -len(suffix)]
            # "dropped" -> "dropp" -> "drop"; "jammed" -> "jam"
            if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "lsz":
                word = word[:-1]
            return word
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def words(text: str) -> frozenset[str]:
    """The normalized content words of `text` (see the module docstring)."""
    lowered = _JOINED.sub(lambda m: m.group(1).replace("-", ""), text.lower())
    found: set[str] = set()
    for raw in _WORD.findall(lowered.replace("'", "")):
        if raw in STOP_WORDS or len(raw) < 2 or raw.isdigit():
            continue
        stem = _stem(raw)
        if stem in STOP_WORDS:
            continue
        found.add(SYNONYMS.get(stem, SYNONYMS.get(raw, stem)))
    return frozenset(found)


def _weight(items: Iterable[str]) -> float:
    return sum(KEY_TERM_WEIGHT if item in KEY_TERMS else 1.0 for item in items)


def similarity(new: frozenset[str], existing: frozenset[str]) -> float:
    """Weighted Dice coefficient of two word sets (0 when the shared words weigh too little)."""
    shared = _weight(new & existing)
    if shared < MIN_SHARED_WEIGHT:
        return 0.0
    return 2 * shared / (_weight(new) + _weight(existing))


@dataclass(frozen=True, slots=True)
class Match:
    ticket: Ticket
    score: float


def similar_tickets(text: str, tickets: Sequence[Ticket]) -> list[Match]:
    """The user's open tickets that look like the problem in `text`, best first."""
    new = words(text)
    matches = [
        Match(ticket, score)
        for ticket in tickets
        if ticket.status in OPEN_STATUSES
        and (score := similarity(new, words(f"{ticket.subject} {ticket.description or ''}")))
        >= SIMILAR_SCORE
    ]
    return sorted(matches, key=lambda m: (-m.score, -m.ticket.ticket_number))


def related_outages(text: str, outages: Sequence[Outage]) -> list[Outage]:
    """Active outages that concern the problem in `text` (all of them if there are few)."""
    active = [outage for outage in outages if outage.status != "resolved"]
    new = words(text)

    def relates(outage: Outage) -> bool:
        title = words(outage.title) - words(outage.site_name or "")
        return bool(new & words(outage.service) or new & title & KEY_TERMS)

    related = [outage for outage in active if relates(outage)]
    if len(active) <= FEW_OUTAGES:
        return related + [outage for outage in active if outage not in related]
    return related


_OUTAGE_PHRASES = {"degraded": "degraded", "outage": "down", "maintenance": "under maintenance"}


def _clock_time(moment: datetime) -> str:
    """ "09:10 UTC" today, "28 Nov 09:10 UTC" on another day."""
    moment = moment.astimezone(UTC)
    day = "" if moment.date() == datetime.now(UTC).date() else f"{moment:%d %b} "
    return f"{day}{moment:%H:%M} UTC"


def outage_notice(outage: Outage) -> str:
    """ "VPN is degraded at Main Office since 09:10 UTC (VPN disconnects at Main Office)"."""
    state = _OUTAGE_PHRASES.get(outage.status, status_label(outage.status))
    where = f" at {outage.site_name}" if outage.site_name else ""
    since = f" since {_clock_time(outage.started_at)}" if outage.started_at else ""
    return f"{outage.service} is {state}{where}{since} ({outage.title})"


def ticket_notice(ticket: Ticket) -> str:
    """ "You also have open ticket 3012 'VPN drops'"."""
    state = "open " if ticket.status == "open" else ""
    extra = "" if ticket.status == "open" else f" ({status_label(ticket.status)})"
    return f"You also have {state}ticket {ticket.ticket_number} '{ticket.subject}'{extra}"


async def duplicate_notices(ctx: ToolContext, text: str) -> tuple[tuple[str, ...], int | None]:
    """Notices for a new ticket about `text`, and the number of the most similar open ticket.

    Best effort: a lookup that fails leaves its notices out rather than blocking the write
    (ReauthRequired still propagates). Outages and tickets are looked up at once.
    """
    async with concurrent_calls() as group:
        outages = group.create_task(_active_outages(ctx))
        tickets = group.create_task(_own_tickets(ctx))
    notices = [outage_notice(outage) for outage in related_outages(text, outages.result())]
    own = tickets.result()
    if own is None:
        return tuple(notices), None
    matches = similar_tickets(text, own)
    notices += [ticket_notice(match.ticket) for match in matches[:MAX_SIMILAR_NOTICES]]
    return tuple(notices), (matches[0].ticket.ticket_number if matches else None)


async def _active_outages(ctx: ToolContext) -> list[Outage]:
    try:
        return (await ctx.helpdesk.outages(ctx.auth)).outages
    except ReauthRequired:
        raise
    except HelpdeskError:
        return []


async def _own_tickets(ctx: ToolContext) -> list[Ticket] | None:
    """The user's tickets (None if the helpdesk could not list them)."""
    try:
        return (await ctx.helpdesk.list_tickets(ctx.auth, status="all", limit=100)).tickets
    except ReauthRequired:
        raise
    except HelpdeskError:
        return None
