"""Sandbox back office over real HTTP: faults, request log, reset, outages, console, loopback."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from sandbox.app import _is_loopback
from sandbox.runner import RunningSandbox, SandboxThread
from tests.conftest import login_as


@pytest.fixture
async def office(sandbox: RunningSandbox) -> httpx.AsyncClient:
    async with httpx.AsyncClient(base_url=sandbox.base_url + "/sandbox", timeout=10) as client:
        yield client  # type: ignore[misc]


async def test_fault_with_count_and_path_prefix(
    sandbox: RunningSandbox, sandbox_http: httpx.AsyncClient, office: httpx.AsyncClient
) -> None:
    jane = await login_as(sandbox_http, sandbox.api_base, "jane@acme.example")
    added = await office.post(
        "/faults", json={"status": 429, "path_prefix": "/tickets", "count": 2, "retry_after": 7}
    )
    assert added.status_code == 201
    for _ in range(2):
        limited = await sandbox_http.get("/tickets", headers=jane)
        assert limited.status_code == 429
        assert limited.headers["Retry-After"] == "7" and "error" in limited.json()
    assert (await sandbox_http.get("/tickets", headers=jane)).status_code == 200
    await office.post("/faults", json={"status": 503, "path_prefix": "/outages"})
    assert (await sandbox_http.get("/job-types", headers=jane)).status_code == 200
    assert (await sandbox_http.get("/outages", headers=jane)).status_code == 503
    assert (await office.delete("/faults")).status_code == 200
    assert (await sandbox_http.get("/outages", headers=jane)).status_code == 200


async def test_fault_by_method_and_rate_zero(
    sandbox: RunningSandbox, sandbox_http: httpx.AsyncClient, office: httpx.AsyncClient
) -> None:
    jane = await login_as(sandbox_http, sandbox.api_base, "jane@acme.example")
    await office.post("/faults", json={"status": 500, "rate": 0, "path_prefix": "/tickets"})
    await office.post(
        "/faults", json={"status": 502, "method": "POST", "path_prefix": "/helpdesk/api/v1/tickets"}
    )
    assert (await sandbox_http.get("/tickets", headers=jane)).status_code == 200
    post = await sandbox_http.post(
        "/tickets", json={"subject": "s", "description": "d"}, headers=jane
    )
    assert post.status_code == 502
    bad = await office.post("/faults", json={"status": 418})
    assert bad.status_code == 400 and "status" in bad.json()["error"]
    assert (await office.post("/faults", json={"status": 500, "rate": 2})).status_code == 400


async def test_latency_fault_delays_and_still_processes_abandoned_requests(
    sandbox: RunningSandbox, sandbox_http: httpx.AsyncClient, office: httpx.AsyncClient
) -> None:
    jane = await login_as(sandbox_http, sandbox.api_base, "jane@acme.example")
    await office.post("/faults", json={"latency_ms": 300, "path_prefix": "/tickets", "count": 2})
    began = time.monotonic()
    assert (await sandbox_http.get("/tickets", headers=jane)).status_code == 200
    assert time.monotonic() - began >= 0.3
    with pytest.raises(httpx.ReadTimeout):
        await sandbox_http.post(
            "/tickets", json={"subject": "Slow one", "description": "d"}, headers=jane, timeout=0.1
        )

    async def created() -> bool:
        tickets = (await sandbox_http.get("/tickets", headers=jane)).json()["tickets"]
        return any(t["subject"] == "Slow one" for t in tickets)

    async with asyncio.timeout(5):
        while not await created():  # noqa: ASYNC110 - the server is polled; no event to await
            await asyncio.sleep(0.05)


async def test_request_log_records_api_calls(
    sandbox: RunningSandbox, sandbox_http: httpx.AsyncClient, office: httpx.AsyncClient
) -> None:
    jane = await login_as(sandbox_http, sandbox.api_base, "jane@acme.example")
    await sandbox_http.post(
        "/tickets", json={"subject": "Logged", "description": "d"}, headers=jane, params={"x": "1"}
    )
    await sandbox_http.get("/job-types", headers=jane)
    posts = (
        await office.get("/requests", params={"path_prefix": "/tickets", "method": "post"})
    ).json()
    assert len(posts["requests"]) == 1
    entry = posts["requests"][0]
    assert (entry["method"], entry["path"], entry["status"]) == ("POST", "/tickets", 201)
    assert entry["user_email"] == "jane@acme.example"
    assert entry["body"] == {"subject": "Logged", "description": "d"}
    assert entry["query"] == {"x": "1"} and entry["at"].endswith("Z")
    everything = (await office.get("/requests")).json()["requests"]
    assert [e["path"] for e in everything] == ["/auth/login", "/tickets", "/job-types"]
    assert not any(e["path"].startswith("/sandbox") for e in everything)
    assert (await office.delete("/requests")).status_code == 200
    assert (await office.get("/requests")).json() == {"requests": []}


async def test_reset_reseeds(
    sandbox: RunningSandbox, sandbox_http: httpx.AsyncClient, office: httpx.AsyncClient
) -> None:
    jane = await login_as(sandbox_http, sandbox.api_base, "jane@acme.example")
    await sandbox_http.post(
        "/tickets", json={"subject": "Gone soon", "description": "d"}, headers=jane
    )
    assert (await office.post("/reset")).json() == {"success": True}
    assert (await sandbox_http.get("/tickets", headers=jane)).status_code == 401
    jane = await login_as(sandbox_http, sandbox.api_base, "jane@acme.example")
    tickets = (await sandbox_http.get("/tickets", headers=jane)).json()["tickets"]
    assert "Gone soon" not in {t["subject"] for t in tickets}
    assert {t["ticket_number"] for t in tickets} >= {3012, 3018}


async def test_outages_seed_and_back_office(
    sandbox: RunningSandbox, sandbox_http: httpx.AsyncClient, office: httpx.AsyncClient
) -> None:
    jane = await login_as(sandbox_http, sandbox.api_base, "jane@acme.example")
    body = (await sandbox_http.get("/outages", headers=jane)).json()
    assert body["all_operational"] is False
    [vpn] = body["outages"]
    assert (vpn["service"], vpn["status"], vpn["site_name"]) == ("VPN", "degraded", "Main Office")
    assert "VPN disconnects" in vpn["message"] and vpn["started_at"][11:16] == "09:10"
    with_resolved = (
        await sandbox_http.get("/outages", params={"include_resolved": "true"}, headers=jane)
    ).json()
    assert len(with_resolved["outages"]) == 2
    lee = await login_as(sandbox_http, sandbox.api_base, "lee@globex.example")
    globex = (await sandbox_http.get("/outages", headers=lee)).json()["outages"]
    assert [o["service"] for o in globex] == ["Email"]

    resolved = await office.post(f"/outages/{vpn['outage_id']}/resolve")
    assert resolved.json()["status"] == "resolved"
    assert (await sandbox_http.get("/outages", headers=jane)).json() == {
        "outages": [],
        "all_operational": True,
    }
    added = await office.post(
        "/outages",
        json={"company_number": 1, "service": "Wi-Fi", "status": "outage", "title": "Wi-Fi down"},
    )
    assert added.status_code == 201
    now = (await sandbox_http.get("/outages", headers=jane)).json()["outages"]
    assert [o["title"] for o in now] == ["Wi-Fi down"]
    assert (
        await office.post("/outages", json={"service": "x", "status": "fine"})
    ).status_code == 400


async def test_console_and_chat_listing(sandbox: RunningSandbox, office: httpx.AsyncClient) -> None:
    page = await office.get("/console")
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert "agent-messages" in page.text and "textContent" in page.text
    assert "innerHTML" not in page.text and "http" not in page.text.split("<script>")[1]
    waiting = (await office.get("/chats", params={"status": "waiting_agent"})).json()["chats"]
    assert waiting and all(c["status"] == "waiting_agent" for c in waiting)
    detail = (await office.get(f"/chats/{waiting[0]['chat_id']}")).json()
    assert detail["messages"] and detail["user_email"]
    assert (await office.get("/chats", params={"status": "nope"})).status_code == 400
    assert (await office.get("/chats/999999")).status_code == 404


def test_back_office_accepts_only_loopback_addresses() -> None:
    assert _is_loopback("127.0.0.1") and _is_loopback("::1") and _is_loopback("::ffff:127.0.0.1")
    assert not _is_loopback("10.0.0.7") and not _is_loopback(None) and not _is_loopback("bogus")


def test_threaded_sandbox_serves_sync_callers(sandbox_thread: SandboxThread) -> None:
    assert sandbox_thread.api_base == sandbox_thread.base_url + "/helpdesk/api/v1"
    response = httpx.get(f"{sandbox_thread.api_base}/init", timeout=10)
    assert response.json()["data"]["tenant"]["name"] == "Harbor IT Services"
