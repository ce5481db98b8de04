"""The model's tools against the sandbox helpdesk over real HTTP: results, previews, writes.

Each test logs the demo users in with the real HelpdeskClient and calls tools the way the
engine does (`spec.parse(json)` then `spec.preview` / `spec.run` / `spec.reconcile`). What
crossed the wire is checked in the sandbox's request log (`GET /sandbox/requests`) or with
the raw API; result shapes are those of docs/tool-results.md.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from bot.helpdesk import HelpdeskClient, UserAuth
from bot.helpdesk.errors import ReauthRequired
from bot.helpdesk.models import Ticket
from bot.tooling import (
    Capabilities,
    PreviewError,
    ToolArgumentsError,
    ToolContext,
    ToolOutcome,
    ToolRegistry,
    WritePreview,
)
from sandbox.runner import RunningSandbox
from tools import all_tools
from tools.related import similar_tickets

PASSWORDS = {
    "jane@acme.example": "demo-jane",
    "mike@acme.example": "demo-mike",
    "sam@acme.example": "demo-sam",
    "lee@globex.example": "demo-lee",
}
TOOL_NAMES = {
    "search_kb", "get_kb_article", "list_my_tickets", "get_ticket", "create_ticket",
    "add_ticket_comment", "update_ticket", "check_outages", "escalate_to_human",
    "create_ticket_from_chat", "list_my_assets", "list_pending_approvals", "approve_ticket",
    "reject_ticket",
}  # fmt: skip
WRITES = {
    "create_ticket", "add_ticket_comment", "update_ticket", "approve_ticket", "reject_ticket",
    "create_ticket_from_chat",
}  # fmt: skip
REGISTRY = ToolRegistry(all_tools())


@dataclass
class Desk:
    """The sandbox, a HelpdeskClient on it, and helpers to call tools and read the wire."""

    sandbox: RunningSandbox
    helpdesk: HelpdeskClient
    http: httpx.AsyncClient  # base URL: the sandbox origin (back office and raw API)

    async def login(self, email: str, *, helpdesk: HelpdeskClient | None = None) -> ToolContext:
        client = helpdesk or self.helpdesk
        login = await client.login(email, PASSWORDS[email])
        auth = UserAuth(f"test:{email}", login.access_token, login.refresh_token)
        profile = await client.get_profile(auth)
        modules = (await client.features(auth)).modules.model_dump()
        capabilities = Capabilities.from_profile(profile, {m for m, on in modules.items() if on})
        return ToolContext(client, auth, profile, capabilities)

    async def call(self, ctx: ToolContext, name: str, **arguments: Any) -> ToolOutcome:
        spec = REGISTRY.get(name)
        assert spec is not None
        outcome = await spec.run(ctx, spec.parse(json.dumps(arguments)))
        json.loads(outcome.as_model_text())  # what the model gets is one JSON object
        return outcome

    async def preview(self, ctx: ToolContext, name: str, **arguments: Any) -> WritePreview:
        spec = REGISTRY.get(name)
        assert spec is not None and spec.preview is not None
        return await spec.preview(ctx, spec.parse(json.dumps(arguments)))

    async def raw(self, ctx: ToolContext, path: str) -> Any:
        headers = {"Authorization": f"Bearer {ctx.auth.access_token}"}
        response = await self.http.get(self.sandbox.api_base + path, headers=headers)
        assert response.status_code == 200, response.text
        return response.json()

    async def logged(self, path_prefix: str = "", method: str | None = None) -> list[Any]:
        params = {"path_prefix": path_prefix} | ({"method": method} if method else {})
        response = await self.http.get("/sandbox/requests", params=params)
        assert response.status_code == 200, response.text
        entries: list[Any] = response.json()["requests"]
        return entries


@pytest.fixture
async def desk(sandbox: RunningSandbox) -> AsyncIterator[Desk]:
    async with (
        HelpdeskClient(
            sandbox.api_base, retry_budget=1.0, backoff_base=0.01, backoff_max=0.05
        ) as helpdesk,
        httpx.AsyncClient(base_url=sandbox.base_url, timeout=10) as http,
    ):
        yield Desk(sandbox, helpdesk, http)


@dataclass
class Users:
    jane: ToolContext  # employee, can create tickets, "Read Only" assets
    mike: ToolContext  # IT manager: approvals, "Modify" assets
    sam: ToolContext  # may not create tickets, no asset access
    lee: ToolContext  # another company (Globex)


@pytest.fixture
async def users(desk: Desk) -> Users:
    return Users(*[await desk.login(email) for email in PASSWORDS])


def offered(ctx: ToolContext) -> set[str]:
    return {spec.name for spec in REGISTRY.offered(ctx.capabilities)}


def data(outcome: ToolOutcome) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(outcome.as_model_text())
    return result


# --- declarations (no sandbox) --------------------------------------------------------


def test_the_tools_are_the_contracts_and_writes_need_confirmation() -> None:
    specs = {spec.name: spec for spec in all_tools()}
    assert set(specs) == TOOL_NAMES
    assert {name for name, spec in specs.items() if spec.needs_confirmation} == WRITES
    assert all(specs[name].preview is not None for name in WRITES)
    assert {name for name, spec in specs.items() if spec.reconcile} == {
        "create_ticket",
        "add_ticket_comment",
    }


@pytest.mark.parametrize("spec", all_tools(), ids=lambda spec: spec.name)
def test_schema_describes_every_field_and_forbids_others(spec: Any) -> None:
    schema = spec.schema()
    assert schema.description and "${" not in schema.description
    parameters = schema.parameters
    assert parameters["type"] == "object"
    assert parameters["additionalProperties"] is False
    for name, field in parameters["properties"].items():
        assert field.get("description", "").strip(), f"{spec.name}.{name} has no description"


@pytest.mark.parametrize(
    ("tool", "raw", "problem"),
    [
        ("get_ticket", '{"ticket_number": 30', "arguments: Invalid JSON"),
        ("get_ticket", '{"ticket_number": 3012, "verbose": true}', "verbose: Extra inputs"),
        ("get_ticket", '{"ticket_number": 0}', "ticket_number: Input should be greater than 0"),
        ("get_ticket", "{}", "ticket_number: Field required"),
        ("list_my_tickets", '{"status": "pending"}', "status: Input should be 'open'"),
        ("create_ticket", '{"subject": "", "description": "x"}', "subject: String should have"),
        ("create_ticket", '{"subject": "a", "description": "b", "priority": 9}', "priority:"),
        ("update_ticket", '{"ticket_number": 3012}', "give status, priority or both"),
        ("escalate_to_human", json.dumps({"reason": "x" * 501}), "reason: String should have"),
    ],
)
def test_invalid_arguments_raise_a_helpful_error(tool: str, raw: str, problem: str) -> None:
    spec = REGISTRY.get(tool)
    assert spec is not None
    with pytest.raises(ToolArgumentsError) as caught:
        spec.parse(raw)
    assert caught.value.tool == tool
    assert str(caught.value).startswith(f"invalid arguments for {tool}: ")
    assert problem in caught.value.problems


def test_disabled_modules_hide_their_tools() -> None:
    everything = Capabilities(
        can_create_tickets=True,
        can_view_assets=True,
        is_manager=True,
        modules=frozenset({"tickets", "kb", "chat", "assets"}),
    )
    assert {spec.name for spec in REGISTRY.offered(everything)} == TOOL_NAMES
    no_kb_chat_assets = replace(everything, modules=frozenset({"tickets"}))
    assert {spec.name for spec in REGISTRY.offered(no_kb_chat_assets)} == TOOL_NAMES - {
        "search_kb",
        "get_kb_article",
        "list_my_assets",
        "create_ticket_from_chat",
        "escalate_to_human",
    }
    no_tickets = replace(everything, modules=frozenset({"kb", "chat", "assets"}))
    assert {spec.name for spec in REGISTRY.offered(no_tickets)} == {
        "search_kb",
        "get_kb_article",
        "check_outages",
        "list_my_assets",
        "escalate_to_human",
    }


def test_similar_ticket_heuristic() -> None:
    def ticket(number: int, subject: str, description: str, status: str = "open") -> Ticket:
        return Ticket(
            ticket_id=number,
            ticket_number=number,
            subject=subject,
            description=description,
            status=status,
        )

    vpn = ticket(3012, "VPN drops", "The VPN disconnects every 10-15 minutes from home.")
    printer = ticket(3018, "Printer not working", "The main office printer shows offline.")
    closed_vpn = ticket(3001, "VPN disconnecting", "VPN keeps disconnecting.", "closed")
    found = similar_tickets("VPN keeps disconnecting\nIt drops every few minutes.", [printer, vpn])
    assert [match.ticket.ticket_number for match in found] == [3012]
    assert similar_tickets("VPN keeps disconnecting", [closed_vpn]) == []
    assert similar_tickets("Excel crashes on a large workbook", [vpn, printer]) == []


# --- permissions as the real profiles grant them --------------------------------------


async def test_each_user_is_offered_only_what_they_may_use(users: Users) -> None:
    approvals = {"list_pending_approvals", "approve_ticket", "reject_ticket"}
    assert offered(users.mike) == TOOL_NAMES
    assert offered(users.jane) == TOOL_NAMES - approvals
    assert offered(users.sam) == TOOL_NAMES - approvals - {
        "create_ticket",
        "create_ticket_from_chat",
        "list_my_assets",
    }
    assert offered(users.lee) == TOOL_NAMES - approvals


async def test_a_forbidden_write_that_runs_anyway_is_an_error_result(
    desk: Desk, users: Users
) -> None:
    before = data(await desk.call(users.sam, "list_my_tickets"))["total"]
    outcome = await desk.call(users.sam, "create_ticket", subject="Scanner", description="Broken")
    assert data(outcome) == {
        "error": "could not create the ticket: this user is not allowed to do that"
    }
    assert [e["status"] for e in await desk.logged("/tickets", "POST")] == [403]
    assert data(await desk.call(users.sam, "list_my_tickets"))["total"] == before


# --- knowledge base ---------------------------------------------------------------------


async def test_search_kb_returns_articles_and_the_top_three_as_sources(
    desk: Desk, users: Users
) -> None:
    outcome = await desk.call(users.jane, "search_kb", query="VPN keeps disconnecting")
    result = data(outcome)
    assert result["query"] == "VPN keeps disconnecting"
    articles = result["articles"]
    assert articles and len(articles) <= 10
    assert set(articles[0]) == {"article_id", "title", "summary", "category", "url"}
    assert "VPN" in articles[0]["title"]
    assert [(s.article_id, s.title, s.url) for s in outcome.sources] == [
        (a["article_id"], a["title"], a["url"]) for a in articles[:3]
    ]
    assert outcome.primary_sources is False
    [query] = [e["query"] for e in await desk.logged("/kb/articles", "GET")]
    assert query["search"] == "VPN keeps disconnecting"


async def test_search_kb_with_no_match_is_an_empty_list(desk: Desk, users: Users) -> None:
    outcome = await desk.call(users.jane, "search_kb", query="zyxwvut qqqq")
    assert data(outcome) == {"query": "zyxwvut qqqq", "articles": []}
    assert outcome.sources == ()


async def test_get_kb_article_caps_the_body_and_cites_the_article(desk: Desk, users: Users) -> None:
    body = "# Long article\n\n" + "\n".join(f"{i}. Step number {i}." for i in range(1, 2000))
    created = await desk.http.post(
        "/sandbox/kb/articles",
        json={"company_number": 1, "title": "Long article", "category": "Network", "body": body},
    )
    assert created.status_code == 201, created.text
    article_id = created.json()["article_id"]
    outcome = await desk.call(users.jane, "get_kb_article", article_id=article_id)
    article = data(outcome)["article"]
    assert set(article) == {"article_id", "title", "category", "url", "body"}
    assert len(article["body"]) <= 6000 and article["body"].endswith("…")
    assert body.startswith(article["body"][:-1])
    assert [(s.article_id, s.title) for s in outcome.sources] == [(article_id, "Long article")]
    assert outcome.primary_sources is True


async def test_get_kb_article_not_found(desk: Desk, users: Users) -> None:
    outcome = await desk.call(users.jane, "get_kb_article", article_id=999999)
    assert data(outcome) == {"error": "article 999999 not found"}


# --- reading tickets --------------------------------------------------------------------


async def test_list_my_tickets_filters_and_caps_at_ten(desk: Desk, users: Users) -> None:
    result = data(await desk.call(users.jane, "list_my_tickets", status="open"))
    assert result["status"] == "open"
    assert {t["ticket_number"] for t in result["tickets"]} >= {3012, 3018}
    assert all(t["status"] == "open" for t in result["tickets"])
    assert set(result["tickets"][0]) == {
        "ticket_number",
        "subject",
        "status",
        "priority",
        "updated_at",
    }
    for i in range(12):
        await desk.helpdesk.create_ticket(users.jane.auth, subject=f"Load {i}", description="x")
    every = data(await desk.call(users.jane, "list_my_tickets"))
    assert every["status"] == "all"
    assert len(every["tickets"]) == 10 and every["total"] >= 19


async def test_get_ticket_shows_the_ticket_and_its_public_comments(
    desk: Desk, users: Users
) -> None:
    ticket = data(await desk.call(users.jane, "get_ticket", ticket_number=3012))["ticket"]
    assert ticket["subject"] == "VPN drops" and ticket["status"] == "open"
    assert set(ticket) == {
        "ticket_number", "subject", "status", "priority", "job_type", "assigned_tech_name",
        "created_at", "updated_at", "description", "comments",
    }  # fmt: skip
    assert [c["comment"] for c in ticket["comments"]] == [
        "It happens on both my home Wi-Fi and my phone hotspot."
    ]
    assert set(ticket["comments"][0]) == {"author_name", "comment", "created_at"}


async def test_get_ticket_never_shows_internal_comments(desk: Desk, users: Users) -> None:
    listing = await desk.raw(users.jane, "/tickets?limit=100")
    details = [await desk.raw(users.jane, f"/tickets/{t['ticket_id']}") for t in listing["tickets"]]
    with_internal = [d for d in details if any(c["is_internal"] for c in d["comments"])]
    assert with_internal, "the seed should give jane a ticket with an internal comment"
    for detail in with_internal:
        outcome = await desk.call(users.jane, "get_ticket", ticket_number=detail["ticket_number"])
        text = outcome.as_model_text()
        shown = [c["comment"] for c in data(outcome)["ticket"]["comments"]]
        assert shown == [c["comment"] for c in detail["comments"] if not c["is_internal"]]
        for comment in detail["comments"]:
            if comment["is_internal"]:
                assert comment["comment"] not in text


@pytest.mark.parametrize("number", [999999, 3014])  # 3014 is priya's, not jane's
async def test_a_ticket_that_is_not_the_users_is_not_found(
    desk: Desk, users: Users, number: int
) -> None:
    for tool, extra in [("get_ticket", {}), ("add_ticket_comment", {"comment": "hi"})]:
        outcome = await desk.call(users.jane, tool, ticket_number=number, **extra)
        assert data(outcome) == {"error": f"ticket {number} not found"}
    with pytest.raises(PreviewError) as caught:
        await desk.preview(users.jane, "update_ticket", ticket_number=number, status="closed")
    assert caught.value.message == f"ticket {number} not found"
    assert await desk.logged("/tickets", "POST") == []
    assert await desk.logged("/tickets/", "PUT") == []


async def test_another_companys_ticket_is_not_found(desk: Desk, users: Users) -> None:
    outcome = await desk.call(users.lee, "get_ticket", ticket_number=3012)
    assert data(outcome) == {"error": "ticket 3012 not found"}


# --- outages, assets, handoff -----------------------------------------------------------


async def test_check_outages(desk: Desk, users: Users) -> None:
    result = data(await desk.call(users.jane, "check_outages"))
    assert result["all_operational"] is False
    [vpn] = result["outages"]  # the resolved email outage is not listed
    assert set(vpn) == {"service", "status", "title", "message", "site_name", "started_at"}
    assert (vpn["service"], vpn["status"], vpn["site_name"]) == ("VPN", "degraded", "Main Office")
    globex = data(await desk.call(users.lee, "check_outages"))
    assert [o["service"] for o in globex["outages"]] == ["Email"]


async def test_a_helpdesk_failure_is_a_short_error_result(desk: Desk, users: Users) -> None:
    fault = {"status": 503, "path_prefix": "/outages", "rate": 1}
    assert (await desk.http.post("/sandbox/faults", json=fault)).status_code == 201
    outcome = await desk.call(users.jane, "check_outages")
    assert data(outcome) == {
        "error": "could not check for outages: the helpdesk is not reachable right now"
    }
    # The create_ticket preview still works without outages (notices are best effort).
    preview = await desk.preview(
        users.jane, "create_ticket", subject="VPN keeps disconnecting", description="Drops."
    )
    assert preview.notices == ("You also have open ticket 3012 'VPN drops'",)


async def test_an_expired_session_propagates_for_relinking(desk: Desk, users: Users) -> None:
    expired = await desk.http.post(
        "/sandbox/auth/expire", json={"email": "jane@acme.example", "refresh": True}
    )
    assert expired.status_code == 200, expired.text
    with pytest.raises(ReauthRequired):
        await desk.call(users.jane, "list_my_tickets")
    with pytest.raises(ReauthRequired):
        await desk.preview(users.jane, "add_ticket_comment", ticket_number=3012, comment="hi")


async def test_list_my_assets_lists_only_the_users_own(desk: Desk, users: Users) -> None:
    jane = data(await desk.call(users.jane, "list_my_assets"))["assets"]
    assert jane and set(jane[0]) == {
        "asset_id", "machine_name", "asset_type", "manufacturer", "model", "serial_number",
        "status",
    }  # fmt: skip
    mine = await desk.raw(users.mike, "/assets?mine=true&per_page=100")
    company = await desk.raw(users.mike, "/assets?per_page=100")
    mike = data(await desk.call(users.mike, "list_my_assets"))["assets"]
    assert {a["asset_id"] for a in mike} == {a["asset_id"] for a in mine["assets"][:10]}
    assert len(company["assets"]) > len(mike)


async def test_escalate_to_human_leaves_the_transfer_to_the_engine(
    desk: Desk, users: Users
) -> None:
    before = len(await desk.logged())
    outcome = await desk.call(users.jane, "escalate_to_human", reason="user asked for a person")
    assert data(outcome) == {"status": "queued", "message": "A human agent has been asked to join."}
    assert outcome.handoff_reason == "user asked for a person"
    assert len(await desk.logged()) == before  # no API call


# --- create_ticket ----------------------------------------------------------------------


async def test_create_ticket_preview_shows_the_outage_and_the_similar_open_ticket(
    desk: Desk, users: Users
) -> None:
    preview = await desk.preview(
        users.jane,
        "create_ticket",
        subject="VPN keeps disconnecting",
        description="My VPN connection drops every few minutes since this morning.",
    )
    assert preview.title == "Create a ticket"
    assert preview.fields == (
        ("Subject", "VPN keeps disconnecting"),
        ("Description", "My VPN connection drops every few minutes since this morning."),
        ("Priority", "3 — normal"),
        ("Job type", "General"),
    )
    outage, similar = preview.notices
    assert outage.startswith("VPN is degraded at Main Office since ")
    assert "09:10 UTC" in outage
    assert similar == "You also have open ticket 3012 'VPN drops'"
    assert preview.similar_ticket_number == 3012
    assert await desk.logged("/tickets", "POST") == []  # a preview writes nothing


async def test_create_ticket_preview_of_an_unrelated_problem_names_no_ticket(
    desk: Desk, users: Users
) -> None:
    preview = await desk.preview(
        users.jane,
        "create_ticket",
        subject="Excel macro error",
        description="The budget macro stops with error 1004.",
        priority=2,
        job_type="software",
    )
    assert preview.similar_ticket_number is None
    assert not [n for n in preview.notices if n.startswith("You also have")]
    assert dict(preview.fields)["Priority"] == "2 — high"
    assert dict(preview.fields)["Job type"] == "Software"


async def test_create_ticket_preview_checks_the_job_type(desk: Desk, users: Users) -> None:
    with pytest.raises(PreviewError) as caught:
        await desk.preview(users.jane, "create_ticket", subject="a", description="b", job_type="X")
    assert caught.value.message.startswith("unknown job type 'X'; use one of: General, ")
    preview = await desk.preview(
        users.jane,
        "create_ticket",
        subject="Figma licence",
        description="For the design review.",
        job_type="Software Request",
    )
    assert preview.notices[0] == "Software Request tickets need your manager's approval first."


async def test_create_ticket_creates_exactly_one_ticket(desk: Desk, users: Users) -> None:
    since = datetime.now(UTC)
    outcome = await desk.call(
        users.jane,
        "create_ticket",
        subject="Figma licence",
        description="For the design review.",
        priority=4,
        job_type="Software Request",
    )
    result = data(outcome)
    assert result["status"] == "done" and result["subject"] == "Figma licence"
    assert result["requires_approval"] is True
    [posted] = await desk.logged("/tickets", "POST")
    assert posted["body"] == {
        "subject": "Figma licence",
        "description": "For the design review.",
        "priority": 4,
        "job_type": "Software Request",
    }
    mine = await desk.raw(users.jane, "/tickets?limit=1")
    assert mine["tickets"][0]["ticket_number"] == result["ticket_number"]

    spec = REGISTRY.get("create_ticket")
    assert spec is not None and spec.reconcile is not None
    found = await spec.reconcile(users.jane, spec.parse(json.dumps({
        "subject": "Figma licence", "description": "For the design review."
    })), since)  # fmt: skip
    assert found is not None and data(found) == result
    other = spec.parse(json.dumps({"subject": "Never filed", "description": "x"}))
    assert await spec.reconcile(users.jane, other, since) is None
    later = datetime.now(UTC) + timedelta(minutes=1)
    assert await spec.reconcile(users.jane, spec.parse(json.dumps({
        "subject": "Figma licence", "description": "For the design review."
    })), later) is None  # fmt: skip


async def test_reconcile_finds_a_ticket_whose_answer_was_lost(desk: Desk, users: Users) -> None:
    fault = {"latency_ms": 1500, "path_prefix": "/tickets", "method": "POST", "count": 1}
    assert (await desk.http.post("/sandbox/faults", json=fault)).status_code == 201
    async with HelpdeskClient(desk.sandbox.api_base, read_timeout=0.3, retry_budget=1) as impatient:
        jane = replace(users.jane, helpdesk=impatient)
        since = datetime.now(UTC)
        arguments = {"subject": "Dock not charging", "description": "USB-C dock is dead."}
        outcome = await desk.call(jane, "create_ticket", **arguments)
    assert outcome.outcome_unknown is True
    assert data(outcome)["error"].startswith("could not create the ticket: the helpdesk did not")
    spec = REGISTRY.get("create_ticket")
    assert spec is not None and spec.reconcile is not None
    args = spec.parse(json.dumps(arguments))
    async with asyncio.timeout(10):  # the sandbox finishes the request after the client left
        # Polling the helpdesk: the test has no event to wait on but the ticket appearing.
        while (found := await spec.reconcile(users.jane, args, since)) is None:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
    assert data(found)["subject"] == "Dock not charging"
    assert len(await desk.logged("/tickets", "POST")) == 1


# --- comment, update --------------------------------------------------------------------


async def test_add_ticket_comment_preview_run_and_reconcile(desk: Desk, users: Users) -> None:
    preview = await desk.preview(
        users.jane, "add_ticket_comment", ticket_number=3012, comment="Still dropping today."
    )
    assert preview.title == "Add a comment to ticket 3012"
    assert preview.fields == (("Ticket", "3012 — VPN drops"), ("Comment", "Still dropping today."))
    since = datetime.now(UTC)
    outcome = await desk.call(
        users.jane, "add_ticket_comment", ticket_number=3012, comment="Still dropping today."
    )
    assert data(outcome) == {"status": "done", "ticket_number": 3012}
    [posted] = await desk.logged("/tickets/", "POST")
    assert posted["body"] == {"comment": "Still dropping today."}
    shown = data(await desk.call(users.jane, "get_ticket", ticket_number=3012))["ticket"]
    assert shown["comments"][-1]["comment"] == "Still dropping today."

    spec = REGISTRY.get("add_ticket_comment")
    assert spec is not None and spec.reconcile is not None
    same = spec.parse(json.dumps({"ticket_number": 3012, "comment": "Still dropping today."}))
    assert await spec.reconcile(users.jane, same, since) is not None
    other = spec.parse(json.dumps({"ticket_number": 3012, "comment": "Something else"}))
    assert await spec.reconcile(users.jane, other, since) is None


async def test_update_ticket_preview_and_run(desk: Desk, users: Users) -> None:
    preview = await desk.preview(
        users.jane, "update_ticket", ticket_number=3012, status="closed", priority=3
    )
    assert preview.fields == (
        ("Ticket", "3012 — VPN drops"),
        ("Status", "open → closed"),
        ("Priority", "2 — high → 3 — normal"),
    )
    outcome = await desk.call(users.jane, "update_ticket", ticket_number=3012, status="closed")
    result = data(outcome)
    assert (result["status"], result["ticket_status"], result["priority"]) == ("done", "closed", 2)
    [put] = await desk.logged("/tickets/", "PUT")
    assert put["body"] == {"status": "closed"}
    with pytest.raises(PreviewError, match="already has that status"):
        await desk.preview(users.jane, "update_ticket", ticket_number=3012, status="closed")


# --- approvals --------------------------------------------------------------------------


async def test_manager_lists_approves_and_rejects(desk: Desk, users: Users) -> None:
    pending = data(await desk.call(users.mike, "list_pending_approvals"))["tickets"]
    by_number = {t["ticket_number"]: t for t in pending}
    assert by_number[3029]["subject"] == "New laptop request"
    assert by_number[3029]["requester_name"] == "Jane Smith"
    assert set(pending[0]) == {
        "ticket_number",
        "subject",
        "requester_name",
        "job_type",
        "created_at",
    }

    approve = await desk.preview(users.mike, "approve_ticket", ticket_number=3029)
    assert approve.title == "Approve ticket 3029"
    assert ("Ticket", "3029 — New laptop request") in approve.fields
    assert ("Requester", "Jane Smith") in approve.fields
    reject = await desk.preview(
        users.mike, "reject_ticket", ticket_number=3030, reason="Use Reader"
    )
    assert ("Ticket", "3030 — Adobe Acrobat Pro license") in reject.fields
    assert ("Reason", "Use Reader") in reject.fields
    assert await desk.logged("/tickets/", "POST") == []

    ids = {
        t["ticket_number"]: t["ticket_id"]
        for t in (await desk.raw(users.mike, "/tickets/approvals"))["tickets"]
    }
    approved = data(await desk.call(users.mike, "approve_ticket", ticket_number=3029))
    assert approved["status"] == "done" and approved["outcome"] == "approved"
    rejected = await desk.call(users.mike, "reject_ticket", ticket_number=3030, reason="Use Reader")
    assert data(rejected)["outcome"] == "rejected"
    assert [(e["path"], e["body"]) for e in await desk.logged("/tickets/", "POST")] == [
        (f"/tickets/{ids[3029]}/approve", None),
        (f"/tickets/{ids[3030]}/reject", {"reason": "Use Reader"}),
    ]
    assert data(await desk.call(users.mike, "list_pending_approvals")) == {"tickets": []}
    closed = await desk.raw(users.mike, f"/tickets/{ids[3030]}")
    assert closed["status"] == "closed"
    assert closed["comments"][-1]["comment"] == "Rejected: Use Reader"


async def test_a_ticket_not_awaiting_approval_cannot_be_approved(desk: Desk, users: Users) -> None:
    with pytest.raises(PreviewError) as caught:
        await desk.preview(users.mike, "approve_ticket", ticket_number=3012)
    assert caught.value.message == "ticket 3012 is not waiting for your approval"
    outcome = await desk.call(users.mike, "approve_ticket", ticket_number=3012)
    assert data(outcome) == {"error": "ticket 3012 is not waiting for your approval"}


# --- create_ticket_from_chat ------------------------------------------------------------


async def test_create_ticket_from_chat(desk: Desk, users: Users) -> None:
    with pytest.raises(PreviewError, match="no helpdesk chat for this conversation"):
        await desk.preview(users.jane, "create_ticket_from_chat")
    outcome = await desk.call(users.jane, "create_ticket_from_chat")
    assert data(outcome) == {"error": "no helpdesk chat for this conversation"}

    chat = await desk.helpdesk.chat_start(users.jane.auth)
    await desk.helpdesk.chat_send(users.jane.auth, chat.chat_id, "The printer is offline again")
    jane = replace(users.jane, chat_id=chat.chat_id)
    preview = await desk.preview(jane, "create_ticket_from_chat", subject="Printer offline")
    assert preview.fields[0] == ("Subject", "Printer offline")
    assert preview.fields[1][1].startswith("the transcript of this chat (")
    result = data(await desk.call(jane, "create_ticket_from_chat", subject="Printer offline"))
    assert result["status"] == "done" and result["subject"] == "Printer offline"
    [posted] = await desk.logged(f"/chat/{chat.chat_id}/ticket", "POST")
    assert posted["body"] == {"subject": "Printer offline"}
    again = data(await desk.call(jane, "create_ticket_from_chat"))
    assert again == {"error": f"this chat already has ticket {result['ticket_number']}"}
