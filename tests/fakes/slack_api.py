"""A local fake of the Slack Web API (and Socket Mode) that speaks Slack's JSON and records calls.

Contract tests point the real `slack_sdk` `AsyncWebClient` at it (SLACK_API_URL) and assert
what crossed the wire. It answers like Slack: `{"ok": true, ...}` with `ts` values, or
`{"ok": false, "error": "..."}` (HTTP 200), and `ratelimited` as HTTP 429 with
`Retry-After`. It keeps messages per channel and thread (posts, updates, ephemerals and
chat streams, whose text grows with each append), so a test reads what a person would see.
It rejects what Slack rejects and the bot could get wrong: a wrong token, blocks with
duplicate `action_id`s or over-long texts, appends to a stream that is not streaming.

    async with SlackApiFake() as slack:
        slack.fail("chat.postMessage", error="ratelimited", status=429, retry_after=1)
        ...  # SLACK_API_URL=slack.api_url
        calls = await slack.wait_for_calls("chat.postMessage", count=1)

`hold(method)` keeps calls of a method waiting (counted in `held`) until `release(method)`,
so a test can see how many calls the bot has in flight at once.

Socket Mode: `apps.connections.open` returns a WebSocket URL on this server; a test sends
an envelope with `send_envelope` and waits for the app's acknowledgement.
https://docs.slack.dev/apis/events-api/using-socket-mode
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self, TypeVar

from aiohttp import WSMsgType, web

T = TypeVar("T")

BOT_TOKEN = "xoxb-fake-bot-token"
APP_TOKEN = "xapp-fake-app-token"
TEAM_ID = "T0FAKE"
BOT_USER_ID = "UBOT"
BOT_ID = "BBOT"
APP_ID = "AFAKE"
LOST_REQUEST = "lost_request"  # fail(..., error=LOST_REQUEST): connection drops, nothing done
LOST_ANSWER = "lost_answer"  # fail(..., error=LOST_ANSWER): Slack acts, the answer is lost


@dataclass
class Call:
    method: str
    args: dict[str, Any]
    token: str | None
    ok: bool = True
    error: str | None = None
    at: float = field(default_factory=time.monotonic)


@dataclass
class Posted:
    """A message as Slack holds it."""

    channel: str
    ts: str
    thread_ts: str | None
    text: str
    blocks: list[dict[str, Any]]
    metadata: dict[str, Any] | None = None
    ephemeral_for: str | None = None
    streaming: bool = False
    chunks: list[str] = field(default_factory=list)
    updates: int = 0

    @property
    def markdown(self) -> str:
        """The text a person reads: streamed chunks, else markdown blocks, else `text`."""
        if self.chunks:
            return "".join(self.chunks)
        parts = [b["text"] for b in self.blocks if b.get("type") == "markdown"]
        return "\n".join(parts) if parts else self.text

    def as_json(self, *, with_metadata: bool) -> dict[str, Any]:
        data: dict[str, Any] = {
            "type": "message",
            "user": BOT_USER_ID,
            "bot_id": BOT_ID,
            "ts": self.ts,
            "text": self.text,
            "blocks": self.blocks,
        }
        if self.thread_ts:
            data["thread_ts"] = self.thread_ts
        if with_metadata and self.metadata:
            data["metadata"] = self.metadata
        return data


@dataclass
class Fault:
    method: str
    error: str
    status: int
    retry_after: int | None
    times: int
    skip: int


class SlackApiFake:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.messages: list[Posted] = []
        self.views: dict[str, dict[str, Any]] = {}  # view id -> view
        self.home: dict[str, dict[str, Any]] = {}  # user id -> published Home view
        self.responses: list[dict[str, Any]] = []  # bodies POSTed to response_url
        self.socket_acks: list[dict[str, Any]] = []
        self._faults: list[Fault] = []
        self._holds: dict[str, asyncio.Event] = {}
        self.held: dict[str, int] = {}  # method -> calls waiting behind hold() right now
        self._ts = itertools.count(1)
        self._changed = asyncio.Condition()
        self._socket: web.WebSocketResponse | None = None
        self._socket_ready = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    # --- lifecycle ------------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        app = web.Application()
        app.router.add_post("/api/{method}", self._api)
        app.router.add_get("/api/{method}", self._api)  # slack_sdk reads some methods by GET
        app.router.add_post("/respond/{id}", self._respond)
        app.router.add_get("/socket-mode", self._socket_mode)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.base_url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._socket is not None:
            await self._socket.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api/"

    def response_url(self) -> str:
        return f"{self.base_url}/respond/{uuid.uuid4().hex[:8]}"

    # --- test controls --------------------------------------------------------------------

    def fail(
        self,
        method: str,
        *,
        error: str,
        status: int = 200,
        retry_after: int | None = None,
        times: int = 1,
        skip: int = 0,
    ) -> None:
        """Answer the next `times` calls of `method` (after `skip` good ones) with `error`
        (or drop the connection: LOST_REQUEST before acting, LOST_ANSWER after)."""
        self._faults.append(Fault(method, error, status, retry_after, times, skip))

    def hold(self, method: str) -> None:
        """Keep every call of `method` waiting (before Slack acts) until `release`."""
        self._holds[method] = asyncio.Event()
        self.held[method] = 0

    def release(self, method: str) -> None:
        self._holds.pop(method).set()

    def calls_to(self, method: str, *, ok: bool | None = True) -> list[Call]:
        return [c for c in self.calls if c.method == method and (ok is None or c.ok == ok)]

    def thread(self, channel: str, thread_ts: str) -> list[Posted]:
        """Bot messages in a thread (not ephemeral), oldest first."""
        return [
            m
            for m in self.messages
            if m.channel == channel
            and (m.thread_ts == thread_ts or m.ts == thread_ts)
            and m.ephemeral_for is None
        ]

    def message(self, channel: str, ts: str) -> Posted | None:
        return next((m for m in self.messages if m.channel == channel and m.ts == ts), None)

    async def wait_for(self, check: Callable[[], T | None], *, within: float = 15.0) -> T:
        """Wait (with a deadline, no sleeps) until `check()` returns something truthy."""
        async with asyncio.timeout(within), self._changed:
            while True:
                value = check()
                if value:
                    return value
                await self._changed.wait()

    async def wait_for_calls(
        self, method: str, *, count: int = 1, within: float = 15.0
    ) -> list[Call]:
        def enough() -> list[Call] | None:
            calls = self.calls_to(method)
            return calls if len(calls) >= count else None

        return await self.wait_for(enough, within=within)

    async def _changed_now(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    # --- Socket Mode ----------------------------------------------------------------------

    async def send_envelope(
        self, payload: Mapping[str, Any], *, kind: str = "events_api", within: float = 10.0
    ) -> dict[str, Any]:
        """Send one envelope over the app's WebSocket; returns the app's acknowledgement."""
        async with asyncio.timeout(within):
            await self._socket_ready.wait()
        assert self._socket is not None
        envelope_id = uuid.uuid4().hex
        await self._socket.send_json(
            {
                "envelope_id": envelope_id,
                "type": kind,
                "payload": dict(payload),
                "accepts_response_payload": kind != "events_api",
                "retry_attempt": 0,
                "retry_reason": "",
            }
        )
        return await self.wait_for(
            lambda: next((a for a in self.socket_acks if a["envelope_id"] == envelope_id), None),
            within=within,
        )

    async def _socket_mode(self, request: web.Request) -> web.StreamResponse:
        socket = web.WebSocketResponse(autoping=True)
        await socket.prepare(request)
        self._socket = socket
        await socket.send_json(
            {"type": "hello", "num_connections": 1, "connection_info": {"app_id": APP_ID}}
        )
        self._socket_ready.set()
        async for frame in socket:
            if frame.type == WSMsgType.TEXT:
                self.socket_acks.append(json.loads(frame.data))
                await self._changed_now()
        return socket

    # --- response_url -----------------------------------------------------------------------

    async def _respond(self, request: web.Request) -> web.Response:
        self.responses.append(await request.json())
        await self._changed_now()
        return web.Response(text="ok")

    # --- the Web API ----------------------------------------------------------------------

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args = await _arguments(request)
        auth = request.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else args.get("token")
        call = Call(method, args, token)
        self.calls.append(call)
        try:
            await self._wait_if_held(method)
            fault = self._fault_for(method)
            expected = APP_TOKEN if method == "apps.connections.open" else BOT_TOKEN
            if fault is not None and fault.error in (LOST_REQUEST, LOST_ANSWER):
                # The connection drops: before Slack saw the call, or after it acted on it.
                if fault.error == LOST_ANSWER:
                    handler = getattr(self, "_" + method.replace(".", "_"))
                    handler(args)
                call.ok, call.error = fault.error == LOST_ANSWER, fault.error
                assert request.transport is not None
                request.transport.close()
                return web.Response(status=500)
            if fault is not None:
                if fault.error == "message_not_in_streaming_state":
                    self._end_stream(args)
                return self._error(call, fault.error, fault.status, fault.retry_after)
            if token != expected:
                return self._error(call, "invalid_auth")
            handler = getattr(self, "_" + method.replace(".", "_"), None)
            if handler is None:
                return self._error(call, "unknown_method")
            result: dict[str, Any] | str = handler(args)
            if isinstance(result, str):
                return self._error(call, result)
            return web.json_response({"ok": True, **result})
        finally:
            await self._changed_now()

    async def _wait_if_held(self, method: str) -> None:
        gate = self._holds.get(method)
        if gate is None:
            return
        self.held[method] += 1
        await self._changed_now()
        try:
            await gate.wait()
        finally:
            self.held[method] -= 1

    def _fault_for(self, method: str) -> Fault | None:
        for fault in self._faults:
            if fault.method != method or fault.times <= 0:
                continue
            if fault.skip > 0:
                fault.skip -= 1
                return None
            fault.times -= 1
            return fault
        return None

    def _error(
        self, call: Call, error: str, status: int = 200, retry_after: int | None = None
    ) -> web.Response:
        call.ok, call.error = False, error
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
        return web.json_response({"ok": False, "error": error}, status=status, headers=headers)

    def _next_ts(self) -> str:
        return f"{int(time.time())}.{next(self._ts):06d}"

    # Methods: each returns the success body (without "ok") or an error code.

    def _auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        return {
            "url": "https://fake.slack.com/",
            "team": "Fake Team",
            "user": "helpdesk",
            "team_id": TEAM_ID,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    def _apps_connections_open(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"url": self.base_url.replace("http", "ws", 1) + "/socket-mode"}

    def _chat_postMessage(self, args: dict[str, Any]) -> dict[str, Any] | str:
        if not args.get("channel"):
            return "channel_not_found"
        blocks = args.get("blocks") or []
        if not args.get("text") and not blocks:
            return "no_text"
        problem = _check_blocks(blocks)
        if problem:
            return problem
        posted = Posted(
            channel=str(args["channel"]),
            ts=self._next_ts(),
            thread_ts=args.get("thread_ts"),
            text=str(args.get("text") or ""),
            blocks=blocks,
            metadata=args.get("metadata"),
        )
        self.messages.append(posted)
        return {
            "channel": posted.channel,
            "ts": posted.ts,
            "message": posted.as_json(with_metadata=False),
        }

    def _chat_getPermalink(self, args: dict[str, Any]) -> dict[str, Any] | str:
        posted = self.message(str(args.get("channel")), str(args.get("message_ts")))
        if posted is None:
            return "message_not_found"
        link = f"https://acme.slack.example/archives/{posted.channel}/p{posted.ts.replace('.', '')}"
        return {"channel": posted.channel, "permalink": link}

    def _chat_update(self, args: dict[str, Any]) -> dict[str, Any] | str:
        posted = self.message(str(args.get("channel")), str(args.get("ts")))
        if posted is None:
            return "message_not_found"
        blocks = args.get("blocks")
        problem = _check_blocks(blocks or [])
        if problem:
            return problem
        if blocks is not None:
            posted.blocks = blocks
        if "text" in args:
            posted.text = str(args["text"])
        posted.chunks = []
        posted.updates += 1
        return {"channel": posted.channel, "ts": posted.ts, "text": posted.text}

    def _chat_postEphemeral(self, args: dict[str, Any]) -> dict[str, Any] | str:
        if not args.get("user"):
            return "user_not_found"
        blocks = args.get("blocks") or []
        problem = _check_blocks(blocks)
        if problem:
            return problem
        posted = Posted(
            channel=str(args.get("channel")),
            ts=self._next_ts(),
            thread_ts=args.get("thread_ts"),
            text=str(args.get("text") or ""),
            blocks=blocks,
            ephemeral_for=str(args["user"]),
        )
        self.messages.append(posted)
        return {"message_ts": posted.ts}

    def _chat_startStream(self, args: dict[str, Any]) -> dict[str, Any] | str:
        if not args.get("channel") or not args.get("thread_ts"):
            return "invalid_arguments"
        posted = Posted(
            channel=str(args["channel"]),
            ts=self._next_ts(),
            thread_ts=str(args["thread_ts"]),
            text="",
            blocks=[],
            streaming=True,
        )
        posted.chunks += _stream_text(args)
        self.messages.append(posted)
        return {"channel": posted.channel, "ts": posted.ts}

    def _chat_appendStream(self, args: dict[str, Any]) -> dict[str, Any] | str:
        posted = self.message(str(args.get("channel")), str(args.get("ts")))
        if posted is None:
            return "message_not_found"
        if not posted.streaming:
            return "message_not_in_streaming_state"
        texts = _stream_text(args)
        if not texts:
            return "invalid_arguments"
        posted.chunks += texts
        return {"channel": posted.channel, "ts": posted.ts}

    def _chat_stopStream(self, args: dict[str, Any]) -> dict[str, Any] | str:
        posted = self.message(str(args.get("channel")), str(args.get("ts")))
        if posted is None:
            return "message_not_found"
        if not posted.streaming:
            return "message_not_in_streaming_state"
        blocks = args.get("blocks") or []
        problem = _check_blocks(blocks)
        if problem:
            return problem
        posted.chunks += _stream_text(args)
        posted.blocks = blocks
        posted.text = "".join(posted.chunks)
        posted.streaming = False
        return {
            "channel": posted.channel,
            "ts": posted.ts,
            "message": posted.as_json(with_metadata=False),
        }

    def _end_stream(self, args: dict[str, Any]) -> None:
        posted = self.message(str(args.get("channel")), str(args.get("ts")))
        if posted is not None:
            posted.streaming = False

    def _conversations_replies(self, args: dict[str, Any]) -> dict[str, Any] | str:
        channel, ts = str(args.get("channel")), str(args.get("ts"))
        oldest = float(args.get("oldest") or 0)
        with_metadata = str(args.get("include_all_metadata")).lower() in ("1", "true")
        messages = [
            m.as_json(with_metadata=with_metadata)
            for m in self.thread(channel, ts)
            if float(m.ts) >= oldest
        ]
        return {"messages": messages, "has_more": False}

    def _conversations_open(self, args: dict[str, Any]) -> dict[str, Any] | str:
        users = str(args.get("users") or "")
        if not users:
            return "users_list_not_supplied"
        return {"channel": {"id": "D" + users.split(",")[0]}}

    def _views_open(self, args: dict[str, Any]) -> dict[str, Any] | str:
        if not args.get("trigger_id"):
            return "invalid_trigger_id"
        view = dict(args.get("view") or {})
        problem = _check_blocks(view.get("blocks") or [])
        if problem:
            return problem
        view["id"] = f"V{next(self._ts):06d}"
        self.views[view["id"]] = view
        return {"view": view}

    def _views_publish(self, args: dict[str, Any]) -> dict[str, Any] | str:
        user = str(args.get("user_id") or "")
        view = dict(args.get("view") or {})
        if not user or view.get("type") != "home":
            return "invalid_arguments"
        problem = _check_blocks(view.get("blocks") or [], limit=100)
        if problem:
            return problem
        view["id"] = self.home.get(user, {}).get("id") or f"VH{next(self._ts):06d}"
        self.home[user] = view
        return {"view": view}

    def _assistant_threads_setStatus(self, args: dict[str, Any]) -> dict[str, Any] | str:
        return {} if args.get("channel_id") and args.get("thread_ts") else "invalid_arguments"

    def _assistant_threads_setSuggestedPrompts(self, args: dict[str, Any]) -> dict[str, Any] | str:
        prompts = args.get("prompts") or []
        if not args.get("channel_id") or not prompts or len(prompts) > 4:
            return "invalid_arguments"
        return {}

    def _assistant_threads_setTitle(self, args: dict[str, Any]) -> dict[str, Any] | str:
        return {} if args.get("title") else "invalid_arguments"


async def _arguments(request: web.Request) -> dict[str, Any]:
    """Arguments as slack_sdk sends them: a JSON body, or form fields whose complex values
    (blocks, prompts, metadata) are JSON strings, plus any query parameters."""
    args: dict[str, Any] = dict(request.query)
    if request.content_type == "application/json":
        body = await request.json()
        args.update(body if isinstance(body, dict) else {})
    else:
        for key, value in (await request.post()).items():
            text = str(value)
            if text[:1] in "[{":
                try:
                    args[key] = json.loads(text)
                    continue
                except json.JSONDecodeError:
                    pass
            args[key] = text
    return args


def _stream_text(args: Mapping[str, Any]) -> list[str]:
    texts = [str(args["markdown_text"])] if args.get("markdown_text") else []
    for chunk in args.get("chunks") or []:
        if chunk.get("type") == "markdown_text" and chunk.get("text"):
            texts.append(str(chunk["text"]))
    return texts


def _check_blocks(blocks: list[dict[str, Any]], *, limit: int = 50) -> str | None:
    """The Block Kit rules Slack enforces that a renderer can get wrong (`invalid_blocks`)."""
    if len(blocks) > limit:
        return "invalid_blocks"
    block_ids = [block["block_id"] for block in blocks if "block_id" in block]
    if len(block_ids) != len(set(block_ids)):
        return "invalid_blocks"
    markdown = 0
    for block in blocks:
        kind = block.get("type")
        if kind == "markdown":
            markdown += len(block.get("text", ""))
        if kind == "section" and len(block.get("text", {}).get("text", "")) > 3000:
            return "invalid_blocks"
        if kind == "header" and len(block.get("text", {}).get("text", "")) > 150:
            return "invalid_blocks"
        if kind == "context" and len(block.get("elements", [])) > 10:
            return "invalid_blocks"
        # action_ids must be unique within their block
        # (https://docs.slack.dev/reference/block-kit/block-elements/button-element)
        action_ids: list[str] = []
        for element in block.get("elements", []) if kind == "actions" else []:
            action_ids.append(element.get("action_id", ""))
            if len(element.get("text", {}).get("text", "")) > 75:
                return "invalid_blocks"
        if len(action_ids) != len(set(action_ids)):
            return "invalid_blocks"
    if markdown > 12_000:
        return "msg_too_long"
    return None
