"""One user never sees or changes another's data: every tool, and a conversation shared by two.

Engine level, over the sandbox with its two tenants (Acme: Jane, Mike, Sam; Globex: Lee,
Nora). The scripted model plays an attacker's model: it asks each tool for the other
user's or the other company's data by number. What is observed: what each tool returned
to the model, what the user was shown, and the sandbox's write log.

A conversation several people can post in (a Slack channel thread, a Teams group chat)
belongs to the person who started it: another person's message, button press or typed
"yes" there must neither read its history nor confirm, cancel or escalate anything.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.messages import ConfirmRequest, Reply
from bot.store.store import Store
from sandbox.runner import RunningSandbox
from sandbox.state import STATE
from tests.contract.engine_harness import Harness, HarnessFactory, harness_factory
from tests.fakes.scripted_model import Reply as Step
from tests.fakes.scripted_model import tool_call
from tests.security.ledger import LEDGER

JANE, MIKE, SAM = "jane@acme.example", "mike@acme.example", "sam@acme.example"
LEE, NORA = "lee@globex.example", "nora@globex.example"
WRITES = ("POST", "PUT", "PATCH", "DELETE")


@pytest.fixture
async def make(sandbox: RunningSandbox, store: Store) -> AsyncIterator[HarnessFactory]:
    async for factory in harness_factory(sandbox, store):
        yield factory


async def _data_writes(h: Harness) -> list[str]:
    rows = [row for method in WRITES for row in await h.requests("/", method)]
    return [
        f"{r['method']} {r['path']}" for r in rows if not r["path"].startswith(("/auth", "/chat"))
    ]


def _tool_results(h: Harness) -> str:
    return "\n".join(
        m.content or "" for r in h.model.requests for m in r.messages if m.role == "tool"
    )


async def _own_data(make: HarnessFactory, email: str) -> dict[str, list[str]]:
    """What `email` legitimately sees through the read tools (a control, and the markers)."""
    reads = [
        tool_call("list_my_tickets", {}),
        tool_call("list_my_assets", {}),
        tool_call("list_pending_approvals", {}),
        tool_call("check_outages", {}),
        tool_call("search_kb", {"query": "password"}),
    ]
    h = make(Step(tool_calls=tuple(reads)), Step(text="Here you are."))
    await h.link(email)
    await h.say("show me everything", user=email)
    results = [m for m in h.model.requests[1].messages if m.role == "tool"]
    return {call.name: [m.content or ""] for call, m in zip(reads, results, strict=True)}


# Reads by number: (tool, arguments), each aimed at data that is not the attacker's.
FOREIGN_READS: dict[str, list[tuple[str, dict[str, Any]]]] = {
    LEE: [  # Globex employee at Acme's data
        ("get_ticket", {"ticket_number": 3012}),
        ("get_ticket", {"ticket_number": 3018}),
        ("get_ticket", {"ticket_number": 3029}),
        ("get_kb_article", {"article_id": 1}),
        ("get_kb_article", {"article_id": 2}),
    ],
    NORA: [("get_ticket", {"ticket_number": 3029}), ("get_ticket", {"ticket_number": 3030})],
    SAM: [("get_ticket", {"ticket_number": 3012}), ("get_ticket", {"ticket_number": 3018})],
}
FOREIGN_WRITES: dict[str, list[tuple[str, dict[str, Any]]]] = {
    LEE: [
        ("add_ticket_comment", {"ticket_number": 3012, "comment": "hi from globex"}),
        ("update_ticket", {"ticket_number": 3018, "status": "closed"}),
    ],
    NORA: [
        ("approve_ticket", {"ticket_number": 3029}),
        ("reject_ticket", {"ticket_number": 3030, "reason": "no"}),
    ],
    SAM: [("add_ticket_comment", {"ticket_number": 3012, "comment": "not mine"})],
}
JANES_SUBJECTS = ("VPN drops", "Printer not working")


async def test_no_read_tool_returns_another_users_or_companys_data(
    make: HarnessFactory,
) -> None:
    jane = await _own_data(make, JANE)
    mike = await _own_data(make, MIKE)
    acme_only = [s for s in JANES_SUBJECTS if s in jane["list_my_tickets"][0]]
    assert acme_only, jane["list_my_tickets"]  # the control: Jane does see her tickets
    for attacker, reads in FOREIGN_READS.items():
        own = await _own_data(make, attacker)
        h = make(
            Step(tool_calls=tuple(tool_call(name, args) for name, args in reads)),
            Step(text="Done."),
        )
        await h.link(attacker)
        replies = await h.say("look these up", user=attacker)
        seen = _tool_results(h) + "\n".join(repr(r) for r in replies)
        leaked = [s for s in acme_only if s in seen]
        if attacker != SAM:  # another company: nothing of Acme's approvals either
            leaked += [line for line in _lines(mike["list_pending_approvals"]) if line in seen]
        LEDGER.outcome(
            f"isolation: {attacker} reading others' tickets/articles", refused=not leaked
        )
        assert not leaked, (attacker, leaked)
        if attacker != SAM:  # their own lists, assets, outages and articles: no Acme row
            acme = _only_of(h, ACME, GLOBEX)
            assert any(name in str(jane) for name in acme)  # the control: Acme sees them
            theirs = " ".join(text for texts in own.values() for text in texts)
            mixed = [marker for marker in acme if marker in theirs]
            LEDGER.outcome(
                f"isolation: {attacker}'s own lists showing Acme data", refused=not mixed
            )
            assert not mixed, (attacker, mixed)


ACME, GLOBEX = 1, 2
NAMED = {"assets": "machine_name", "outages": "title", "articles": "title", "tickets": "subject"}


def _only_of(h: Harness, company: int, other: int) -> list[str]:
    """Names of `company`'s assets, outages, articles and tickets that `other` has none of,
    read from the sandbox's own database (the ground truth, not a tool's answer)."""
    db = h.sandbox.app[STATE].db
    found: list[str] = []
    for table, column in NAMED.items():
        query = f"SELECT {column} AS name FROM {table} WHERE company_number = ?"  # noqa: S608
        mine = {row["name"] for row in db.all(query, (company,))}
        theirs = {row["name"] for row in db.all(query, (other,))}
        found += [name for name in mine - theirs if len(name) >= 6]
    return found


def _lines(results: list[str]) -> list[str]:
    """Distinctive strings of a tool result: ticket subjects it lists."""
    import json

    found: list[str] = []
    for result in results:
        try:
            data = json.loads(result)
        except ValueError:
            continue
        for row in data.get("approvals", data.get("tickets", [])) if isinstance(data, dict) else []:
            if isinstance(row, dict) and isinstance(row.get("subject"), str):
                found.append(row["subject"])
    return found


async def test_no_write_tool_touches_another_users_or_companys_ticket(
    make: HarnessFactory,
) -> None:
    for attacker, writes in FOREIGN_WRITES.items():
        for name, args in writes:
            h = make(Step(tool_calls=(tool_call(name, args),)), Step(text="Done."))
            await h.link(attacker)
            before = await _data_writes(h)
            replies = await h.say("do it", user=attacker)
            cards = [r for r in replies if isinstance(r, ConfirmRequest)]
            pressed: list[Reply] = []
            for card in cards:  # even if a card were offered, confirming it writes nothing
                confirm = next(a.id for a in card.actions if a.kind == "confirm")
                pressed += await h.say(action=confirm, user=attacker)
            written = (await _data_writes(h))[len(before) :]
            LEDGER.outcome(f"isolation: {attacker} {name} on a foreign ticket", refused=not written)
            assert not written, (attacker, name, written, cards, pressed)
            h.model.assert_consumed() if cards else None


async def _janes_pending_card(make: HarnessFactory) -> tuple[Harness, ConfirmRequest]:
    h = make(
        Step(tool_calls=(tool_call("get_ticket", {"ticket_number": 3012}),)),
        Step(
            tool_calls=(
                tool_call("add_ticket_comment", {"ticket_number": 3012, "comment": "Still drops"}),
            )
        ),
    )
    await h.link(JANE)
    replies = await h.say("add 'Still drops' to my VPN ticket", user=JANE)
    [card] = [r for r in replies if isinstance(r, ConfirmRequest)]
    return h, card


@pytest.mark.parametrize("intruder", [MIKE, LEE])
async def test_someone_else_in_a_shared_conversation_cannot_act_or_read_there(
    make: HarnessFactory, intruder: str
) -> None:
    h, card = await _janes_pending_card(make)
    await h.link(intruder)
    before = await _data_writes(h)
    confirm = next(a.id for a in card.actions if a.kind == "confirm")

    # What a model would write for the intruder from Jane's history: a handoff summary,
    # an answer. Taken back below; any step used means the model ran for the intruder.
    baits = [Step(text="Jane wants 'Still drops' on her VPN ticket.") for _ in range(3)]
    h.model.enqueue(*baits)
    attempts = {
        "presses Confirm": await h.say(action=confirm, user=intruder),
        "types yes": await h.say("yes", user=intruder),
        "asks for a person": await h.say(action="talk_to_human", user=intruder),
        "asks about the thread": await h.say("what did she ask you?", user=intruder),
    }
    read_history = len(h.model.withdraw()) < len(baits)

    written = (await _data_writes(h))[len(before) :]
    pending = await h.store.get_pending_action(card.pending_action_id)
    conversation = await h.store.find_conversation("test", h.conversation)
    assert conversation is not None
    LEDGER.outcome(f"shared conversation: {intruder} confirming Jane's write", refused=not written)
    LEDGER.outcome(
        f"shared conversation: {intruder} consuming Jane's card",
        refused=pending is not None and pending.status == "pending",
    )
    LEDGER.outcome(
        f"shared conversation: {intruder} handing Jane's chat to a person",
        refused=conversation.owner == "bot",
    )
    LEDGER.outcome(
        f"shared conversation: {intruder} reading Jane's history", refused=not read_history
    )
    assert not written and pending is not None and pending.status == "pending", attempts
    assert conversation.owner == "bot" and not read_history, attempts
    shown = "\n".join(repr(r) for replies in attempts.values() for r in replies)
    assert "Still drops" not in shown and "VPN" not in shown

    own = await h.say(action=confirm, user=JANE)  # the owner still can
    assert any("comment" in repr(r).lower() for r in own)
    assert len((await _data_writes(h))[len(before) :]) == 1


async def test_a_forged_confirm_from_another_conversation_is_refused(make: HarnessFactory) -> None:
    h, card = await _janes_pending_card(make)
    confirm = next(a.id for a in card.actions if a.kind == "confirm")
    before = await _data_writes(h)
    for intruder in (MIKE, LEE):
        await h.link(intruder)
        await h.say(action=confirm, user=intruder, conversation=f"own-{intruder}")
        await h.say(
            action=confirm.replace("confirm", "cancel", 1),
            user=intruder,
            conversation=f"own-{intruder}",
        )
    written = (await _data_writes(h))[len(before) :]
    pending = await h.store.get_pending_action(card.pending_action_id)
    refused = not written and pending is not None and pending.status == "pending"
    LEDGER.outcome("forged confirm/cancel of another user's write id", refused=refused)
    assert refused, (written, pending)
