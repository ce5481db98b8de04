"""Sandbox chat over real HTTP: start/resume, Val AI, transfer, agent via back office, end."""

from __future__ import annotations

import httpx

from sandbox.runner import RunningSandbox
from tests.conftest import login_as


async def test_chat_lifecycle_with_human_handoff(
    sandbox: RunningSandbox, sandbox_http: httpx.AsyncClient
) -> None:
    jane = await login_as(sandbox_http, sandbox.api_base, "jane@acme.example")
    started = (await sandbox_http.post("/chat/start", headers=jane)).json()
    assert started["status"] == "active" and started["resumed"] is False
    assert started["messages"] == [] and started["ticket_id"] is None
    chat_id = started["chat_id"]
    messages = f"/chat/{chat_id}/messages"

    sent = await sandbox_http.post(
        messages, json={"message": "My VPN keeps disconnecting"}, headers=jane
    )
    assert sent.status_code == 200
    mine = sent.json()
    assert mine["sender_type"] == "user" and mine["message"] == "My VPN keeps disconnecting"
    history = (await sandbox_http.get(messages, headers=jane)).json()
    assert [m["sender_type"] for m in history["messages"]] == ["user", "ai"]
    ai = history["messages"][1]
    assert ai["sender_name"] == "Val AI" and "VPN" in ai["message"]
    assert "/helpdesk/kb/" in ai["message"]

    resumed = (await sandbox_http.post("/chat/start", headers=jane)).json()
    assert resumed["chat_id"] == chat_id and resumed["resumed"] is True
    assert [m["message_id"] for m in resumed["messages"]] == [
        m["message_id"] for m in history["messages"]
    ]

    transfer = await sandbox_http.post(
        f"/chat/{chat_id}/transfer", json={"reason": "wants a human"}, headers=jane
    )
    assert transfer.json() == {"success": True, "chat_id": chat_id, "status": "waiting_agent"}
    again = await sandbox_http.post(f"/chat/{chat_id}/transfer", headers=jane)
    assert again.json()["status"] == "waiting_agent"
    cursor = (await sandbox_http.get(messages, headers=jane)).json()["messages"][-1]["created_at"]

    await sandbox_http.post(messages, json={"message": "Anyone there?"}, headers=jane)
    after_transfer = (
        await sandbox_http.get(messages, params={"since": cursor}, headers=jane)
    ).json()
    assert [m["sender_type"] for m in after_transfer["messages"]] == ["user"]
    assert after_transfer["status"] == "waiting_agent"

    waiting = (
        await sandbox_http.get(
            f"{sandbox.base_url}/sandbox/chats", params={"status": "waiting_agent"}
        )
    ).json()
    entry = next(c for c in waiting["chats"] if c["chat_id"] == chat_id)
    assert entry["user_email"] == "jane@acme.example"

    agent = await sandbox_http.post(
        f"{sandbox.base_url}/sandbox/chats/{chat_id}/agent-messages",
        json={"message": "Hi Jane, Dana here.", "agent_name": "Dana Support"},
    )
    assert agent.status_code == 201 and agent.json()["sender_type"] == "agent"
    cursor = after_transfer["messages"][-1]["created_at"]
    news = (await sandbox_http.get(messages, params={"since": cursor}, headers=jane)).json()
    assert news["status"] == "agent" and news["agent_name"] == "Dana Support"
    assert [(m["sender_type"], m["message"]) for m in news["messages"]] == [
        ("system", "Dana Support joined the chat"),
        ("agent", "Hi Jane, Dana here."),
    ]
    await sandbox_http.post(messages, json={"message": "Thanks!"}, headers=jane)
    assert (await sandbox_http.get(messages, headers=jane)).json()["messages"][-1][
        "sender_type"
    ] == "user"

    ended = await sandbox_http.post(f"/chat/{chat_id}/end", headers=jane)
    assert ended.json() == {"success": True, "chat_id": chat_id, "status": "ended"}
    assert (await sandbox_http.post(f"/chat/{chat_id}/end", headers=jane)).status_code == 200
    final = (await sandbox_http.get(messages, headers=jane)).json()
    assert final["messages"][-1]["message"] == "The chat has ended"
    assert [m for m in final["messages"] if m["message"] == "The chat has ended"] == final[
        "messages"
    ][-1:]
    stamps = [m["created_at"] for m in final["messages"]]
    assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps)
    assert all(s.endswith("Z") and len(s) == len("2026-03-13T10:05:00.123456Z") for s in stamps)
    late = await sandbox_http.post(messages, json={"message": "hello?"}, headers=jane)
    assert late.status_code == 409
    assert (await sandbox_http.post(f"/chat/{chat_id}/transfer", headers=jane)).status_code == 409
    fresh = (await sandbox_http.post("/chat/start", headers=jane)).json()
    assert fresh["chat_id"] != chat_id and fresh["resumed"] is False


async def test_since_is_strictly_after_and_paginates(
    sandbox: RunningSandbox, sandbox_http: httpx.AsyncClient
) -> None:
    jane = await login_as(sandbox_http, sandbox.api_base, "jane@acme.example")
    chat_id = (await sandbox_http.post("/chat/start", headers=jane)).json()["chat_id"]
    path = f"/chat/{chat_id}/messages"
    for text in ("printer offline", "wifi slow", "password reset"):
        await sandbox_http.post(path, json={"message": text}, headers=jane)
    every = (await sandbox_http.get(path, headers=jane)).json()["messages"]
    assert len(every) == 6
    pivot = every[2]["created_at"]
    after = (await sandbox_http.get(path, params={"since": pivot}, headers=jane)).json()
    assert [m["message_id"] for m in after["messages"]] == [m["message_id"] for m in every[3:]]
    offset = pivot.replace("Z", "+00:00")
    assert (await sandbox_http.get(path, params={"since": offset}, headers=jane)).json()[
        "messages"
    ] == after["messages"]
    page2 = (await sandbox_http.get(path, params={"per_page": 4, "page": 2}, headers=jane)).json()
    assert page2["pagination"] == {"page": 2, "per_page": 4, "total": 6, "total_pages": 2}
    assert [m["message_id"] for m in page2["messages"]] == [m["message_id"] for m in every[4:]]


async def test_chat_ticket_and_isolation(
    sandbox: RunningSandbox, sandbox_http: httpx.AsyncClient
) -> None:
    jane = await login_as(sandbox_http, sandbox.api_base, "jane@acme.example")
    chat_id = (await sandbox_http.post("/chat/start", headers=jane)).json()["chat_id"]
    await sandbox_http.post(
        f"/chat/{chat_id}/messages", json={"message": "Printer shows offline"}, headers=jane
    )
    created = await sandbox_http.post(f"/chat/{chat_id}/ticket", headers=jane)
    assert created.status_code == 201
    body = created.json()
    assert body["subject"] == "Printer shows offline" and body["status"] == "open"
    detail = (await sandbox_http.get(f"/tickets/{body['ticket_id']}", headers=jane)).json()
    assert "Jane Smith: Printer shows offline" in detail["description"]
    assert "Val AI:" in detail["description"]
    second = await sandbox_http.post(
        f"/chat/{chat_id}/ticket", json={"subject": "again"}, headers=jane
    )
    assert second.status_code == 409 and second.json()["ticket_number"] == body["ticket_number"]
    resumed = (await sandbox_http.post("/chat/start", headers=jane)).json()
    assert resumed["ticket_id"] == body["ticket_id"]

    priya = await login_as(sandbox_http, sandbox.api_base, "priya@acme.example")
    lee = await login_as(sandbox_http, sandbox.api_base, "lee@globex.example")
    for other in (priya, lee):
        assert (
            await sandbox_http.get(f"/chat/{chat_id}/messages", headers=other)
        ).status_code == 404
        denied = await sandbox_http.post(
            f"/chat/{chat_id}/messages", json={"message": "hi"}, headers=other
        )
        assert denied.status_code == 404
    sam = await login_as(sandbox_http, sandbox.api_base, "sam@acme.example")
    sam_chat = (await sandbox_http.post("/chat/start", headers=sam)).json()["chat_id"]
    assert (await sandbox_http.post(f"/chat/{sam_chat}/ticket", headers=sam)).status_code == 403


async def test_val_ai_uses_the_users_company_knowledge_base(
    sandbox: RunningSandbox, sandbox_http: httpx.AsyncClient
) -> None:
    added = await sandbox_http.post(
        f"{sandbox.base_url}/sandbox/kb/articles",
        json={
            "company_number": 2,
            "title": "Globex forklift terminal reboot",
            "category": "Hardware",
            "tags": ["forklift"],
            "body": "Hold the power button for 10 seconds.",
        },
    )
    assert added.status_code == 201
    lee = await login_as(sandbox_http, sandbox.api_base, "lee@globex.example")
    jane = await login_as(sandbox_http, sandbox.api_base, "jane@acme.example")
    for headers, expected in ((lee, True), (jane, False)):
        chat_id = (await sandbox_http.post("/chat/start", headers=headers)).json()["chat_id"]
        path = f"/chat/{chat_id}/messages"
        await sandbox_http.post(path, json={"message": "forklift terminal frozen"}, headers=headers)
        reply = (await sandbox_http.get(path, headers=headers)).json()["messages"][-1]
        assert reply["sender_type"] == "ai"
        assert ("forklift terminal reboot" in reply["message"]) is expected
