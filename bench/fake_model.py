"""The benchmark's model: the tests' OpenAI fake, answering each request from its body.

The scripted `OpenAIFake` (tests/fakes/openai_server.py) serves the real wire format from a
queue of steps; concurrent conversations need the step chosen from the request instead, so
this subclass decides it per request and reuses the fake's streaming and JSON encoders:

- a request whose last message is a user message gets one `search_kb` tool call;
- a request whose last message is a tool result gets a text answer as long as the user's
  message (so ~150 words in, ~150 words out when the workload says so);
- a request with no tools (a summary request) gets a short summary.

It answers at once: the benchmark measures the client's own cost, and subtracts the time
spent waiting on this server.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from tests.fakes.openai_server import CHAT_PATH, Completion, FakeToolCall, FakeUsage, OpenAIFake

_FILLER_TEXT = (
    "Open the VPN client settings, choose the gateway nearest to you, turn off the power "
    "saving option for the network adapter, then reconnect and check the status page again"
)
FILLER = _FILLER_TEXT.split()


def estimate_tokens(body: dict[str, Any]) -> int:
    """Input tokens of a chat request, counted the same way for every client: about four
    characters per token over message texts, tool-call arguments and the tool schemas."""
    chars = 0
    for message in body.get("messages") or []:
        content = message.get("content")
        if isinstance(content, list):  # content parts
            chars += sum(len(str(part.get("text", ""))) for part in content)
        elif content:
            chars += len(str(content))
        for call in message.get("tool_calls") or []:
            function = call.get("function") or {}
            chars += len(function.get("name", "")) + len(function.get("arguments", ""))
    chars += len(json.dumps(body.get("tools") or []))
    return max(1, chars // 4)


def estimate_output_tokens(body: bytes) -> int:
    """Output tokens of a model answer as it crossed the wire (a server-sent event stream
    or one JSON body), four characters per token over text and tool-call arguments."""
    chars = 0
    for data in _answer_payloads(body):
        for choice in data.get("choices") or []:
            part = choice.get("delta") or choice.get("message") or {}
            chars += len(part.get("content") or "")
            for call in part.get("tool_calls") or []:
                function = call.get("function") or {}
                chars += len(function.get("name") or "") + len(function.get("arguments") or "")
    return chars // 4


def _answer_payloads(body: bytes) -> list[dict[str, Any]]:
    text = body.decode("utf-8", "replace")
    if not text.lstrip().startswith("data:"):
        try:
            return [json.loads(text)]
        except ValueError:
            return []
    payloads = []
    for line in text.splitlines():
        if line.startswith("data:") and line[5:].strip() not in ("", "[DONE]"):
            try:
                payloads.append(json.loads(line[5:]))
            except ValueError:
                continue
    return payloads


def _last_user_words(messages: list[dict[str, Any]]) -> int:
    for message in reversed(messages):
        if message.get("role") == "user":
            return len(str(message.get("content") or "").split())
    return 20


def answer_text(words: int) -> str:
    return " ".join(FILLER[i % len(FILLER)] for i in range(max(8, words))) + "."


def choose_step(body: dict[str, Any]) -> Completion:
    """The reply to one request (see the module docstring)."""
    messages = body.get("messages") or []
    prompt = estimate_tokens(body)
    last = messages[-1] if messages else {}
    if not body.get("tools"):
        text = "The user asked about VPN drops; the assistant gave the knowledge-base steps."
        return Completion(text=text, usage=FakeUsage(prompt, len(text) // 4))
    if last.get("role") == "tool":
        text = answer_text(_last_user_words(messages))
        return Completion(text=text, usage=FakeUsage(prompt, len(text) // 4))
    call = FakeToolCall("search_kb", json.dumps({"query": "VPN keeps disconnecting"}))
    return Completion(tool_calls=(call,), usage=FakeUsage(prompt, 12))


class RespondingModel(OpenAIFake):
    """`OpenAIFake` with the step chosen per request; it keeps no request log (unbounded)."""

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        if request.method != "POST" or request.path != CHAT_PATH:
            return web.json_response({"error": {"message": "not found"}}, status=404)
        body = json.loads(await request.text())
        step = choose_step(body)
        if not body.get("stream"):
            return web.json_response(self._completion_body(step, body))
        return await self._stream(request, step, body)
