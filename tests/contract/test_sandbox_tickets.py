"""Sandbox tickets over real HTTP: seed data, create/update/comment, approvals, isolation."""

from __future__ import annotations

from pathlib import Path

import httpx

from sandbox.runner import RunningSandbox, SandboxConfig, start_sandbox
from tests.conftest import login_as

JANE, MIKE, SAM, PRIYA = (
    "jane@acme.example",
    "mike@acme.example",
    "sam@acme.example",
    "priya@acme.example",
)
LEE = "lee@globex.example"


async def _all_tickets(
    client: httpx.AsyncClient, headers: dict[str, str], path: str = "/tickets"
) -> list[dict]:
    response = await client.get(path, params={"limit": 100}, headers=headers)
    assert response.status_code == 200, response.text
    tickets: list[dict] = response.json()["tickets"]
    return tickets


async def test_jane_sees_her_seeded_tickets(
    sandbox: RunningSandbox, sandbox_http: httpx.AsyncClient
) -> None:
    jane = await login_as(sandbox_http, sandbox.api_base, JANE)
    tickets = await _all_tickets(sandbox_http, jane)
    by_number = {t["ticket_number"]: t for t in tickets}
    assert by_number[3012]["subject"] == "VPN drops"
    assert by_number[3012]["job_type"] == "Network" and by_number[3012]["status"] == "open"
    printer = by_number[3018]
    assert (printer["subject"], printer["priority"], printer["assigned_tech"]) == (
        "Printer not working",
        3,
        5,
    )
    assert {t["status"] for t in tickets} >= {"open", "in_progress", "on_hold", "closed"}
    assert all(t["requester_name"] == "Jane Smith" for t in tickets)
    created = [t["created_at"] for t in tickets]
    assert created == sorted(created, reverse=True)

    detail = (await sandbox_http.get(f"/tickets/{printer['ticket_id']}", headers=jane)).json()
    assert detail["asset"]["machine_name"] == "HP LaserJet Pro"
    public = [c for c in detail["comments"] if not c["is_internal"]]
    assert public[0]["author_name"] == "Mike Tech"
    assert public[0]["comment"].startswith("I've checked the network cable")
    assert any(c["is_internal"] for c in detail["comments"])
    assert detail["contracts"] == []


async def test_seed_has_thirty_tickets_per_company(
    sandbox: RunningSandbox, sandbox_http: httpx.AsyncClient
) -> None:
    for manager in (MIKE, "nora@globex.example"):
        headers = await login_as(sandbox_http, sandbox.api_base, manager)
        own = await _all_tickets(sandbox_http, headers)
        team = await _all_tickets(sandbox_http, headers, "/tickets/team")
        assert len(own) + len(team) >= 30


async def test_create_ticket_then_update_and_comment(
    sandbox: RunningSandbox, sandbox_http: httpx.AsyncClient
) -> None:
    jane = await login_as(sandbox_http, sandbox.api_base, JANE)
    response = await sandbox_http.post(
        "/tickets",
        json={
            "subject": "VPN connection failing",
            "description": "Since this morning",
            "priority": 2,
            "job_type": "network",
        },
        headers=jane,
    )
    assert response.status_code == 201
    created = response.json()
    assert created["success"] is True and created["status"] == "open"
    assert created["requires_approval"] is False
    assert created["ticket_number"] == 3033 and created["ticket_id"] > 1001
    ticket_id = created["ticket_id"]

    listed = await _all_tickets(sandbox_http, jane)
    assert listed[0]["ticket_id"] == ticket_id and listed[0]["job_type"] == "Network"

    closed = await sandbox_http.put(
        f"/tickets/{ticket_id}", json={"status": "closed"}, headers=jane
    )
    assert closed.json()["data"]["closed_at"] is not None
    reopened = await sandbox_http.put(
        f"/tickets/{ticket_id}", json={"status": "open"}, headers=jane
    )
    assert reopened.json()["success"] is True and reopened.json()["data"]["closed_at"] is None

    comment = await sandbox_http.post(
        f"/tickets/{ticket_id}/comments", json={"comment": "Still broken"}, headers=jane
    )
    assert comment.status_code == 201
    assert comment.json()["data"]["author_name"] == "Jane Smith"
    detail = (await sandbox_http.get(f"/tickets/{ticket_id}", headers=jane)).json()
    assert [c["comment"] for c in detail["comments"]] == ["Still broken"]


async def test_sam_cannot_create_tickets_or_see_assets(
    sandbox: RunningSandbox, sandbox_http: httpx.AsyncClient
) -> None:
    sam = await login_as(sandbox_http, sandbox.api_base, SAM)
    response = await sandbox_http.post(
        "/tickets", json={"subject": "x", "description": "y"}, headers=sam
    )
    assert response.status_code == 403 and "error" in response.json()
    assert (await sandbox_http.get("/assets", headers=sam)).status_code == 403
    assert (await sandbox_http.get("/assets/206", headers=sam)).status_code == 403


async def test_approvals_are_for_managers(
    sandbox: RunningSandbox, sandbox_http: httpx.AsyncClient
) -> None:
    jane = await login_as(sandbox_http, sandbox.api_base, JANE)
    assert (await sandbox_http.get("/tickets/approvals", headers=jane)).status_code == 403
    count = (await sandbox_http.get("/tickets/approvals/count", headers=jane)).json()
    assert count == {"is_manager": False, "pending_count": 0}

    mike = await login_as(sandbox_http, sandbox.api_base, MIKE)
    pending = await _all_tickets(sandbox_http, mike, "/tickets/approvals")
    assert sorted(t["subject"] for t in pending) == [
        "Adobe Acrobat Pro license",
        "New laptop request",
    ]
    assert all(t["approval_status"] == "pending" for t in pending)
    count = (await sandbox_http.get("/tickets/approvals/count", headers=mike)).json()
    assert count == {"is_manager": True, "pending_count": 2}

    laptop = next(t for t in pending if t["subject"] == "New laptop request")
    acrobat = next(t for t in pending if t["subject"] != "New laptop request")
    assert (
        await sandbox_http.post(f"/tickets/{laptop['ticket_id']}/approve", headers=jane)
    ).status_code == 403
    approved = await sandbox_http.post(f"/tickets/{laptop['ticket_id']}/approve", headers=mike)
    assert approved.status_code == 200
    assert approved.json()["data"]["approval_status"] == "approved"
    again = await sandbox_http.post(f"/tickets/{laptop['ticket_id']}/approve", headers=mike)
    assert again.status_code == 409

    no_reason = await sandbox_http.post(
        f"/tickets/{acrobat['ticket_id']}/reject", json={}, headers=mike
    )
    assert no_reason.status_code == 400 and "reason" in no_reason.json()["error"]
    rejected = await sandbox_http.post(
        f"/tickets/{acrobat['ticket_id']}/reject",
        json={"reason": "Use the free reader"},
        headers=mike,
    )
    data = rejected.json()["data"]
    assert (data["approval_status"], data["status"]) == ("rejected", "closed")
    priya = await login_as(sandbox_http, sandbox.api_base, PRIYA)
    detail = (await sandbox_http.get(f"/tickets/{acrobat['ticket_id']}", headers=priya)).json()
    assert any("Use the free reader" in c["comment"] for c in detail["comments"])
    count = (await sandbox_http.get("/tickets/approvals/count", headers=mike)).json()
    assert count["pending_count"] == 0


async def test_approval_job_type_makes_a_pending_ticket(
    sandbox: RunningSandbox, sandbox_http: httpx.AsyncClient
) -> None:
    jane = await login_as(sandbox_http, sandbox.api_base, JANE)
    created = await sandbox_http.post(
        "/tickets",
        json={
            "subject": "Access to prod logs",
            "description": "Debugging",
            "job_type": "Access Request",
        },
        headers=jane,
    )
    assert created.json()["requires_approval"] is True
    mike = await login_as(sandbox_http, sandbox.api_base, MIKE)
    pending = await _all_tickets(sandbox_http, mike, "/tickets/approvals")
    assert created.json()["ticket_id"] in {t["ticket_id"] for t in pending}


async def test_tenant_and_user_isolation(
    sandbox: RunningSandbox, sandbox_http: httpx.AsyncClient
) -> None:
    jane = await login_as(sandbox_http, sandbox.api_base, JANE)
    jane_ticket = next(
        t for t in await _all_tickets(sandbox_http, jane) if t["ticket_number"] == 3018
    )
    priya = await login_as(sandbox_http, sandbox.api_base, PRIYA)
    priya_ticket = (await _all_tickets(sandbox_http, priya))[0]
    lee = await login_as(sandbox_http, sandbox.api_base, LEE)
    mike = await login_as(sandbox_http, sandbox.api_base, MIKE)

    path = f"/tickets/{jane_ticket['ticket_id']}"
    assert (await sandbox_http.get(path, headers=lee)).status_code == 404
    assert (await sandbox_http.put(path, json={"priority": 1}, headers=lee)).status_code == 404
    assert (
        await sandbox_http.post(path + "/comments", json={"comment": "hi"}, headers=lee)
    ).status_code == 404
    assert (
        await sandbox_http.get(f"/tickets/{priya_ticket['ticket_id']}", headers=jane)
    ).status_code == 404
    # A manager sees a report's ticket (team), but not in his own list.
    assert (await sandbox_http.get(path, headers=mike)).status_code == 200
    assert jane_ticket["ticket_id"] not in {
        t["ticket_id"] for t in await _all_tickets(sandbox_http, mike)
    }
    team = await _all_tickets(sandbox_http, mike, "/tickets/team")
    assert jane_ticket["ticket_id"] in {t["ticket_id"] for t in team}
    assert (await sandbox_http.get("/tickets/team", headers=jane)).status_code == 403
    # Globex manager cannot act on Acme approvals.
    nora = await login_as(sandbox_http, sandbox.api_base, "nora@globex.example")
    mike_pending = await _all_tickets(sandbox_http, mike, "/tickets/approvals")
    response = await sandbox_http.post(
        f"/tickets/{mike_pending[0]['ticket_id']}/approve", headers=nora
    )
    assert response.status_code == 404


async def test_ticket_pagination_is_consistent(
    sandbox: RunningSandbox, sandbox_http: httpx.AsyncClient
) -> None:
    mike = await login_as(sandbox_http, sandbox.api_base, MIKE)
    first = (await sandbox_http.get("/tickets/team", params={"limit": 5}, headers=mike)).json()
    pagination = first["pagination"]
    total = pagination["total"]
    assert total % 5, "pick a page size that does not divide the total"
    assert pagination == {"page": 1, "limit": 5, "total": total, "total_pages": -(-total // 5)}
    seen: list[int] = []
    for page in range(1, pagination["total_pages"] + 1):
        body = (
            await sandbox_http.get("/tickets/team", params={"limit": 5, "page": page}, headers=mike)
        ).json()
        seen += [t["ticket_id"] for t in body["tickets"]]
    assert len(seen) == len(set(seen)) == total
    beyond = await sandbox_http.get(
        "/tickets/team", params={"limit": 5, "page": pagination["total_pages"] + 1}, headers=mike
    )
    assert beyond.status_code == 200 and beyond.json()["tickets"] == []
    for params in (
        {"limit": 101},
        {"limit": 0},
        {"page": 0},
        {"page": "two"},
        {"status": "pending"},
    ):
        response = await sandbox_http.get("/tickets", params=params, headers=mike)
        assert response.status_code == 400, params
        assert next(iter(params)) in response.json()["error"]
    closed = (
        await sandbox_http.get(
            "/tickets/team", params={"status": "closed", "limit": 100}, headers=mike
        )
    ).json()
    assert closed["tickets"] and all(t["status"] == "closed" for t in closed["tickets"])


async def test_file_database_keeps_data_across_restarts(tmp_path: Path) -> None:
    config = SandboxConfig(db_path=str(tmp_path / "sandbox.db"))
    for round_ in range(2):
        async with start_sandbox(config=config) as running, httpx.AsyncClient() as client:
            headers = await login_as(client, running.api_base, JANE)
            url = f"{running.api_base}/tickets"
            if round_ == 0:
                body = {"subject": "Persist me", "description": "d"}
                assert (await client.post(url, json=body, headers=headers)).status_code == 201
            tickets = (await client.get(url, params={"limit": 100}, headers=headers)).json()
    assert [t["subject"] for t in tickets["tickets"]].count("Persist me") == 1
