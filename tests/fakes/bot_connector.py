"""A local fake of the Bot Connector service (the REST API a bot calls at an activity's
`serviceUrl`) that speaks its JSON and records what the bot sends.

Contract tests put its `service_url` into the activities they post to `/api/messages`, so
the real botframework-connector `ConnectorClient` sends here. It keeps every activity per
conversation as Teams would show it (an update replaces the activity; a stream's steps
share one id), answers `POST /v3/conversations/{id}/activities[/{replyToId}]` with
`{"id": ...}`, `PUT .../activities/{id}`, `GET .../members/{id}` (with a
userPrincipalName) and `POST /v3/conversations` (a personal chat), and can fail the next
calls with a status (429 with `Retry-After`, 412, 502, 504).
https://learn.microsoft.com/azure/bot-service/rest-api/bot-framework-rest-connector-api-reference

    async with BotConnectorFake() as connector:
        connector.fail("POST", status=429, times=1, retry_after=0)
        ...
        sent = await connector.wait_for(lambda: connector.messages(conv_id) or None)
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self, TypeVar

from aiohttp import web

T = TypeVar("T")

ADAPTIVE = "application/vnd.microsoft.card.adaptive"


@dataclass
class Request:
    """One call the bot made, as it crossed the wire."""

    method: str
    path: str
    conversation_id: str | None
    activity_id: str | None
    body: dict[str, Any] | None
    authorization: str | None
    status: int
    at: float = field(default_factory=time.monotonic)


@dataclass
class Failure:
    method: str
    status: int
    times: int
    retry_after: float | None = None
    kind: str | None = None  # only activities of this type ("message", "typing")


class BotConnectorFake:
    def __init__(self) -> None:
        self.requests: list[Request] = []
        self.activities: dict[str, list[dict[str, Any]]] = {}  # conversation → activities
        self.upns: dict[str, str] = {}
        self._failures: list[Failure] = []
        self._ids = itertools.count(1)
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.service_url = ""

    async def __aenter__(self) -> Self:
        app = web.Application()
        app.router.add_post("/v3/conversations", self._create_conversation)
        app.router.add_post("/v3/conversations/{conversation}/activities", self._post)
        app.router.add_post("/v3/conversations/{conversation}/activities/{activity}", self._post)
        app.router.add_put("/v3/conversations/{conversation}/activities/{activity}", self._put)
        app.router.add_get("/v3/conversations/{conversation}/members/{member}", self._member)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.service_url = f"http://127.0.0.1:{port}/"
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    # --- scripting and reading --------------------------------------------------------------

    def fail(
        self,
        method: str,
        *,
        status: int,
        times: int = 1,
        retry_after: float | None = None,
        kind: str | None = None,
    ) -> None:
        """The next `times` calls with `method` (and activity type `kind`) answer `status`
        and change nothing."""
        self._failures.append(Failure(method, status, times, retry_after, kind))

    def sent(self, conversation_id: str) -> list[dict[str, Any]]:
        return list(self.activities.get(conversation_id, []))

    def messages(self, conversation_id: str) -> list[dict[str, Any]]:
        """The conversation's message activities as they look now."""
        return [a for a in self.sent(conversation_id) if a.get("type") == "message"]

    def calls(self, method: str | None = None, *, kind: str | None = None) -> list[Request]:
        return [
            r
            for r in self.requests
            if (method is None or r.method == method)
            and (kind is None or (r.body or {}).get("type") == kind)
        ]

    async def wait_for(self, check: Callable[[], T | None], *, within: float = 30.0) -> T:
        """Wait (with a deadline, no sleeps) until `check()` returns something truthy."""
        async with asyncio.timeout(within), self._changed:
            while True:
                value = check()
                if value:
                    return value
                await self._changed.wait()

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    # --- the REST API -------------------------------------------------------------------

    def _failure(self, method: str, body: Any) -> Failure | None:
        kind = body.get("type") if isinstance(body, dict) else None
        for failure in self._failures:
            if failure.kind not in (None, kind):
                continue
            if failure.method == method and failure.times > 0:
                failure.times -= 1
                return failure
        return None

    async def _record(self, request: web.Request, status: int, body: Any) -> None:
        self.requests.append(
            Request(
                method=request.method,
                path=request.path,
                conversation_id=request.match_info.get("conversation"),
                activity_id=request.match_info.get("activity"),
                body=body if isinstance(body, dict) else None,
                authorization=request.headers.get("Authorization"),
                status=status,
            )
        )
        await self._notify()

    async def _refused(self, request: web.Request, body: Any) -> web.Response | None:
        failure = self._failure(request.method, body)
        if failure is None:
            return None
        await self._record(request, failure.status, body)
        headers = {}
        if failure.retry_after is not None:
            headers["Retry-After"] = str(failure.retry_after)
        error = {"error": {"code": f"Status{failure.status}", "message": "scripted failure"}}
        return web.json_response(error, status=failure.status, headers=headers)

    async def _post(self, request: web.Request) -> web.Response:
        body = await request.json()
        refused = await self._refused(request, body)
        if refused is not None:
            return refused
        conversation = request.match_info["conversation"]
        if body.get("conversation", {}).get("id") not in (None, conversation):
            return web.json_response({"error": {"code": "BadArgument"}}, status=400)
        stream_id = _stream_id(body)
        thread = self.activities.setdefault(conversation, [])
        if stream_id is not None:  # a later step or the end of a stream: same activity
            existing = next((a for a in thread if a.get("id") == stream_id), None)
            if existing is None:
                return web.json_response({"error": {"code": "BadArgument"}}, status=400)
            existing.clear()
            existing.update(body | {"id": stream_id})
            await self._record(request, 202, body)
            return web.json_response({"id": stream_id}, status=202)
        activity_id = f"{int(time.time() * 1000)}{next(self._ids):04d}"
        thread.append(body | {"id": activity_id})
        await self._record(request, 201, body)
        return web.json_response({"id": activity_id}, status=201)

    async def _put(self, request: web.Request) -> web.Response:
        body = await request.json()
        refused = await self._refused(request, body)
        if refused is not None:
            return refused
        conversation, activity_id = (
            request.match_info["conversation"],
            request.match_info["activity"],
        )
        thread = self.activities.get(conversation, [])
        existing = next((a for a in thread if a.get("id") == activity_id), None)
        if existing is None:
            await self._record(request, 404, body)
            return web.json_response({"error": {"code": "ActivityNotFound"}}, status=404)
        updates = int(existing.get("_updates", 0)) + 1
        existing.clear()
        existing.update(body | {"id": activity_id, "_updates": updates})
        await self._record(request, 200, body)
        return web.json_response({"id": activity_id})

    async def _member(self, request: web.Request) -> web.Response:
        member = request.match_info["member"]
        await self._record(request, 200, None)
        return web.json_response(
            {
                "id": member,
                "name": "Jane Smith",
                "aadObjectId": f"aad-{member}",
                "userPrincipalName": self.upns.get(member, "jane@acme.example"),
                "tenantId": "tenant-1",
            }
        )

    async def _create_conversation(self, request: web.Request) -> web.Response:
        body = await request.json()
        refused = await self._refused(request, body)
        if refused is not None:
            return refused
        members = body.get("members") or [{}]
        conversation = f"a:personal-{members[0].get('id')}"
        await self._record(request, 201, body)
        return web.json_response({"id": conversation}, status=201)


def _stream_id(body: dict[str, Any]) -> str | None:
    for entity in body.get("entities") or []:
        if entity.get("type") == "streaminfo" and entity.get("streamId"):
            return str(entity["streamId"])
    return None


def card_contents(activity: dict[str, Any]) -> list[dict[str, Any]]:
    """The Adaptive Cards an activity carries."""
    return [
        a["content"] for a in activity.get("attachments") or [] if a.get("contentType") == ADAPTIVE
    ]


def card_actions(card: dict[str, Any]) -> list[dict[str, Any]]:
    """Every action of a card, including those in ActionSets."""
    found = list(card.get("actions") or [])

    def walk(items: list[dict[str, Any]]) -> None:
        for item in items:
            if item.get("type") == "ActionSet":
                found.extend(item.get("actions") or [])
            walk(item.get("items") or [])

    walk(card.get("body") or [])
    return found
