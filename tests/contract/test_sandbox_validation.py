"""Sandbox input validation over real HTTP: every bad input is a JSON 4xx that names the field."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from sandbox.runner import RunningSandbox
from tests.conftest import login_as

JSON = {"Content-Type": "application/json"}


@pytest.fixture
async def jane(sandbox: RunningSandbox, sandbox_http: httpx.AsyncClient) -> dict[str, str]:
    return await login_as(sandbox_http, sandbox.api_base, "jane@acme.example")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"description": "d"}, "subject"),
        ({"subject": "s"}, "description"),
        ({"subject": 5, "description": "d"}, "subject"),
        ({"subject": "s", "description": ["d"]}, "description"),
        ({"subject": "", "description": "d"}, "subject"),
        ({"subject": "x" * 256, "description": "d"}, "subject"),
        ({"subject": "s", "description": "d", "priority": 0}, "priority"),
        ({"subject": "s", "description": "d", "priority": 6}, "priority"),
        ({"subject": "s", "description": "d", "priority": "3"}, "priority"),
        ({"subject": "s", "description": "d", "priority": True}, "priority"),
        ({"subject": "s", "description": "d", "priority": 2.5}, "priority"),
        ({"subject": "s", "description": "d", "job_type": "Plumbing"}, "job_type"),
    ],
)
async def test_bad_ticket_fields_are_400_naming_the_field(
    sandbox_http: httpx.AsyncClient, jane: dict[str, str], body: dict[str, Any], field: str
) -> None:
    response = await sandbox_http.post("/tickets", json=body, headers=jane)
    assert response.status_code == 400
    assert field in response.json()["error"]


async def test_lone_surrogates_are_400(
    sandbox_http: httpx.AsyncClient, jane: dict[str, str]
) -> None:
    raw = b'{"subject": "s\\ud800", "description": "d"}'
    response = await sandbox_http.post("/tickets", content=raw, headers={**jane, **JSON})
    assert response.status_code == 400 and "subject" in response.json()["error"]


@pytest.mark.parametrize(
    "raw", [b"{", b"[1, 2]", b'"text"', b"null", b"", b"\xff\xfe", b"[" * 100_000]
)
async def test_malformed_or_non_object_bodies_are_400(
    sandbox_http: httpx.AsyncClient, jane: dict[str, str], raw: bytes
) -> None:
    response = await sandbox_http.post("/tickets", content=raw, headers={**jane, **JSON})
    assert response.status_code == 400
    assert response.json()["error"]


async def test_subject_of_255_characters_is_accepted(
    sandbox_http: httpx.AsyncClient, jane: dict[str, str]
) -> None:
    body = {"subject": "x" * 255, "description": "d", "priority": 5}
    assert (await sandbox_http.post("/tickets", json=body, headers=jane)).status_code == 201


async def test_body_over_one_mebibyte_is_413(
    sandbox_http: httpx.AsyncClient, jane: dict[str, str]
) -> None:
    big = {"subject": "s", "description": "d" * (1024 * 1024)}
    response = await sandbox_http.post("/tickets", json=big, headers=jane)
    assert response.status_code == 413
    assert "error" in response.json()

    async def chunks() -> Any:  # no Content-Length: the limit applies while reading
        yield b'{"subject": "s", "description": "'
        for _ in range(20):
            yield b"d" * 65536
        yield b'"}'

    streamed = await sandbox_http.post("/tickets", content=chunks(), headers={**jane, **JSON})
    assert streamed.status_code == 413


async def test_unknown_routes_wrong_methods_and_bad_ids_are_json(
    sandbox_http: httpx.AsyncClient, jane: dict[str, str]
) -> None:
    missing = await sandbox_http.get("/no-such-thing", headers=jane)
    assert missing.status_code == 404 and missing.json() == {"error": "Not found"}
    wrong = await sandbox_http.delete("/tickets", headers=jane)
    assert wrong.status_code == 405 and "error" in wrong.json()
    assert "GET" in wrong.headers["Allow"]
    for path in ("/tickets/abc", "/tickets/-1", "/tickets/0", "/tickets/99999999999999999999999"):
        response = await sandbox_http.get(path, headers=jane)
        assert response.status_code == 404, path
        assert "error" in response.json()


@pytest.mark.parametrize(
    ("path", "params", "name"),
    [
        ("/kb/articles", {"per_page": 101}, "per_page"),
        ("/kb/articles", {"page": "-3"}, "page"),
        ("/assets", {"mine": "maybe"}, "mine"),
        ("/assets", {"status": "lost"}, "status"),
        ("/outages", {"include_resolved": "sometimes"}, "include_resolved"),
        ("/tickets/approvals/count", {}, None),
    ],
)
async def test_query_parameters_are_checked(
    sandbox_http: httpx.AsyncClient,
    jane: dict[str, str],
    path: str,
    params: dict[str, Any],
    name: str | None,
) -> None:
    response = await sandbox_http.get(path, params=params, headers=jane)
    if name is None:
        assert response.status_code == 200
    else:
        assert response.status_code == 400
        assert name in response.json()["error"]


async def test_chat_message_validation(
    sandbox_http: httpx.AsyncClient, jane: dict[str, str]
) -> None:
    chat = (await sandbox_http.post("/chat/start", headers=jane)).json()
    path = f"/chat/{chat['chat_id']}/messages"
    assert (await sandbox_http.post(path, json={}, headers=jane)).status_code == 400
    too_long = await sandbox_http.post(path, json={"message": "x" * 10001}, headers=jane)
    assert too_long.status_code == 400 and "message" in too_long.json()["error"]
    since = await sandbox_http.get(path, params={"since": "yesterday"}, headers=jane)
    assert since.status_code == 400 and "since" in since.json()["error"]
