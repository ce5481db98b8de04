"""The sandbox conforms to helpdesk-openapi.yaml: a schemathesis run over every operation.

Every generated request is sent to the sandbox as jane (Bearer token), and each response must
not be a server error and must conform to the spec: a documented status code, the declared
content type and the response schema. A second test walks the happy and error paths the
random run rarely reaches (real ids, manager actions, chat life cycle, 409s) and validates
those responses against the same spec.

The run changes sandbox state (tickets, chats, jane's profile), so the module resets the
sandbox before and after itself through the back office.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
import yaml
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

SPEC_PATH = Path(__file__).resolve().parents[2] / "helpdesk-openapi.yaml"
LIST_KEYS = ("tickets", "assets", "articles", "messages")
TICKET_LISTS = ("/tickets", "/tickets/approvals", "/tickets/team")


def _requested(case: schemathesis.Case, name: str, default: int) -> int | None:
    value = case.query.get(name, default) if isinstance(case.query, dict) else default
    return value if type(value) is int else None


def _json_ok(response: Any) -> Any:
    """The body of a 200 JSON response, else None."""
    content_type = response.headers.get("content-type", [""])[0]
    if response.status_code != 200 or not content_type.startswith("application/json"):
        return None
    return response.json()


def pagination_is_consistent(ctx: Any, response: Any, case: schemathesis.Case) -> None:
    """`pagination` echoes the request and `total_pages = ceil(total / size)` (decisions)."""
    body = _json_ok(response)
    if not isinstance(body, dict) or not isinstance(body.get("pagination"), dict):
        return
    pages = body["pagination"]
    size_name = "limit" if "limit" in pages else "per_page"
    page, size = _requested(case, "page", 1), _requested(case, size_name, 20)
    items = next(body[key] for key in LIST_KEYS if key in body)
    total, total_pages = pages["total"], pages["total_pages"]
    assert total_pages == math.ceil(total / pages[size_name]), f"inconsistent {pages}"
    if page is not None and size is not None:
        assert (pages["page"], pages[size_name]) == (page, size), f"{pages} for {case.query}"
        expected = max(0, min(size, total - (page - 1) * size))
        assert len(items) == expected, f"{len(items)} items on {pages}, expected {expected}"


def lists_are_ordered(ctx: Any, response: Any, case: schemathesis.Case) -> None:
    """Ticket lists are newest first; chat messages oldest first, strictly increasing."""
    body = _json_ok(response)
    if not isinstance(body, dict):
        return
    if case.operation.path in TICKET_LISTS:
        stamps = [ticket["created_at"] for ticket in body["tickets"]]
        assert stamps == sorted(stamps, reverse=True), "tickets are not newest first"
    if isinstance(body.get("messages"), list):
        stamps = [message["created_at"] for message in body["messages"]]
        assert stamps == sorted(set(stamps)), "messages are not strictly oldest first"


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    pagination_is_consistent,
    lists_are_ordered,
]
JANE = ("jane@acme.example", "demo-jane")
MIKE = ("mike@acme.example", "demo-mike")
LEE = ("lee@globex.example", "demo-lee")
# Status codes seen per operation during the random run, printed at the end (pytest -s).
SEEN: Counter[tuple[str, int]] = Counter()


@dataclass(frozen=True)
class Api:
    """Where the sandbox serves the Helpdesk API and how to talk to it as a seeded user."""

    base_url: str
    api_base: str

    def login(self, user: tuple[str, str]) -> dict[str, Any]:
        response = httpx.post(
            f"{self.api_base}/auth/login",
            json={"username": user[0], "password": user[1]},
            timeout=10,
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def bearer(self, user: tuple[str, str]) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.login(user)['access_token']}"}

    def reset(self) -> None:
        response = httpx.post(f"{self.base_url}/sandbox/reset", timeout=30)
        assert response.status_code in (200, 204), response.text


@pytest.fixture(scope="module")
def api(sandbox_thread: Any) -> Iterator[Api]:
    api = Api(base_url=sandbox_thread.base_url.rstrip("/"), api_base=sandbox_thread.api_base)
    api.reset()
    yield api
    api.reset()
    if SEEN:
        print("\nstatus codes seen per operation:")
        for (label, status), count in sorted(SEEN.items()):
            print(f"  {label:45} {status} x{count}")


@pytest.fixture(scope="module")
def jane_headers(api: Api) -> dict[str, str]:
    return api.bearer(JANE)


# Loaded eagerly so that each operation is its own pytest item ("[GET /tickets]"); the
# sandbox's address is only known at run time, so every call passes `base_url`.
# (schemathesis' lazy `from_fixture` loader does not run on pytest 9.2: it sets the
# removed `Node._nodeid`.)
SCHEMA = schemathesis.openapi.from_path(SPEC_PATH)


def _headers_for(case: schemathesis.Case, jane_headers: dict[str, str]) -> dict[str, str]:
    # Logout revokes the access token it is sent with: fuzz it anonymously so that the
    # shared token stays valid for the other operations.
    if case.operation.path == "/auth/logout":
        return {}
    return jane_headers


def _keep_jane_password(case: schemathesis.Case) -> None:
    # Only a wrong current password may reach /profile/password, so jane keeps hers.
    body = case.body
    if (
        case.operation.path == "/profile/password"
        and isinstance(body, dict)
        and body.get("current_password") == JANE[1]
    ):
        body["current_password"] = "not-" + JANE[1]


FUZZ_SETTINGS = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)


def _send(case: schemathesis.Case, api: Api, jane_headers: dict[str, str]) -> None:
    _keep_jane_password(case)
    response = case.call_and_validate(
        base_url=api.api_base, headers=_headers_for(case, jane_headers), checks=CHECKS
    )
    SEEN[(f"{case.method} {case.operation.path}", response.status_code)] += 1


@SCHEMA.parametrize()
@FUZZ_SETTINGS
def test_every_operation_conforms(
    case: schemathesis.Case, api: Api, jane_headers: dict[str, str]
) -> None:
    _send(case, api, jane_headers)


@pytest.fixture(scope="module")
def janes_ids(api: Api, jane_headers: dict[str, str]) -> dict[str, int]:
    """An existing ticket, asset, article and chat of jane's, by path parameter name."""

    def first(path: str, key: str, id_name: str) -> int:
        response = httpx.get(f"{api.api_base}{path}", headers=jane_headers, timeout=10)
        assert response.status_code == 200, response.text
        return int(response.json()[key][0][id_name])

    chat = httpx.post(f"{api.api_base}/chat/start", headers=jane_headers, timeout=10)
    assert chat.status_code == 200, chat.text
    return {
        "ticket_id": first("/tickets", "tickets", "ticket_id"),
        "asset_id": first("/assets", "assets", "asset_id"),
        "article_id": first("/kb/articles", "articles", "article_id"),
        "chat_id": int(chat.json()["chat_id"]),
    }


@SCHEMA.include(path_regex=r"\{").parametrize()
@FUZZ_SETTINGS
def test_operations_on_existing_resources_conform(
    case: schemathesis.Case, api: Api, jane_headers: dict[str, str], janes_ids: dict[str, int]
) -> None:
    # Random ids almost always answer 404; pin every valid one to a resource jane owns so
    # that the generated queries and bodies reach the handlers and their 2xx shapes.
    for name, value in case.path_parameters.items():
        if type(value) is int and value >= 1:
            case.path_parameters[name] = janes_ids[name]
    _send(case, api, jane_headers)


# ---------------------------------------------------------------- targeted scenarios


@pytest.fixture
def fresh(api: Api) -> Api:
    """The sandbox, freshly reset (the random run leaves its traces behind)."""
    api.reset()
    return api


def call(
    api: Api,
    method: str,
    path: str,
    *,
    expect: int,
    headers: dict[str, str] | None = None,
    **parts: Any,
) -> Any:
    """Send one request built from the spec's operation and validate the response against it."""
    case = SCHEMA[path][method].Case(**parts)
    response = case.call_and_validate(base_url=api.api_base, headers=headers or {}, checks=CHECKS)
    assert response.status_code == expect, (
        f"{method} {path} {parts}: expected {expect}, got {response.status_code} {response.text}"
    )
    if response.headers.get("content-type", [""])[0].startswith("application/json"):
        return response.json()
    return response.text


def test_sandbox_serves_this_spec(api: Api) -> None:
    response = httpx.get(f"{api.api_base}/openapi.yaml", timeout=10)
    assert response.status_code == 200
    assert yaml.safe_load(response.text) == yaml.safe_load(SPEC_PATH.read_text())


def test_auth_flows_conform(fresh: Api) -> None:
    tokens = fresh.login(JANE)
    refresh = {"refresh_token": tokens["refresh_token"]}
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    call(fresh, "POST", "/auth/login", expect=401, body={"username": JANE[0], "password": "x"})
    call(fresh, "POST", "/auth/refresh", expect=200, body=refresh)
    status = call(fresh, "GET", "/auth/status", expect=200, headers=bearer)
    assert status["authenticated"] is True
    assert status["user"]["email"] == JANE[0]
    assert call(fresh, "GET", "/auth/status", expect=200)["user"] is None
    call(fresh, "GET", "/auth/oauth/providers", expect=200)
    call(fresh, "GET", "/auth/oauth/url", expect=200, query={"provider": "google"})
    call(fresh, "GET", "/auth/oauth/url", expect=400, query={"provider": "apple"})
    call(fresh, "POST", "/auth/logout", expect=200, headers=bearer, body=refresh)
    call(fresh, "POST", "/auth/refresh", expect=401, body=refresh)
    call(fresh, "GET", "/profile", expect=401, headers=bearer)
    call(fresh, "GET", "/profile", expect=401)


def test_profile_and_company_data_conform(fresh: Api) -> None:
    jane = fresh.bearer(JANE)
    profile = call(fresh, "GET", "/profile", expect=200, headers=jane)
    assert profile["permissions"]["can_create_tickets"] is True
    call(fresh, "PUT", "/profile", expect=200, headers=jane, body={"phone": "+1-555-0100"})
    call(fresh, "PUT", "/profile", expect=400, headers=jane, body={})
    wrong = {"current_password": "wrong-password", "new_password": "long-enough-1"}
    call(fresh, "POST", "/profile/password", expect=400, headers=jane, body=wrong)
    init = call(fresh, "GET", "/init", expect=200, headers=jane)
    assert init["data"]["user"]["email"] == JANE[0]
    assert call(fresh, "GET", "/init", expect=200)["data"]["user"] is None
    call(fresh, "GET", "/branding.css", expect=200)
    assert call(fresh, "GET", "/outages", expect=200, headers=jane)["outages"]
    call(fresh, "GET", "/outages", expect=200, headers=jane, query={"include_resolved": True})
    assert call(fresh, "GET", "/job-types", expect=200, headers=jane)["job_types"]
    call(fresh, "GET", "/features", expect=200, headers=jane)


def test_ticket_flows_conform(fresh: Api) -> None:
    jane, lee = fresh.bearer(JANE), fresh.bearer(LEE)
    listed = call(fresh, "GET", "/tickets", expect=200, headers=jane, query={"limit": 100})
    assert listed["tickets"], "jane has seeded tickets"
    ticket_id = listed["tickets"][0]["ticket_id"]
    path = {"ticket_id": ticket_id}
    call(fresh, "GET", "/tickets/{ticket_id}", expect=200, headers=jane, path_parameters=path)
    call(fresh, "GET", "/tickets/{ticket_id}", expect=404, headers=lee, path_parameters=path)
    update = {"status": "closed"}
    closed = call(
        fresh,
        "PUT",
        "/tickets/{ticket_id}",
        expect=200,
        headers=jane,
        path_parameters=path,
        body=update,
    )
    assert closed["data"]["closed_at"] is not None
    reopened = call(
        fresh,
        "PUT",
        "/tickets/{ticket_id}",
        expect=200,
        headers=jane,
        path_parameters=path,
        body={"status": "open"},
    )
    assert reopened["data"]["closed_at"] is None
    comment = {"comment": "Contract test comment"}
    call(
        fresh,
        "POST",
        "/tickets/{ticket_id}/comments",
        expect=201,
        headers=jane,
        path_parameters=path,
        body=comment,
    )
    new = {"subject": "Contract test", "description": "Created by the contract test", "priority": 2}
    created = call(fresh, "POST", "/tickets", expect=201, headers=jane, body=new)
    assert created["requires_approval"] is False
    call(fresh, "POST", "/tickets", expect=400, headers=jane, body={**new, "priority": 6})
    call(fresh, "POST", "/tickets", expect=400, headers=jane, body={**new, "subject": "x" * 256})
    sam = fresh.bearer(("sam@acme.example", "demo-sam"))
    call(fresh, "POST", "/tickets", expect=403, headers=sam, body=new)
    call(fresh, "GET", "/tickets", expect=400, headers=jane, query={"limit": 101})
    huge = {"subject": "big", "description": "x" * (1024 * 1024 + 1)}
    call(fresh, "POST", "/tickets", expect=413, headers=jane, body=huge)


def test_approval_flows_conform(fresh: Api) -> None:
    jane, mike = fresh.bearer(JANE), fresh.bearer(MIKE)
    assert (
        call(fresh, "GET", "/tickets/approvals/count", expect=200, headers=jane)["is_manager"]
        is False
    )
    count = call(fresh, "GET", "/tickets/approvals/count", expect=200, headers=mike)
    assert count == {**count, "is_manager": True, "pending_count": 2}
    call(fresh, "GET", "/tickets/approvals", expect=403, headers=jane)
    call(fresh, "GET", "/tickets/team", expect=403, headers=jane)
    call(fresh, "GET", "/tickets/team", expect=200, headers=mike)
    pending = call(fresh, "GET", "/tickets/approvals", expect=200, headers=mike)["tickets"]
    assert len(pending) == 2
    first, second = ({"ticket_id": t["ticket_id"]} for t in pending)
    call(
        fresh,
        "POST",
        "/tickets/{ticket_id}/approve",
        expect=403,
        headers=jane,
        path_parameters=first,
    )
    call(
        fresh,
        "POST",
        "/tickets/{ticket_id}/approve",
        expect=200,
        headers=mike,
        path_parameters=first,
    )
    call(
        fresh,
        "POST",
        "/tickets/{ticket_id}/approve",
        expect=409,
        headers=mike,
        path_parameters=first,
    )
    reason = {"reason": "Needs budget approval first."}
    rejected = call(
        fresh,
        "POST",
        "/tickets/{ticket_id}/reject",
        expect=200,
        headers=mike,
        path_parameters=second,
        body=reason,
    )
    assert rejected["data"]["status"] == "closed"
    assert rejected["data"]["approval_status"] == "rejected"


def test_assets_and_kb_conform(fresh: Api) -> None:
    jane, mike = fresh.bearer(JANE), fresh.bearer(MIKE)
    for headers in (jane, mike):
        assets = call(fresh, "GET", "/assets", expect=200, headers=headers)["assets"]
        if assets:
            path = {"asset_id": assets[0]["asset_id"]}
            call(
                fresh,
                "GET",
                "/assets/{asset_id}",
                expect=200,
                headers=headers,
                path_parameters=path,
            )
    found = call(fresh, "GET", "/kb/articles", expect=200, headers=jane, query={"search": "VPN"})
    assert found["articles"]
    path = {"article_id": found["articles"][0]["article_id"]}
    call(fresh, "GET", "/kb/articles/{article_id}", expect=200, headers=jane, path_parameters=path)
    call(
        fresh,
        "GET",
        "/kb/articles/{article_id}",
        expect=404,
        headers=jane,
        path_parameters={"article_id": 10**9},
    )


def test_chat_life_cycle_conforms(fresh: Api) -> None:
    jane = fresh.bearer(JANE)
    chat = call(fresh, "POST", "/chat/start", expect=200, headers=jane)
    path = {"chat_id": chat["chat_id"]}
    say = {"message": "My laptop won't connect to the Wi-Fi network"}
    sent = call(
        fresh,
        "POST",
        "/chat/{chat_id}/messages",
        expect=200,
        headers=jane,
        path_parameters=path,
        body=say,
    )
    history = call(
        fresh, "GET", "/chat/{chat_id}/messages", expect=200, headers=jane, path_parameters=path
    )
    assert [m["sender_type"] for m in history["messages"]][-2:] == ["user", "ai"]
    after = call(
        fresh,
        "GET",
        "/chat/{chat_id}/messages",
        expect=200,
        headers=jane,
        path_parameters=path,
        query={"since": sent["created_at"]},
    )
    assert [m["sender_type"] for m in after["messages"]] == ["ai"]
    call(
        fresh,
        "GET",
        "/chat/{chat_id}/messages",
        expect=404,
        headers=fresh.bearer(LEE),
        path_parameters=path,
    )
    moved = call(
        fresh, "POST", "/chat/{chat_id}/transfer", expect=200, headers=jane, path_parameters=path
    )
    assert moved["status"] == "waiting_agent"
    call(fresh, "POST", "/chat/{chat_id}/ticket", expect=201, headers=jane, path_parameters=path)
    again = call(
        fresh, "POST", "/chat/{chat_id}/ticket", expect=409, headers=jane, path_parameters=path
    )
    assert isinstance(again["ticket_number"], int)
    call(fresh, "POST", "/chat/{chat_id}/end", expect=200, headers=jane, path_parameters=path)
    call(fresh, "POST", "/chat/{chat_id}/end", expect=200, headers=jane, path_parameters=path)
    call(
        fresh,
        "POST",
        "/chat/{chat_id}/messages",
        expect=409,
        headers=jane,
        path_parameters=path,
        body=say,
    )
    call(fresh, "POST", "/chat/{chat_id}/transfer", expect=409, headers=jane, path_parameters=path)
