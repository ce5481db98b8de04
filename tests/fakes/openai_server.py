"""A scriptable local OpenAI-compatible Chat Completions server that speaks the real wire format.

Contract tests point the real `openai` client (or `ChatOpenAI`) at it. A test enqueues one
step per request it expects — a text reply, tool calls, an HTTP error, a hang, a malformed
stream — and afterwards asserts what crossed the wire (`fake.bodies`). Replies follow
https://platform.openai.com/docs/api-reference/chat/streaming: `chat.completion.chunk` SSE
events, tool calls streamed as deltas keyed by `index`, a usage chunk with empty `choices`
when the request asked for `stream_options.include_usage`, then `data: [DONE]`. Requests
with `"stream": false` get one `chat.completion` JSON body built from the same step.

Steps: `Completion` (text and/or tool calls, in OpenAI's or a compatible server's dialect),
`ErrorReply` (status, error envelope, Retry-After), `Hang` (until the fake closes),
`Malformed` (bad JSON line, truncated, reset, mid-stream error event, HTML body) and
`RawReply` (any body verbatim). It fails loudly: a request with no step left is answered
500 "unexpected request" and, like any step left unconsumed, fails the test when the
server closes (`assert_done`).

    async with OpenAIFake() as fake:
        fake.reply_text("Hello there")
        fake.reply_tool_calls(FakeToolCall("get_ticket", '{"ticket_number": 3012}'))
        ...  # point a client at fake.base_url
        assert fake.bodies[0]["stream_options"] == {"include_usage": True}
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import socket
import time
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Literal, Self

from aiohttp import web

__all__ = [
    "Completion",
    "ErrorReply",
    "FakeToolCall",
    "FakeUsage",
    "Hang",
    "Malformed",
    "OpenAIFake",
    "RawReply",
    "RecordedRequest",
    "Step",
    "closed_port_base_url",
]

CHAT_PATH = "/v1/chat/completions"


@dataclass(frozen=True)
class FakeToolCall:
    """A tool call the fake model makes; `arguments` is the JSON text sent on the wire."""

    name: str
    arguments: str = "{}"
    id: str | None = None  # None: the fake invents "call_<n>"


@dataclass(frozen=True)
class FakeUsage:
    prompt_tokens: int
    completion_tokens: int


ToolCallStyle = Literal["split", "whole", "whole_no_index"]
"""How tool calls are streamed: `split` like OpenAI (id and name first, then argument
fragments keyed by index); `whole` one complete delta per call in a single chunk (Ollama,
vLLM); `whole_no_index` the same without the `index` field (some compatible servers)."""

UsageStyle = Literal["chunk", "with_finish", "none"]
"""Where usage goes: `chunk` a final chunk with empty `choices` (OpenAI, only when the request
asked for it); `with_finish` on the chunk carrying `finish_reason`; `none` never sent."""


@dataclass(frozen=True)
class Completion:
    """A successful model answer: text and/or tool calls, streamed (or as one JSON body)."""

    text: str = ""
    tool_calls: tuple[FakeToolCall, ...] = ()
    usage: FakeUsage | None = FakeUsage(prompt_tokens=21, completion_tokens=9)
    finish_reason: str | None = None  # None: "tool_calls" when there are calls, else "stop"
    text_chunks: tuple[str, ...] | None = None  # None: the text split after each space
    args_chunk_size: int = 5
    tool_call_style: ToolCallStyle = "split"
    interleave_tool_calls: bool = False  # fragments of parallel calls alternate by index
    usage_style: UsageStyle = "chunk"
    model: str | None = None  # None: echo the requested model

    @property
    def effective_finish_reason(self) -> str:
        if self.finish_reason is not None:
            return self.finish_reason
        return "tool_calls" if self.tool_calls else "stop"


@dataclass(frozen=True)
class ErrorReply:
    """An HTTP error in OpenAI's error envelope, or `raw_body` verbatim when given."""

    status: int
    message: str = "scripted failure"
    type: str | None = None  # None: "server_error" for 5xx, "invalid_request_error" otherwise
    code: str | None = None
    retry_after: str | None = None  # the Retry-After header value, sent as is
    headers: Mapping[str, str] = field(default_factory=dict)
    raw_body: str | None = None
    content_type: str = "application/json"


@dataclass(frozen=True)
class Hang:
    """Answer nothing (or stream `prefix_text` first) until the fake is closed.

    The handler waits on an event that the fake sets when it closes, so a client timeout is
    what ends the request — no long sleeps.
    """

    prefix_text: str = ""


MalformedKind = Literal["bad_json", "truncated", "reset", "error_event", "non_json_body"]


@dataclass(frozen=True)
class Malformed:
    """A broken reply after streaming `prefix_text`.

    `bad_json`: an SSE data line that is not JSON; `truncated`: the stream ends cleanly with
    no `finish_reason` and no `[DONE]`; `reset`: the connection is aborted mid-stream;
    `error_event`: an `{"error": ...}` event mid-stream (how OpenAI reports failures after
    the 200); `non_json_body`: a 200 whose body is an HTML page, not SSE or JSON.
    """

    kind: MalformedKind
    prefix_text: str = "Partial "


@dataclass(frozen=True)
class RawReply:
    """Any body verbatim with a 200, e.g. SSE events of a shape no real server sends.

    `RawReply.sse({"choices": "oops"}, "[DONE]")` builds an event stream from payloads.
    """

    body: str
    content_type: str = "text/event-stream"

    @classmethod
    def sse(cls, *payloads: object) -> RawReply:
        events = [p if isinstance(p, str) else json.dumps(p) for p in payloads]
        return cls("".join(f"data: {event}\n\n" for event in events))


Step = Completion | ErrorReply | Hang | Malformed | RawReply


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    headers: Mapping[str, str]
    body: Any  # the parsed JSON body, or the raw text when it was not JSON


class OpenAIFake:
    """The server; an async context manager on an ephemeral 127.0.0.1 port."""

    def __init__(self) -> None:
        self._steps: deque[Step] = deque()
        self.requests: list[RecordedRequest] = []
        self.unexpected: list[str] = []
        self._release = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self._ids = itertools.count(1)

    # -- scripting -------------------------------------------------------------------------

    def enqueue(self, *steps: Step) -> None:
        self._steps.extend(steps)

    def reply_text(self, text: str, **options: Any) -> None:
        """Stream `text` (see `Completion` for the options: usage, chunks, dialect)."""
        self.enqueue(Completion(text=text, **options))

    def reply_tool_calls(self, *calls: FakeToolCall, text: str = "", **options: Any) -> None:
        self.enqueue(Completion(text=text, tool_calls=calls, **options))

    def reply_error(self, status: int, **options: Any) -> None:
        self.enqueue(ErrorReply(status=status, **options))

    def hang(self, *, prefix_text: str = "") -> None:
        self.enqueue(Hang(prefix_text=prefix_text))

    def reply_malformed(self, kind: MalformedKind, *, prefix_text: str = "Partial ") -> None:
        self.enqueue(Malformed(kind=kind, prefix_text=prefix_text))

    def reply_raw(self, body: str, *, content_type: str = "text/event-stream") -> None:
        self.enqueue(RawReply(body=body, content_type=content_type))

    # -- inspection ------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        if self._port is None:
            raise RuntimeError("OpenAIFake is not started; use `async with OpenAIFake()`")
        return f"http://127.0.0.1:{self._port}/v1"

    @property
    def bodies(self) -> list[Any]:
        """The JSON body of every request received, in order."""
        return [request.body for request in self.requests]

    @property
    def pending_steps(self) -> list[Step]:
        return list(self._steps)

    def assert_done(self) -> None:
        """Fail if a request came with no step scripted for it, or a step was never used."""
        problems = list(self.unexpected)
        problems += [f"unconsumed step: {step!r}" for step in self._steps]
        if problems:
            raise AssertionError("OpenAIFake: " + "; ".join(problems))

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(
            app, handle_signals=False, access_log=None, shutdown_timeout=2.0
        )
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self._port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock).start()

    async def close(self) -> None:
        self._release.set()  # hanging handlers return now
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()
        if exc is None:
            self.assert_done()

    # -- serving ---------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        raw = await request.text()
        try:
            body: Any = json.loads(raw) if raw else None
        except json.JSONDecodeError:
            body = raw
        self.requests.append(
            RecordedRequest(request.method, request.path, dict(request.headers), body)
        )
        if request.method != "POST" or request.path != CHAT_PATH:
            self.unexpected.append(f"unexpected request {request.method} {request.path}")
            return _error_response(404, f"unexpected request: {request.method} {request.path}")
        if not self._steps:
            self.unexpected.append(f"unexpected request {request.method} {request.path}")
            return _error_response(500, "unexpected request: no scripted step left")
        step = self._steps.popleft()
        body = body if isinstance(body, dict) else {}
        if isinstance(step, ErrorReply):
            return _scripted_error(step)
        if isinstance(step, RawReply):
            return web.Response(status=200, body=step.body.encode(), content_type=step.content_type)
        if isinstance(step, Hang) and not step.prefix_text:
            await self._release.wait()
            return _error_response(504, "released at teardown")
        if isinstance(step, Malformed) and step.kind == "non_json_body":
            return web.Response(
                status=200, text="<html><body>Bad gateway</body></html>", content_type="text/html"
            )
        if isinstance(step, Completion) and not body.get("stream"):
            return web.json_response(self._completion_body(step, body))
        return await self._stream(request, step, body)

    async def _stream(
        self, request: web.Request, step: Completion | Hang | Malformed, body: dict[str, Any]
    ) -> web.StreamResponse:
        response = web.StreamResponse(
            status=200, headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
        )
        await response.prepare(request)
        chunk_id = f"chatcmpl-fake{next(self._ids)}"
        model = (step.model if isinstance(step, Completion) else None) or body.get("model", "")
        wants_usage = bool((body.get("stream_options") or {}).get("include_usage"))

        def chunk(choices: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
            payload: dict[str, Any] = {
                "id": chunk_id,
                "object": "chat.completion.chunk",
                "created": int(time.time()),
                "model": model,
                "system_fingerprint": "fp_fake",
                "choices": choices,
            }
            if wants_usage:
                payload["usage"] = None  # OpenAI sends null on every chunk but the last
            payload.update(extra)
            return payload

        async def send(payload: Mapping[str, Any] | str) -> None:
            data = payload if isinstance(payload, str) else json.dumps(payload)
            await response.write(f"data: {data}\n\n".encode())

        if isinstance(step, Completion):
            for payload in self._completion_chunks(step, chunk, wants_usage=wants_usage):
                await send(payload)
            await send("[DONE]")
        else:
            await send(chunk([_choice({"role": "assistant", "content": ""})]))
            for piece in _split_text(step.prefix_text):
                await send(chunk([_choice({"content": piece})]))
            if isinstance(step, Hang):
                await self._release.wait()
            elif step.kind == "bad_json":
                await response.write(b'data: {"id": "chatcmpl-broken", "choices": [\n\n')
            elif step.kind == "reset":
                if request.transport is not None:
                    request.transport.abort()
                return response
            elif step.kind == "error_event":
                error = {"message": "The server had an error", "type": "server_error"}
                await send({"error": error})
            # "truncated": simply stop — no finish_reason, no [DONE]
        with contextlib.suppress(ConnectionError):
            await response.write_eof()
        return response

    def _completion_chunks(
        self, step: Completion, chunk: Any, *, wants_usage: bool
    ) -> Iterator[dict[str, Any]]:
        yield chunk([_choice({"role": "assistant", "content": ""})])
        pieces = step.text_chunks if step.text_chunks is not None else _split_text(step.text)
        for piece in pieces:
            yield chunk([_choice({"content": piece})])
        ids = [call.id or f"call_fake{next(self._ids)}" for call in step.tool_calls]
        for deltas in _tool_call_deltas(step, ids):
            yield chunk([_choice({"tool_calls": deltas})])
        usage = _usage(step.usage)
        finish = [_choice({}, finish_reason=step.effective_finish_reason)]
        if step.usage_style == "with_finish" and usage is not None:
            yield chunk(finish, usage=usage)
        else:
            yield chunk(finish)
        if step.usage_style == "chunk" and usage is not None and wants_usage:
            yield chunk([], usage=usage)

    def _completion_body(self, step: Completion, body: Mapping[str, Any]) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": step.text or None}
        if step.tool_calls:
            message["tool_calls"] = [
                {
                    "id": call.id or f"call_fake{next(self._ids)}",
                    "type": "function",
                    "function": {"name": call.name, "arguments": call.arguments},
                }
                for call in step.tool_calls
            ]
        result: dict[str, Any] = {
            "id": f"chatcmpl-fake{next(self._ids)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": step.model or body.get("model", ""),
            "choices": [
                {"index": 0, "message": message, "finish_reason": step.effective_finish_reason}
            ],
        }
        if step.usage is not None and step.usage_style != "none":
            result["usage"] = _usage(step.usage)
        return result


def _choice(delta: dict[str, Any], *, finish_reason: str | None = None) -> dict[str, Any]:
    return {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}


def _usage(usage: FakeUsage | None) -> dict[str, int] | None:
    if usage is None:
        return None
    return {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.prompt_tokens + usage.completion_tokens,
    }


def _split_text(text: str) -> list[str]:
    """'Hello there Jane' -> ['Hello ', 'there ', 'Jane']: several deltas per reply."""
    pieces = [word + " " for word in text.split(" ")]
    pieces[-1] = pieces[-1][:-1]
    return [piece for piece in pieces if piece]


def _tool_call_deltas(step: Completion, ids: Sequence[str]) -> Iterator[list[dict[str, Any]]]:
    """The `delta.tool_calls` list of each chunk, in the step's dialect."""
    calls = list(zip(step.tool_calls, ids, strict=True))
    if not calls:
        return
    if step.tool_call_style != "split":
        deltas = []
        for index, (call, call_id) in enumerate(calls):
            delta: dict[str, Any] = {
                "id": call_id,
                "type": "function",
                "function": {"name": call.name, "arguments": call.arguments},
            }
            if step.tool_call_style == "whole":
                delta["index"] = index
            deltas.append(delta)
        yield deltas
        return
    per_call: list[list[dict[str, Any]]] = []
    for index, (call, call_id) in enumerate(calls):
        first = {
            "index": index,
            "id": call_id,
            "type": "function",
            "function": {"name": call.name, "arguments": ""},
        }
        size = max(1, step.args_chunk_size)
        fragments = [call.arguments[i : i + size] for i in range(0, len(call.arguments), size)]
        per_call.append(
            [first] + [{"index": index, "function": {"arguments": f}} for f in fragments]
        )
    if step.interleave_tool_calls:
        for group in itertools.zip_longest(*per_call):
            for delta in group:
                if delta is not None:
                    yield [delta]
    else:
        for deltas in per_call:
            for delta in deltas:
                yield [delta]


def _scripted_error(step: ErrorReply) -> web.Response:
    headers = dict(step.headers)
    if step.retry_after is not None:
        headers["Retry-After"] = step.retry_after
    if step.raw_body is not None:
        return web.Response(
            status=step.status,
            text=step.raw_body,
            content_type=step.content_type,
            headers=headers,
        )
    kind = step.type or ("server_error" if step.status >= 500 else "invalid_request_error")
    error = {"message": step.message, "type": kind, "param": None, "code": step.code}
    return web.json_response({"error": error}, status=step.status, headers=headers)


def _error_response(status: int, message: str) -> web.Response:
    error = {"message": message, "type": "fake_server_error", "param": None, "code": None}
    return web.json_response({"error": error}, status=status)


def closed_port_base_url() -> str:
    """A base URL on a loopback port nobody listens on (connection refused)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"
