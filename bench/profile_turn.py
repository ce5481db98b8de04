"""Where one turn's cost goes: model requests, tokens, DB statements, helpdesk calls, CPU.

A reproducible probe of the core (not the comparison harness, see `python -m bench`): the
real Engine, the real tools and store (a fresh SQLite file), the sandbox helpdesk over HTTP
in a subprocess (so its CPU is not counted as ours) and an in-process model that answers
at once (so only our own cost is measured):

- **simple**: CONVERSATIONS x TURNS short turns, each one `search_kb` call then an answer;
  per turn: CPU ms (`time.process_time`), helpdesk calls, model requests, DB statements
  and commits.
- **long**: one 60-turn conversation with ~150-word messages both ways; model requests
  (and how many are summaries), the estimated input tokens of each request at turns
  1/10/30/60 and in total, beside what a full-history agent would have sent for the same
  transcript (same system prompt and tools, every earlier message each time);
  **long_chat_only** is the same conversation answered without tool calls (one request a
  turn, the shape of the comparison harness's cost-growth run).

    .venv/bin/python -m bench.profile_turn            # both, figures as JSON on stdout
    .venv/bin/python -m bench.profile_turn --profile  # plus cProfile of the simple turns
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import io
import json
import os
import pstats
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import event

from bot.config import EngineConfig
from bot.context import message_tokens, tools_tokens
from bot.engine import Engine
from bot.helpdesk.client import HelpdeskClient
from bot.identity import IdentityService, TokenVault
from bot.llm import (
    ModelMessage,
    ModelRequest,
    ModelResponse,
    StreamEvent,
    TextDelta,
    ToolCall,
    Usage,
)
from bot.messages import Inbound
from bot.store.store import Store
from bot.tooling import ToolRegistry
from tools import all_tools

USER = ("jane@acme.example", "demo-jane")
_WORDS = (
    "the vpn client drops every few minutes when I am on the office wifi and I already "
    "restarted the laptop reinstalled the client and checked the cable but it keeps "
    "happening mostly after lunch when many people are connected so I wonder whether "
)
LONG_TEXT = " ".join((_WORDS * 6).split()[:150])


@dataclass
class Counters:
    model_requests: int = 0
    summary_requests: int = 0
    request_tokens: list[int] = field(default_factory=list)  # estimated input per request
    statements: int = 0
    commits: int = 0
    helpdesk_calls: int = 0

    def snapshot(self) -> dict[str, int]:
        return {
            "model_requests": self.model_requests,
            "summary_requests": self.summary_requests,
            "statements": self.statements,
            "commits": self.commits,
            "helpdesk_calls": self.helpdesk_calls,
        }


class InstantModel:
    """Answers at once: a `search_kb` call for a user message (unless `searches` is off),
    then text; summaries plain."""

    def __init__(self, counters: Counters, *, answer: str, searches: bool = True) -> None:
        self._counters = counters
        self._answer = answer
        self._searches = searches
        self._ids = 0

    @property
    def name(self) -> str:
        return "instant"

    async def stream(self, request: ModelRequest) -> AsyncIterator[StreamEvent]:
        counters = self._counters
        counters.model_requests += 1
        tokens = sum(message_tokens(m) for m in request.messages) + tools_tokens(request.tools)
        counters.request_tokens.append(tokens)
        usage = Usage(input_tokens=tokens, output_tokens=60)
        if not request.tools:  # a side call: the rolling summary
            counters.summary_requests += 1
            yield ModelResponse(
                text="Jane reported VPN drops; KB articles were suggested.", usage=usage
            )
            return
        last = request.messages[-1]
        if last.role == "user" and self._searches:
            self._ids += 1
            query = json.dumps({"query": "VPN disconnecting"})
            call = ToolCall(id=f"call_{self._ids}", name="search_kb", arguments=query)
            yield ModelResponse(
                text="", tool_calls=(call,), usage=usage, finish_reason="tool_calls"
            )
            return
        yield TextDelta(self._answer)
        yield ModelResponse(text=self._answer, usage=usage, finish_reason="stop")

    async def aclose(self) -> None:
        return None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def sandbox_process() -> Iterator[str]:
    """The sandbox helpdesk in its own process; yields its API base URL."""
    port = _free_port()
    cli = Path(sys.executable).with_name("helpdesk-bot")
    process = subprocess.Popen(
        [str(cli), "sandbox", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{base}/helpdesk/api/v1/openapi.yaml", timeout=1)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("the sandbox did not start") from None
                time.sleep(0.1)
        yield f"{base}/helpdesk/api/v1"
    finally:
        process.terminate()
        process.wait(10)


@dataclass
class Rig:
    engine: Engine
    counters: Counters
    store: Store
    http: httpx.AsyncClient

    async def turn(self, conversation: str, text: str) -> None:
        inbound = Inbound(
            channel="bench",
            conversation_key=conversation,
            user_key=f"bench:{USER[0]}",
            text=text,
            event_id=uuid.uuid4().hex,
        )
        async for _reply in self.engine.handle(inbound):
            pass


@contextlib.asynccontextmanager
async def rig(
    api_base: str, db_dir: str, *, answer: str, searches: bool = True
) -> AsyncIterator[Rig]:
    counters = Counters()

    async def count_request(_request: httpx.Request) -> None:
        counters.helpdesk_calls += 1

    store = await Store.open(f"sqlite+aiosqlite:///{db_dir}/bench-{uuid.uuid4().hex}.db")
    sync_engine = store.engine.sync_engine

    @event.listens_for(sync_engine, "before_cursor_execute")
    def _statement(*_args: Any) -> None:
        counters.statements += 1

    @event.listens_for(sync_engine, "commit")
    def _commit(*_args: Any) -> None:
        counters.commits += 1

    async with httpx.AsyncClient(timeout=10, event_hooks={"request": [count_request]}) as http:
        vault = TokenVault(store, "bench-secret")
        helpdesk = HelpdeskClient(api_base, http=http, on_tokens_refreshed=vault.persist_refreshed)
        identities = IdentityService(store=store, helpdesk=helpdesk, vault=vault)
        await identities.link_with_password(
            "bench", f"bench:{USER[0]}", username=USER[0], password=USER[1]
        )
        engine = Engine(
            store=store,
            identities=identities,
            helpdesk=helpdesk,
            model=InstantModel(counters, answer=answer, searches=searches),
            tools=ToolRegistry(all_tools()),
            config=EngineConfig(),
        )
        try:
            yield Rig(engine=engine, counters=counters, store=store, http=http)
        finally:
            await store.aclose()


async def simple_turns(
    api_base: str, db_dir: str, *, conversations: int, turns: int, profile: bool
) -> dict[str, Any]:
    answer = "Try reconnecting to the VPN after updating the client (see the article)."
    async with rig(api_base, db_dir, answer=answer) as bench:
        await bench.turn("warm-up", "Is the VPN down?")  # imports, first connections
        cpu: list[float] = []
        deltas: list[dict[str, int]] = []
        profiler = cProfile.Profile() if profile else None
        for index in range(conversations):
            key = f"simple-{index}"
            for number in range(turns):
                before = bench.counters.snapshot()
                started = time.process_time()
                if profiler is not None:
                    profiler.enable()
                await bench.turn(key, f"My VPN keeps disconnecting, what can I do? ({number})")
                if profiler is not None:
                    profiler.disable()
                cpu.append((time.process_time() - started) * 1000)
                after = bench.counters.snapshot()
                deltas.append({k: after[k] - before[k] for k in after})
    result: dict[str, Any] = {
        "turns": len(cpu),
        "cpu_ms_p50": round(statistics.median(cpu), 2),
        "cpu_ms_mean": round(statistics.fmean(cpu), 2),
    }
    for key in deltas[0]:
        result[f"{key}_per_turn"] = round(statistics.fmean(d[key] for d in deltas), 2)
    if profiler is not None:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(40)
        result["profile"] = out.getvalue()
    return result


async def long_conversation(
    api_base: str, db_dir: str, *, turns: int, searches: bool = True
) -> dict[str, Any]:
    async with rig(api_base, db_dir, answer=LONG_TEXT, searches=searches) as bench:
        per_turn: list[int] = []  # input tokens of the turn's first request
        cpu: list[float] = []
        for number in range(turns):
            first = len(bench.counters.request_tokens)
            started = time.process_time()
            await bench.turn("long", f"{LONG_TEXT} ({number})")
            cpu.append((time.process_time() - started) * 1000)
            per_turn.append(bench.counters.request_tokens[first])
        counters = bench.counters
        fixed = counters.request_tokens[0] - message_tokens(
            ModelMessage(role="user", content=f"{LONG_TEXT} (0)")
        )
        full_history = await full_history_tokens(bench.store, "long", fixed=fixed)
        return {
            "turns": turns,
            "model_requests": counters.model_requests,
            "summary_requests": counters.summary_requests,
            "tokens_total": sum(counters.request_tokens),
            "full_history_tokens_total": sum(full_history),
            "full_history_tokens_turn_60": full_history[-2] if turns >= 60 else None,
            **{f"tokens_turn_{n}": per_turn[n - 1] for n in (1, 10, 30, 60) if n <= turns},
            "tokens_max_after_turn_10": max(per_turn[10:], default=0),
            "cpu_ms_p50": round(statistics.median(cpu), 2),
            "commits_per_turn": round(counters.commits / turns, 2),
        }


async def full_history_tokens(store: Store, conversation_key: str, *, fixed: int) -> list[int]:
    """Input tokens of each request a full-history agent makes over the stored transcript:
    one request per user message and one after each tool result, each carrying the system
    prompt and tools (`fixed`) and every earlier message."""
    conversation = await store.find_conversation("bench", conversation_key)
    assert conversation is not None
    messages = await store.recent_messages(conversation.id, limit=100_000)
    requests: list[int] = []
    sent = fixed
    for stored in messages:
        if stored.role not in ("user", "assistant", "tool"):
            continue
        calls = tuple(
            ToolCall(id=str(c["id"]), name=str(c["name"]), arguments=str(c["arguments"]))
            for c in stored.tool_calls or ()
        )
        role: Any = stored.role
        sent += message_tokens(ModelMessage(role=role, content=stored.content, tool_calls=calls))
        if stored.role in ("user", "tool"):
            requests.append(sent)
    return requests


async def main(args: argparse.Namespace) -> None:
    with sandbox_process() as api_base, tempfile.TemporaryDirectory() as db_dir:
        simple = await simple_turns(
            api_base,
            db_dir,
            conversations=args.conversations,
            turns=args.turns,
            profile=args.profile,
        )
        long = await long_conversation(api_base, db_dir, turns=args.long_turns)
        chat = await long_conversation(api_base, db_dir, turns=args.long_turns, searches=False)
    profile = simple.pop("profile", None)
    print(json.dumps({"simple": simple, "long": long, "long_chat_only": chat}, indent=2))
    if profile:
        print(profile)


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=5)
    parser.add_argument("--turns", type=int, default=10)
    parser.add_argument("--long-turns", type=int, default=60)
    parser.add_argument("--profile", action="store_true")
    return parser.parse_args()


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    asyncio.run(main(_arguments()))
