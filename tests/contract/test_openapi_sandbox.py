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
import jwt
import pytest
import schemathesis
import yaml
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
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


@dataclass(frozen=True)
class Caller:
    """Sends requests built from the spec's operations, validates each response against it
    with CHECKS, and asserts the status the decisions call for."""

    api: Api
    headers: dict[str, str]

    def __call__(self, method: str, path: str, expect: int, **parts: Any) -> Any:
        case = SCHEMA[path][method].Case(**parts)
        response = case.call_and_validate(
            base_url=self.api.api_base, headers=self.headers, checks=CHECKS
        )
        assert response.status_code == expect, (
            f"{method} {path} {parts}: expected {expect}, got {response.status_code}: "
            f"{response.text[:300]}"
        )
        if response.headers.get("content-type", [""])[0].startswith("application/json"):
            return response.json()
        return response.text


@pytest.fixture
def fresh(api: Api) -> Api:
    """The sandbox, freshly reset (the random run leaves its traces behind)."""
    api.reset()
    return api


def as_user(api: Api, user: tuple[str, str] | None) -> Caller:
    return Caller(api, api.bearer(user) if user else {})


def test_sandbox_serves_this_spec(api: Api) -> None:
    response = httpx.get(f"{api.api_base}/openapi.yaml", timeout=10)
    assert response.status_code == 200
    assert yaml.safe_load(response.text) == yaml.safe_load(SPEC_PATH.read_text())


def test_auth_flows_conform(fresh: Api) -> None:
    anonymous = as_user(fresh, None)
    login = httpx.post(
        f"{fresh.api_base}/auth/login",
        json={"username": JANE[0], "password": JANE[1]},
        timeout=10,
    )
    tokens, cookie = login.json(), login.cookies.get("hd_session")
    assert cookie, "login sets the hd_session cookie"
    refresh = {"refresh_token": tokens["refresh_token"]}
    jane = Caller(fresh, {"Authorization": f"Bearer {tokens['access_token']}"})
    anonymous("POST", "/auth/login", 401, body={"username": JANE[0], "password": "wrong"})
    anonymous("POST", "/auth/refresh", 200, body=refresh)
    anonymous("POST", "/auth/refresh", 401, body={"refresh_token": "not-a-token"})
    status = jane("GET", "/auth/status", 200)
    assert (status["authenticated"], status["user"]["email"]) == (True, JANE[0])
    assert anonymous("GET", "/auth/status", 200) == {"authenticated": False, "user": None}
    by_cookie = anonymous("GET", "/profile", 200, cookies={"hd_session": cookie})
    assert by_cookie["email"] == JANE[0]
    providers = anonymous("GET", "/auth/oauth/providers", 200)["providers"]
    assert {p["key"] for p in providers} == {"google", "microsoft"}
    assert anonymous("GET", "/auth/oauth/url", 200, query={"provider": "google"})["data"]["url"]
    anonymous("GET", "/auth/oauth/url", 400, query={"provider": "apple"})
    claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    assert claims["sub"] == "42" and claims["cid"] == 1 and claims["typ"] == "access"
    assert claims["exp"] - claims["iat"] == tokens["expires_in"] and claims["jti"]
    jane("POST", "/auth/logout", 200, body=refresh)
    anonymous("POST", "/auth/refresh", 401, body=refresh)
    jane("GET", "/profile", 401)
    anonymous("GET", "/profile", 401)


def test_profile_and_company_data_conform(fresh: Api) -> None:
    jane, anonymous = as_user(fresh, JANE), as_user(fresh, None)
    assert jane("GET", "/profile", 200)["permissions"]["asset_edit"] == "Read Only"
    updated = jane("PUT", "/profile", 200, body={"phone": "+1-555-0100"})
    assert updated["data"]["phone"] == "+1-555-0100"
    jane("PUT", "/profile", 400, body={})
    jane("PUT", "/profile", 400, body={"first_name": 7})
    wrong = {"current_password": "wrong-password", "new_password": "long-enough-1"}
    jane("POST", "/profile/password", 400, body=wrong)
    jane(
        "POST",
        "/profile/password",
        400,
        body={"current_password": JANE[1], "new_password": "short"},
    )
    assert jane("GET", "/init", 200)["data"]["user"]["email"] == JANE[0]
    assert anonymous("GET", "/init", 200)["data"]["user"] is None
    assert "--hd-primary" in anonymous("GET", "/branding.css", 200)
    current = jane("GET", "/outages", 200)
    assert current["outages"] and current["all_operational"] is False
    assert all(outage["status"] != "resolved" for outage in current["outages"])
    jane("GET", "/outages", 200, query={"include_resolved": True})
    assert jane("GET", "/job-types", 200)["job_types"]
    modules = jane("GET", "/features", 200)["data"]["modules"]
    assert modules["billing"] is False, "Acme has no Billing module"
    anonymous("GET", "/features", 401)


def test_ticket_flows_conform(fresh: Api) -> None:
    jane, lee = as_user(fresh, JANE), as_user(fresh, LEE)
    listed = jane("GET", "/tickets", 200, query={"limit": 100})
    assert listed["tickets"], "jane has seeded tickets"
    ticket = {"ticket_id": listed["tickets"][0]["ticket_id"]}
    jane("GET", "/tickets/{ticket_id}", 200, path_parameters=ticket)
    lee("GET", "/tickets/{ticket_id}", 404, path_parameters=ticket)
    lee("PUT", "/tickets/{ticket_id}", 404, path_parameters=ticket, body={"priority": 1})
    closed = jane(
        "PUT", "/tickets/{ticket_id}", 200, path_parameters=ticket, body={"status": "closed"}
    )
    assert closed["data"]["closed_at"] is not None
    reopened = jane(
        "PUT", "/tickets/{ticket_id}", 200, path_parameters=ticket, body={"status": "open"}
    )
    assert reopened["data"]["closed_at"] is None
    jane("PUT", "/tickets/{ticket_id}", 400, path_parameters=ticket, body={})
    comment = {"comment": "Contract test comment"}
    added = jane("POST", "/tickets/{ticket_id}/comments", 201, path_parameters=ticket, body=comment)
    assert added["data"]["comment"] == comment["comment"]
    detail = jane("GET", "/tickets/{ticket_id}", 200, path_parameters=ticket)
    assert added["data"]["comment_id"] in [c["comment_id"] for c in detail["comments"]]
    new = {"subject": "Contract test", "description": "Created by the contract test"}
    created = jane("POST", "/tickets", 201, body=new)
    assert (created["status"], created["requires_approval"]) == ("open", False)
    made = jane(
        "GET", "/tickets/{ticket_id}", 200, path_parameters={"ticket_id": created["ticket_id"]}
    )
    assert (made["priority"], made["job_type"]) == (3, "General")
    for bad in (
        {"priority": 6},
        {"subject": "x" * 256},
        {"job_type": "No such type"},
        {"priority": "2"},
    ):
        jane("POST", "/tickets", 400, body={**new, **bad})
    jane("POST", "/tickets", 400, body={"subject": "no description"})
    as_user(fresh, ("sam@acme.example", "demo-sam"))("POST", "/tickets", 403, body=new)
    jane("GET", "/tickets", 400, query={"limit": 101})
    jane("GET", "/tickets", 400, query={"page": 0})
    jane("GET", "/tickets", 400, query={"status": "bogus"})
    assert jane("GET", "/tickets", 200, query={"page": 10_000})["tickets"] == []
    jane("POST", "/tickets", 413, body={"subject": "big", "description": "x" * (1024 * 1024 + 1)})


def test_malformed_bodies_answer_400(fresh: Api) -> None:
    headers = {**fresh.bearer(JANE), "Content-Type": "application/json"}
    for raw in (b"{not json", b"[1, 2]", b'"text"'):
        response = httpx.post(f"{fresh.api_base}/tickets", content=raw, headers=headers, timeout=10)
        assert response.status_code == 400, (raw, response.text)
        assert isinstance(response.json()["error"], str)


def test_approval_flows_conform(fresh: Api) -> None:
    jane, mike = as_user(fresh, JANE), as_user(fresh, MIKE)
    assert jane("GET", "/tickets/approvals/count", 200)["is_manager"] is False
    count = mike("GET", "/tickets/approvals/count", 200)
    assert (count["is_manager"], count["pending_count"]) == (True, 2)
    jane("GET", "/tickets/approvals", 403)
    jane("GET", "/tickets/team", 403)
    team = mike("GET", "/tickets/team", 200, query={"limit": 100})["tickets"]
    assert team
    pending = mike("GET", "/tickets/approvals", 200)["tickets"]
    assert [t["approval_status"] for t in pending] == ["pending", "pending"]
    first, second = ({"ticket_id": t["ticket_id"]} for t in pending)
    jane("POST", "/tickets/{ticket_id}/approve", 403, path_parameters=first)
    approved = mike("POST", "/tickets/{ticket_id}/approve", 200, path_parameters=first)
    assert approved["data"]["approval_status"] == "approved"
    mike("POST", "/tickets/{ticket_id}/approve", 409, path_parameters=first)
    mike("POST", "/tickets/{ticket_id}/reject", 400, path_parameters=second, body={})
    reason = {"reason": "Needs budget approval first."}
    rejected = mike("POST", "/tickets/{ticket_id}/reject", 200, path_parameters=second, body=reason)
    assert (rejected["data"]["status"], rejected["data"]["approval_status"]) == (
        "closed",
        "rejected",
    )
    detail = mike("GET", "/tickets/{ticket_id}", 200, path_parameters=second)
    assert any(reason["reason"] in c["comment"] for c in detail["comments"])
    # A job type that needs approval puts jane's new ticket in mike's queue.
    job_types = jane("GET", "/job-types", 200)["job_types"]
    gated = next(j["name"] for j in job_types if j["requires_approval"])
    new = {"subject": "New laptop", "description": "Mine is five years old", "job_type": gated}
    created = jane("POST", "/tickets", 201, body=new)
    assert created["requires_approval"] is True
    queued = mike("GET", "/tickets/approvals", 200)["tickets"]
    assert created["ticket_id"] in [t["ticket_id"] for t in queued]


def test_assets_and_kb_conform(fresh: Api) -> None:
    jane, mike, lee = as_user(fresh, JANE), as_user(fresh, MIKE), as_user(fresh, LEE)
    janes = jane("GET", "/assets", 200, query={"per_page": 100})["assets"]
    assert janes and {a["assigned_to"] for a in janes} == {42}, "Read Only sees only their own"
    asset = {"asset_id": janes[0]["asset_id"]}
    assert "credentials" not in jane("GET", "/assets/{asset_id}", 200, path_parameters=asset)
    assert "credentials" in mike("GET", "/assets/{asset_id}", 200, path_parameters=asset)
    lee("GET", "/assets/{asset_id}", 404, path_parameters=asset)
    company = mike("GET", "/assets", 200, query={"per_page": 100})["pagination"]["total"]
    assert company > len(janes), "Modify sees the company's assets"
    as_user(fresh, ("sam@acme.example", "demo-sam"))("GET", "/assets", 403)
    found = jane("GET", "/kb/articles", 200, query={"search": "VPN"})["articles"]
    assert found and "VPN" in found[0]["title"] + found[0]["summary"]
    article = {"article_id": found[0]["article_id"]}
    detail = jane("GET", "/kb/articles/{article_id}", 200, path_parameters=article)
    assert detail["body"]
    lee("GET", "/kb/articles/{article_id}", 404, path_parameters=article)
    jane("GET", "/kb/articles/{article_id}", 404, path_parameters={"article_id": 10**9})
    jane("GET", "/kb/articles", 400, query={"per_page": 0})


def test_chat_life_cycle_conforms(fresh: Api) -> None:
    jane, lee = as_user(fresh, JANE), as_user(fresh, LEE)
    chat = jane("POST", "/chat/start", 200)
    assert (chat["status"], chat["resumed"]) == ("active", False)
    resumed = jane("POST", "/chat/start", 200)
    assert (resumed["chat_id"], resumed["resumed"]) == (chat["chat_id"], True)
    path = {"chat_id": chat["chat_id"]}
    say = {"message": "My laptop won't connect to the Wi-Fi network"}
    sent = jane("POST", "/chat/{chat_id}/messages", 200, path_parameters=path, body=say)
    assert (sent["sender_type"], sent["message"]) == ("user", say["message"])
    history = jane("GET", "/chat/{chat_id}/messages", 200, path_parameters=path)
    assert [m["sender_type"] for m in history["messages"]][-2:] == ["user", "ai"]
    since = {"since": sent["created_at"]}
    after = jane("GET", "/chat/{chat_id}/messages", 200, path_parameters=path, query=since)
    assert [m["sender_type"] for m in after["messages"]] == ["ai"]
    jane("GET", "/chat/{chat_id}/messages", 400, path_parameters=path, query={"since": "soon"})
    lee("GET", "/chat/{chat_id}/messages", 404, path_parameters=path)
    lee("POST", "/chat/{chat_id}/messages", 404, path_parameters=path, body=say)
    moved = jane("POST", "/chat/{chat_id}/transfer", 200, path_parameters=path)
    assert moved["status"] == "waiting_agent"
    assert (
        jane("POST", "/chat/{chat_id}/transfer", 200, path_parameters=path)["status"]
        == "waiting_agent"
    )
    jane("POST", "/chat/{chat_id}/messages", 200, path_parameters=path, body=say)
    waiting = jane("GET", "/chat/{chat_id}/messages", 200, path_parameters=path)
    assert waiting["status"] == "waiting_agent"
    assert waiting["messages"][-1]["sender_type"] == "user", "no AI reply after transfer"
    assert "system" in [m["sender_type"] for m in waiting["messages"]]
    ticket = jane("POST", "/chat/{chat_id}/ticket", 201, path_parameters=path)
    again = jane("POST", "/chat/{chat_id}/ticket", 409, path_parameters=path)
    assert again["ticket_number"] == ticket["ticket_number"]
    ended = jane("POST", "/chat/{chat_id}/end", 200, path_parameters=path)
    assert ended["status"] == "ended"
    jane("POST", "/chat/{chat_id}/end", 200, path_parameters=path)
    jane("POST", "/chat/{chat_id}/messages", 409, path_parameters=path, body=say)
    jane("POST", "/chat/{chat_id}/transfer", 409, path_parameters=path)
    assert jane("POST", "/chat/start", 200)["chat_id"] != chat["chat_id"], "ended: a new chat"


def test_expired_tokens_answer_401_until_refreshed(fresh: Api) -> None:
    tokens = fresh.login(JANE)
    jane = Caller(fresh, {"Authorization": f"Bearer {tokens['access_token']}"})
    expired = httpx.post(f"{fresh.base_url}/sandbox/auth/expire", json={"email": JANE[0]})
    assert expired.status_code == 200, expired.text
    jane("GET", "/tickets", 401)
    body = {"refresh_token": tokens["refresh_token"]}
    renewed = as_user(fresh, None)("POST", "/auth/refresh", 200, body=body)
    Caller(fresh, {"Authorization": f"Bearer {renewed['access_token']}"})("GET", "/tickets", 200)


@pytest.mark.parametrize("status", [429, 503])
def test_injected_faults_conform(fresh: Api, status: int) -> None:
    fault = {"status": status, "rate": 1, "path_prefix": "/tickets", "retry_after": 3}
    added = httpx.post(f"{fresh.base_url}/sandbox/faults", json=fault, timeout=10)
    assert added.status_code == 201, added.text
    case = SCHEMA["/tickets"]["GET"].Case()
    response = case.call_and_validate(
        base_url=fresh.api_base,
        headers=fresh.bearer(JANE),
        checks=[
            status_code_conformance,
            content_type_conformance,
            response_schema_conformance,
            response_headers_conformance,
        ],
    )
    assert (response.status_code, response.headers["retry-after"]) == (status, ["3"])
