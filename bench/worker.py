"""One runner (ours, create_agent or the bare loop) in a process of its own, driven by lines.

Each runner gets its own process so that its peak memory and its CPU are its own (LangChain's
imports do not weigh on ours, nor ours on the bare loop), while the parent interleaves the
runners batch by batch. The child reads one JSON command per line on stdin and answers one
JSON line on stdout:

    {"op": "batch", "prefix": "c50", "conversations": 50, "first": 0, "turns": 5}
        -> {"turns": [{"wall_ms", "model_ms", "model_requests", "helpdesk_calls",
                       "db_statements"}, ...], "wall_s", "cpu_s", "peak_rss_mb"}
    {"op": "growth", "turns": 60, "words": 150}
        -> {"requests": [{"turn", "input_tokens", "output_tokens", "with_tools"}, ...],
            "model_requests"}
    {"op": "offered"}  (ours only) -> {"system": ..., "tools": [...]}

    python -m bench.worker RUNNER --urls JSON [--database-url URL] [--offered FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bench import meter
from bench.fake_model import answer_text
from bench.servers import Urls
from bench.workload import (
    SHORT_MESSAGE,
    Offered,
    OursRunner,
    Runner,
    baselines,
    capture_offered,
    ours,
)

RUNNERS = ("ours", "create_agent", "bare")
ANSWER_MARK = "@@bench "  # a library printing to stdout cannot be mistaken for an answer


async def _one_turn(runner: Runner, conversation: str, text: str) -> dict[str, float]:
    with meter.charging(meter.Tally()) as tally:
        started = time.perf_counter()
        await runner.turn(conversation, text)
        wall = time.perf_counter() - started
    return {
        "wall_ms": wall * 1000,
        "model_ms": tally.model_s * 1000,
        "model_requests": tally.model_requests,
        "helpdesk_calls": tally.helpdesk_calls,
        "db_statements": tally.db_statements,
    }


async def _conversation(
    runner: Runner, key: str, *, first: int, turns: int
) -> list[dict[str, float]]:
    if isinstance(runner, OursRunner):
        await runner.prepare(key)
    return [
        await _one_turn(runner, key, f"{SHORT_MESSAGE} ({number})")
        for number in range(first, first + turns)
    ]


async def batch(runner: Runner, command: dict[str, Any]) -> dict[str, Any]:
    """`conversations` conversations at once, each `turns` turns from turn `first`."""
    keys = [f"{command['prefix']}-{i}" for i in range(int(command["conversations"]))]
    if isinstance(runner, OursRunner):  # linking is set-up, not part of the timed turns
        for key in keys:
            await runner.prepare(key)
    cpu = time.process_time()
    started = time.perf_counter()
    done = await asyncio.gather(
        *(
            _conversation(runner, key, first=int(command["first"]), turns=int(command["turns"]))
            for key in keys
        )
    )
    return {
        "turns": [turn for conversation in done for turn in conversation],
        "wall_s": time.perf_counter() - started,
        "cpu_s": time.process_time() - cpu,
        "peak_rss_mb": meter.peak_rss_mb(),
    }


def long_message(words: int, number: int) -> str:
    """A user message of about `words` words (the fake answers with as many)."""
    return f"Turn {number}: " + answer_text(words)


async def growth(runner: Runner, command: dict[str, Any]) -> dict[str, Any]:
    """One long conversation; every model request's input and output tokens by turn."""
    key = f"growth-{command.get('prefix', 'g')}"
    if isinstance(runner, OursRunner):
        await runner.prepare(key)
    requests: list[dict[str, int]] = []
    for number in range(1, int(command["turns"]) + 1):
        with meter.charging(meter.Tally()) as tally:
            await runner.turn(key, long_message(int(command["words"]), number))
        outputs = tally.output_tokens + [0] * (len(tally.input_tokens) - len(tally.output_tokens))
        requests += [
            {"turn": number, "input_tokens": i, "output_tokens": o, "with_tools": t}
            for i, o, t in zip(tally.input_tokens, outputs, tally.with_tools, strict=True)
        ]
    return {"requests": requests, "model_requests": len(requests)}


@asynccontextmanager
async def open_runner(args: argparse.Namespace, urls: Urls) -> AsyncIterator[Runner]:
    if args.runner == "ours":
        async with ours(urls, args.database_url, name="ours") as runner:
            yield runner
        return
    async with baselines(urls, args.offered) as (langchain, bare):
        yield langchain if args.runner == "create_agent" else bare


async def serve(args: argparse.Namespace) -> None:
    urls = Urls(**json.loads(args.urls))
    meter.install(model_base=urls.model, helpdesk_base=urls.api)
    loop = asyncio.get_running_loop()
    async with AsyncExitStack() as stack:
        runner = await stack.enter_async_context(open_runner(args, urls))
        _answer({"ready": args.runner})
        while line := await loop.run_in_executor(None, sys.stdin.readline):
            command = json.loads(line)
            if command["op"] == "batch":
                _answer(await batch(runner, command))
            elif command["op"] == "growth":
                _answer(await growth(runner, command))
            elif command["op"] == "offered" and isinstance(runner, OursRunner):
                _answer(asdict(await capture_offered(runner)))
            else:
                _answer({"error": f"unknown command {command['op']!r} for {args.runner}"})


def _answer(payload: dict[str, Any]) -> None:
    sys.stdout.write(ANSWER_MARK + json.dumps(payload) + "\n")
    sys.stdout.flush()


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runner", choices=RUNNERS)
    parser.add_argument("--urls", required=True)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--offered", default="", help="a JSON file: the system prompt and tools")
    args = parser.parse_args()
    if args.offered:  # read before the loop starts
        args.offered = Offered(**json.loads(Path(args.offered).read_text(encoding="utf-8")))
    return args


if __name__ == "__main__":
    asyncio.run(serve(_arguments()))
