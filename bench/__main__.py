"""`python -m bench [--quick]`: every section in one run, the baselines interleaved, results
written to bench/results.json, bench/results.md and bench/tokens.png, the table printed."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import platform
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import overhead as turns
from bench.relay import relay, relay_users
from bench.report import build_results, missing_keys, plot_tokens
from bench.serve_app import ServeProcess
from bench.servers import ServerProcess, Urls
from bench.slack_ack import replies_per_event, reply_counts, slack_ack, slack_users
from bench.table import render_markdown
from bench.widget import sign_in_all, widget_scale
from bench.workload import USER

log = logging.getLogger("bench")
SECTIONS = ("overhead", "growth", "slack", "relay", "widget")
HERE = Path(__file__).parent


@dataclass(frozen=True)
class Plan:
    concurrencies: tuple[int, ...]
    turns: int  # per conversation
    rounds: int  # the turns are split into rounds; runners alternate round by round
    growth_turns: int
    words: int
    slack_events: int
    slack_users: int
    relay_handoffs: int
    relay_rounds: int
    relay_window_s: float
    widget_sockets: int
    widget_chatting: int
    widget_rounds: int


FULL = Plan((1, 50, 200), 10, 2, 60, 150, 500, 40, 8, 10, 60.0, 1000, 100, 3)
# Quick: one turn per conversation (no interleaving within a level, but the order of the
# runners still rotates from level to level), fewer handoffs, one chat round on the widget.
QUICK = replace(
    FULL,
    turns=1,
    rounds=1,
    relay_handoffs=4,
    relay_rounds=5,
    relay_window_s=20.0,
    widget_rounds=1,
)


def describe(plan: Plan, price_in: float, price_out: float) -> dict[str, str]:
    concurrencies = ", ".join(str(c) for c in plan.concurrencies)
    return {
        "overhead": (
            f"{concurrencies} concurrent conversations × {plan.turns} turns (one `search_kb` call, "
            f"then a text answer), in {plan.rounds} rounds with the runners taking turns in a "
            "rotating order; each runner in its own process. Overhead = wall time of the turn − "
            "time waiting on the model (request sent → last byte read, so under concurrency it "
            "includes event-loop queueing, for every runner alike). CPU ms/turn is the runner "
            "process's CPU time over the batch ÷ turns. Baselines get the system prompt and tool "
            "schemas our first request carried, and keep the full history. With a model that "
            "answers at once and no pause between a user's messages, the conversations of a level "
            "all write at once: at 200 a turn's wall time is mostly waiting behind the other "
            "turns of a CPU-bound process, so p99 there measures throughput; CPU ms/turn is the "
            "per-turn cost that does not depend on the concurrency."
        ),
        "growth": (
            f"One {plan.growth_turns}-turn conversation per runner, ~{plan.words}-word user "
            "messages and answers. Tokens are estimated alike for every client (4 characters per "
            "token over message texts, tool-call arguments and tool schemas of the request "
            "body); the turn's figure is its first model request (the one carrying the history). "
            f"Cost at ${price_in}/1k input and ${price_out}/1k output tokens."
        ),
        "slack": (
            f"{plan.slack_events} signed Events API requests sent at once (one connection each) "
            f"to a `helpdesk-bot serve` process; {plan.slack_users} users, 70% linked, DMs and "
            "@mentions alternating. Ack = request sent → HTTP 200 at the client. Floor = the same "
            "burst as the bot's own messages (acked, then dropped: no turn), sent just before. "
            "Replies counted in the fake Slack Web API after the server drained its work."
        ),
        "relay": (
            f"{plan.relay_handoffs} users hand off with `/helpdesk human`; agents write "
            f"{plan.relay_rounds} rounds through the sandbox back office; latency = agent request "
            "→ `chat.postMessage` at the fake Slack. Polls of `GET /chat/{id}/messages` counted "
            f"in the sandbox's request log over a {plan.relay_window_s:.0f} s window."
        ),
        "widget": (
            f"{plan.widget_sockets} widget sockets, each a signed-in visitor, held open; "
            f"{plan.widget_chatting} of them send {plan.widget_rounds} message(s) each at once. "
            "Memory per socket = (server RSS with every socket open − before) ÷ sockets, on a "
            "fresh server (visitors signed in on the first one, same store). Idle CPU = share of "
            "one core the server used over 5 s with nobody writing, without and with the sockets."
        ),
    }


async def overhead_sections(
    urls: Urls, plan: Plan, chosen: set[str], args: argparse.Namespace, workdir: Path
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    postgres = args.postgres if "overhead" in chosen else None
    async with turns.start_runners(urls, workdir, postgres) as runners:
        if "overhead" in chosen:
            out["overhead"] = await turns.turn_overhead(
                runners, concurrencies=plan.concurrencies, turns=plan.turns, rounds=plan.rounds
            )
            if "ours_postgres" not in runners.workers:
                why = "unreachable (see the log)" if postgres else "no --postgres URL given"
                out["notes"] = [f"PostgreSQL skipped: {why}"]
        if "growth" in chosen:
            requests = await turns.cost_growth(runners, turns=plan.growth_turns, words=plan.words)
            out["growth_requests"] = requests
            out["growth"] = {
                name: turns.growth_figures(
                    r, turns=plan.growth_turns, price_in=args.price_in, price_out=args.price_out
                )
                for name, r in requests.items()
            }
    return out


async def channel_sections(
    urls: Urls, plan: Plan, chosen: set[str], _: argparse.Namespace, workdir: Path
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    linked, unlinked = slack_users(plan.slack_users, linked_share=0.7)
    handing_off = relay_users(plan.relay_handoffs)
    sent = []
    cookies: list[str] = []
    async with ServeProcess(urls, workdir, linked={u: USER for u in linked} | handing_off) as serve:
        if "slack" in chosen:
            out["slack"], sent = await slack_ack(
                serve.base_url, urls, events=plan.slack_events, linked=linked, unlinked=unlinked
            )
            log.info("slack: %s", out["slack"])
        if "relay" in chosen:
            out["relay"] = await relay(
                serve.base_url,
                urls,
                users=list(handing_off),
                rounds=plan.relay_rounds,
                window_s=plan.relay_window_s,
            )
            log.info("relay: %s", out["relay"])
        if "widget" in chosen:
            cookies = await sign_in_all(serve.base_url, urls.api, plan.widget_sockets + 1)
        await serve.stop()  # drained: what the fake Slack holds now is final
    if sent:
        out["slack"] |= reply_counts(await replies_per_event(urls, sent))
    if cookies:
        async with ServeProcess(urls, workdir) as fresh:  # same store: the sessions are there
            out["widget"] = await widget_scale(
                fresh.base_url,
                fresh.pid,
                cookies,
                chatting=plan.widget_chatting,
                rounds=plan.widget_rounds,
            )
        log.info("widget: %s", out["widget"])
    return out


def _load() -> str:
    return " / ".join(f"{x:.2f}" for x in os.getloadavg())


async def run(args: argparse.Namespace) -> dict[str, Any]:
    plan = QUICK if args.quick else FULL
    if args.concurrencies:
        plan = replace(plan, concurrencies=tuple(int(c) for c in args.concurrencies.split(",")))
    if args.turns:
        plan = replace(plan, turns=args.turns, rounds=min(plan.rounds, args.turns))
    chosen = set(args.sections.split(",")) if args.sections else set(SECTIONS)
    meta: dict[str, Any] = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.node()}, {os.cpu_count()} CPUs, Python {platform.python_version()}",
        "mode": "quick" if args.quick else "full",
        "quick": args.quick,
        "load_before": _load(),
        "plan": plan.__dict__,
        "notes": [],
        **describe(plan, args.price_in, args.price_out),
    }
    started = time.monotonic()
    sections: dict[str, Any] = {}
    with ServerProcess() as servers, tempfile.TemporaryDirectory(prefix="bench-") as folder:
        assert servers.urls is not None
        for name, part, wanted in (
            ("turn overhead / cost growth", overhead_sections, {"overhead", "growth"}),
            ("Slack / relay / widget", channel_sections, {"slack", "relay", "widget"}),
        ):
            if not chosen & wanted:
                continue
            try:
                found = await part(servers.urls, plan, chosen, args, Path(folder))
            except Exception as exc:  # one section failing must not lose the others
                log.exception("%s failed", name)
                meta["notes"].append(f"{name} failed: {type(exc).__name__}: {exc}")
                continue
            meta["notes"] += found.pop("notes", [])
            sections |= found
    meta["duration_s"] = round(time.monotonic() - started, 1)
    meta["load_after"] = _load()
    return build_results(sections, meta)


def write(results: dict[str, Any], out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    growth = results["sections"].get("growth_requests")
    if growth and not plot_tokens(growth, out / "tokens.png"):
        results["meta"]["notes"].append(
            "tokens.png not drawn: matplotlib missing (make install-bench)"
        )
    (out / "results.json").write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    table = render_markdown(results)
    (out / "results.md").write_text(table, encoding="utf-8")
    print(table)
    missing = missing_keys(results)
    if missing:
        print(f"results.json lacks: {', '.join(missing)}", file=sys.stderr)


def arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer turns and rounds (< 5 min)")
    parser.add_argument(
        "--postgres",
        default=os.environ.get("TEST_DATABASE_URL"),
        help="postgresql+asyncpg://... (default: TEST_DATABASE_URL)",
    )
    parser.add_argument("--price-per-1k-input", dest="price_in", type=float, default=0.0004)
    parser.add_argument("--price-per-1k-output", dest="price_out", type=float, default=0.0016)
    parser.add_argument("--sections", default="", help=f"comma-separated subset of {SECTIONS}")
    parser.add_argument("--concurrencies", default="", help="e.g. 1,50,200")
    parser.add_argument("--turns", type=int, default=0, help="turns per conversation")
    parser.add_argument("--out", type=Path, default=HERE, help="where the results go")
    return parser.parse_args(argv)  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    args = arguments(argv)
    write(asyncio.run(run(args)), args.out)


if __name__ == "__main__":
    main()
