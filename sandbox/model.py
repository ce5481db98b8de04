"""The sandbox's stand-in chat model, served as an OpenAI-compatible Chat Completions endpoint.

A deterministic, rule-based STAND-IN for demos and tests, not a language model: it lets
`make demo` and the test suite run the bot's real model ⇄ tools loop with no API key. The
rules (`sandbox/model_rules.py`) pick the bot's tools from the user's words, and
`sandbox/model_answers.py` writes the answer from tool results. Responses echo the requested
`model` but carry `system_fingerprint: "sandbox-stand-in"`, and `GET /v1/models` lists only
"sandbox-stand-in".

Wire format follows https://platform.openai.com/docs/api-reference/chat (as the official
`openai` SDK parses it): a `chat.completion` JSON object, or with `stream: true` Server-Sent
Events of `chat.completion.chunk` objects ending in `data: [DONE]`. Bad requests get a 400 in
OpenAI's error shape. Every request is recorded (sizes, offered tools, decision) in a bounded
log at `GET /sandbox/model/requests` (`DELETE` clears it).
"""

from __future__ import annotations

import asyncio
import json
import math
import re
import time
import uuid
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from sandbox.model_rules import Call, Decision, Message, decide

STAND_IN_MODEL = "sandbox-stand-in"
REQUEST_LOG_SIZE = 500
_WORDS_PER_DELTA = 3
_ARGUMENT_PIECE = 24


# --- request (pydantic at the edge; unknown fields are ignored, types are strict) ----------


class _Wire(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore")


class ContentPart(_Wire):
    type: str
    text: str | None = None


class FunctionCallIn(_Wire):
    name: str
    arguments: str


class ToolCallIn(_Wire):
    id: str
    type: Literal["function"] = "function"
    function: FunctionCallIn


class MessageIn(_Wire):
    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str | list[ContentPart] | None = None
    tool_calls: list[ToolCallIn] | None = None
    tool_call_id: str | None = None

    @model_validator(mode="after")
    def _fields_for_role(self) -> MessageIn:
        if self.role == "tool" and not self.tool_call_id:
            raise ValueError("messages with role 'tool' need a 'tool_call_id'")
        if self.role in ("system", "developer", "user") and self.content is None:
            raise ValueError(f"messages with role '{self.role}' need 'content'")
        return self


class FunctionDef(_Wire):
    name: str = Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")
    description: str | None = None
    parameters: dict[str, Any] | None = None


class ToolIn(_Wire):
    type: Literal["function"]
    function: FunctionDef


class NamedFunction(_Wire):
    name: str


class NamedToolChoice(_Wire):
    type: Literal["function"]
    function: NamedFunction


class StreamOptions(_Wire):
    include_usage: bool = False


class ChatRequest(_Wire):
    model: str = Field(min_length=1)
    messages: list[MessageIn] = Field(min_length=1)
    tools: list[ToolIn] | None = None
    tool_choice: Literal["none", "auto", "required"] | NamedToolChoice | None = None
    parallel_tool_calls: bool | None = None
    stream: bool | None = False
    stream_options: StreamOptions | None = None


_FIELDS: frozenset[str] = frozenset(
    name
    for m in (ChatRequest, MessageIn, ToolCallIn, ToolIn, FunctionDef, StreamOptions)
    for name in m.model_fields
)


# --- per-app state: the request log ---------------------------------------------------------


@dataclass
class ModelSandbox:
    """The stand-in's state on one app: a bounded request log and the stream pacing."""

    stream_delay_s: float = 0.0
    requests: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=REQUEST_LOG_SIZE))
    next_request_id: int = 1

    def record(self, entry: dict[str, Any]) -> None:
        self.requests.append({"request_id": self.next_request_id, **entry})
        self.next_request_id += 1


MODEL_SANDBOX: web.AppKey[ModelSandbox] = web.AppKey("sandbox_model", ModelSandbox)


def add_model_routes(app: web.Application, *, stream_delay_s: float = 0.0) -> None:
    """Serve the stand-in model and its request log on `app`.

    `stream_delay_s` pauses between streamed chunks so a demo shows text arriving; tests
    keep the default 0.
    """
    app[MODEL_SANDBOX] = ModelSandbox(stream_delay_s=stream_delay_s)
    app.router.add_post("/v1/chat/completions", chat_completions)
    app.router.add_get("/v1/models", list_models)
    app.router.add_get("/sandbox/model/requests", list_requests)
    app.router.add_delete("/sandbox/model/requests", clear_requests)


# --- handlers --------------------------------------------------------------------------------


async def list_models(request: web.Request) -> web.Response:
    model = {"id": STAND_IN_MODEL, "object": "model", "created": 0, "owned_by": "sandbox"}
    return web.json_response({"object": "list", "data": [model]})


async def list_requests(request: web.Request) -> web.Response:
    entries = list(request.config_dict[MODEL_SANDBOX].requests)
    return web.json_response({"requests": entries, "total": len(entries)})


async def clear_requests(request: web.Request) -> web.Response:
    request.config_dict[MODEL_SANDBOX].requests.clear()
    return web.Response(status=204)


async def chat_completions(request: web.Request) -> web.StreamResponse:
    try:
        body = await request.read()
    except web.HTTPRequestEntityTooLarge:
        return _error(413, "Request body too large.", param=None)
    try:
        chat = ChatRequest.model_validate_json(body)
    except ValidationError as exc:
        return _validation_error(exc)
    if (problem := _unpaired_tool_messages(chat.messages)) is not None:
        return _error(400, problem[1], param=problem[0])
    messages = [_to_message(m) for m in chat.messages]
    offered = _offered(chat)
    decision = decide(messages, offered)
    if chat.parallel_tool_calls is False and len(decision.calls) > 1:
        decision = replace(decision, calls=decision.calls[:1])
    prompt_tokens = _estimate_tokens(_prompt_chars(chat))
    tool_calls = [
        {
            "id": f"call_{uuid.uuid4().hex[:24]}",
            "type": "function",
            "function": {"name": c.name, "arguments": json.dumps(c.arguments)},
        }
        for c in decision.calls
    ]
    completion_tokens = _estimate_tokens(_output_chars(decision, tool_calls))
    usage = {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }
    state = request.config_dict[MODEL_SANDBOX]
    state.record(_log_entry(chat, offered, decision, usage))
    base = {
        "id": f"chatcmpl-{uuid.uuid4().hex}",
        "created": int(time.time()),
        "model": chat.model,
        "system_fingerprint": STAND_IN_MODEL,
    }
    if chat.stream:
        include_usage = chat.stream_options is not None and chat.stream_options.include_usage
        chunks = _chunks(base, decision, tool_calls, usage if include_usage else None)
        return await _send_events(request, chunks, delay_s=state.stream_delay_s)
    message: dict[str, Any] = {"role": "assistant", "content": decision.text, "refusal": None}
    if tool_calls:
        message["tool_calls"] = tool_calls
    choice = {
        "index": 0,
        "message": message,
        "logprobs": None,
        "finish_reason": "tool_calls" if tool_calls else "stop",
    }
    completion = {**base, "object": "chat.completion", "choices": [choice], "usage": usage}
    return web.json_response(completion)


# --- translation ---------------------------------------------------------------------------


def _text_of(content: str | list[ContentPart] | None) -> str:
    if content is None or isinstance(content, str):
        return content or ""
    return "".join(part.text or "" for part in content if part.type == "text")


def _to_message(m: MessageIn) -> Message:
    calls = tuple(
        Call(id=c.id, name=c.function.name, arguments=c.function.arguments)
        for c in m.tool_calls or ()
    )
    return Message(role=m.role, text=_text_of(m.content), calls=calls, tool_call_id=m.tool_call_id)


def _offered(chat: ChatRequest) -> frozenset[str]:
    """Tool names the model may call; `tool_choice` "none" offers none, a named one only it."""
    names = frozenset(t.function.name for t in chat.tools or ())
    if chat.tool_choice == "none":
        return frozenset()
    if isinstance(chat.tool_choice, NamedToolChoice):
        return names & {chat.tool_choice.function.name}
    return names


def _estimate_tokens(chars: int) -> int:
    """The offline estimate the brief asks for: about four characters per token."""
    return math.ceil(chars / 4)


def _prompt_chars(chat: ChatRequest) -> int:
    chars = sum(
        len(_text_of(m.content))
        + sum(len(c.function.name) + len(c.function.arguments) for c in m.tool_calls or ())
        for m in chat.messages
    )
    if chat.tools:
        chars += len(json.dumps([t.model_dump(exclude_none=True) for t in chat.tools]))
    return chars


def _output_chars(decision: Decision, tool_calls: list[dict[str, Any]]) -> int:
    calls = sum(len(c["function"]["name"]) + len(c["function"]["arguments"]) for c in tool_calls)
    return max(1, len(decision.text or "") + calls)


def _log_entry(
    chat: ChatRequest, offered: frozenset[str], decision: Decision, usage: dict[str, int]
) -> dict[str, Any]:
    message_chars = sum(len(_text_of(m.content)) for m in chat.messages)
    return {
        "at": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        "model": chat.model,
        "stream": bool(chat.stream),
        "messages": len(chat.messages),
        "chars": message_chars,
        "input_tokens_est": usage["prompt_tokens"],
        "tools_offered": sorted(offered),
        "rule": decision.rule,
        "decision": "tool_calls" if decision.calls else "text",
        "tool_calls": [{"name": c.name, "arguments": c.arguments} for c in decision.calls],
        "text_chars": len(decision.text or ""),
        "completion_tokens": usage["completion_tokens"],
    }


# --- streaming -----------------------------------------------------------------------------


def _chunks(
    base: dict[str, Any],
    decision: Decision,
    tool_calls: list[dict[str, Any]],
    usage: dict[str, int] | None,
) -> Iterator[dict[str, Any]]:
    """The chunk sequence: role, content or tool-call deltas, finish_reason, then usage."""
    usage_field = {"usage": None} if usage is not None else {}

    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
        return {**base, "object": "chat.completion.chunk", "choices": [choice], **usage_field}

    yield chunk({"role": "assistant", "content": "" if decision.text is not None else None})
    if decision.text:
        for piece in _text_pieces(decision.text):
            yield chunk({"content": piece})
    for index, call in enumerate(tool_calls):
        head = {"name": call["function"]["name"], "arguments": ""}
        yield chunk(
            {
                "tool_calls": [
                    {"index": index, "id": call["id"], "type": "function", "function": head}
                ]
            }
        )
        arguments = call["function"]["arguments"]
        for start in range(0, len(arguments), _ARGUMENT_PIECE):
            part = {"arguments": arguments[start : start + _ARGUMENT_PIECE]}
            yield chunk({"tool_calls": [{"index": index, "function": part}]})
    yield chunk({}, "tool_calls" if tool_calls else "stop")
    if usage is not None:
        yield {**base, "object": "chat.completion.chunk", "choices": [], "usage": usage}


def _text_pieces(text: str) -> Iterator[str]:
    """A few words at a time, whitespace kept, so the pieces join back to the exact text."""
    tokens = re.findall(r"\S+\s*|\s+", text)
    for start in range(0, len(tokens), _WORDS_PER_DELTA):
        yield "".join(tokens[start : start + _WORDS_PER_DELTA])


async def _send_events(
    request: web.Request, chunks: Iterator[dict[str, Any]], *, delay_s: float
) -> web.StreamResponse:
    response = web.StreamResponse(
        headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
    )
    await response.prepare(request)
    for item in chunks:
        await response.write(f"data: {json.dumps(item)}\n\n".encode())
        if delay_s:
            await asyncio.sleep(delay_s)
    await response.write(b"data: [DONE]\n\n")
    await response.write_eof()
    return response


# --- errors --------------------------------------------------------------------------------


def _error(
    status: int, message: str, *, param: str | None, code: str | None = None
) -> web.Response:
    body = {
        "error": {
            "message": message,
            "type": "invalid_request_error",
            "param": param,
            "code": code,
        }
    }
    return web.json_response(body, status=status)


def _unpaired_tool_messages(messages: list[MessageIn]) -> tuple[str, str] | None:
    """The real API's pairing rule: every tool call answered, every tool message a reply."""
    pending: set[str] = set()
    for i, m in enumerate([*messages, MessageIn(role="user", content="")]):
        if m.role == "tool":
            if m.tool_call_id not in pending:
                return f"messages.[{i}].role", (
                    "Invalid parameter: messages with role 'tool' must be a response to a "
                    "preceding message with 'tool_calls'."
                )
            pending.discard(m.tool_call_id)
            continue
        if pending:
            return "messages", (
                "An assistant message with 'tool_calls' must be followed by tool messages "
                "responding to each 'tool_call_id'. The following tool_call_ids did not have "
                f"response messages: {', '.join(sorted(pending))}"
            )
        if m.role == "assistant":
            pending = {c.id for c in m.tool_calls or ()}
    return None


def _validation_error(exc: ValidationError) -> web.Response:
    first = exc.errors(include_url=False)[0]
    if first["type"] == "json_invalid":
        return _error(
            400,
            "We could not parse the JSON body of your request. (HINT: This likely means you "
            "aren't using your HTTP library correctly. The OpenAI API expects a JSON payload.)",
            param=None,
        )
    if first["type"] == "model_type" and not first["loc"]:
        return _error(400, "The request body must be a JSON object.", param=None)
    param = ""
    for part in first["loc"]:
        if isinstance(part, int):
            param += f"[{part}]"
        elif part in _FIELDS:
            param += f".{part}" if param else part
        else:
            break  # a union member's tag, not a field
    message = f"Invalid value for '{param}': {first['msg']}." if param else first["msg"]
    return _error(400, message, param=param or None)
