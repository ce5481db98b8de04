"""Turn overhead and cost growth: ours (SQLite, PostgreSQL), create_agent and the bare loop.

Every runner is a worker process (`bench.worker`); only one works at a time. For each
concurrency the turns are split into rounds and the runners take turns round by round, in a
rotating order, so whatever else loads the machine lands on all of them alike.
"""

from __future__ import annotations

import contextlib
import json
import logging
import secrets
from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import make_url

from bench.meter import median, percentile
from bench.processes import Worker
from bench.servers import Urls

log = logging.getLogger(__name__)


@dataclass
class Measured:
    """What one runner did at one concurrency, over all its rounds."""

    turns: list[dict[str, float]] = field(default_factory=list)
    wall_s: float = 0.0
    cpu_s: float = 0.0
    peak_rss_mb: float = 0.0

    def add(self, answer: dict[str, Any]) -> None:
        self.turns += answer["turns"]
        self.wall_s += answer["wall_s"]
        self.cpu_s += answer["cpu_s"]
        self.peak_rss_mb = max(self.peak_rss_mb, answer["peak_rss_mb"])

    def figures(self) -> dict[str, float]:
        count = len(self.turns)
        overhead = [t["wall_ms"] - t["model_ms"] for t in self.turns]

        def per_turn(key: str) -> float:
            return round(sum(t[key] for t in self.turns) / count, 2)

        return {
            "turns": count,
            "overhead_p50_ms": round(median(overhead), 2),
            "overhead_p99_ms": round(percentile(overhead, 99), 2),
            "model_ms_p50": round(median([t["model_ms"] for t in self.turns]), 2),
            "turns_per_s": round(count / self.wall_s, 2),
            "cpu_ms_per_turn": round(self.cpu_s * 1000 / count, 2),
            "model_calls_per_turn": per_turn("model_requests"),
            "helpdesk_calls_per_turn": per_turn("helpdesk_calls"),
            "db_statements_per_turn": per_turn("db_statements"),
            "peak_rss_mb": round(self.peak_rss_mb, 1),
        }


@asynccontextmanager
async def postgres_database(url: str | None) -> AsyncIterator[str | None]:
    """A fresh database `bench_<hex>` on the server of `url`, dropped afterwards; None
    (and a log line) when no URL is given or the server cannot be reached."""
    if not url:
        yield None
        return
    import asyncpg

    plain = make_url(url).set(drivername="postgresql")
    name = f"bench_{secrets.token_hex(5)}"
    dsn = plain.render_as_string(hide_password=False)
    try:
        admin = await asyncpg.connect(dsn, timeout=5)
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        log.warning("PostgreSQL at %s is unreachable (%s): skipped", plain.host, exc)
        yield None
        return
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield make_url(url).set(database=name).render_as_string(hide_password=False)
    finally:
        with contextlib.suppress(asyncpg.PostgresError, OSError):
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@dataclass
class Runners:
    """The running workers, ours on SQLite first (it also tells the baselines what to offer)."""

    workers: dict[str, Worker]

    @property
    def names(self) -> list[str]:
        return list(self.workers)


@asynccontextmanager
async def start_runners(
    urls: Urls, workdir: Path, postgres_url: str | None
) -> AsyncIterator[Runners]:
    async with AsyncExitStack() as stack:
        sqlite = f"sqlite+aiosqlite:///{workdir / 'ours.db'}"
        ours = await stack.enter_async_context(Worker("ours", urls, database_url=sqlite))
        offered = workdir / "offered.json"
        offered.write_text(json.dumps(await ours.ask({"op": "offered"})), encoding="utf-8")
        workers = {"ours": ours}
        workers["create_agent"] = await stack.enter_async_context(
            Worker("create_agent", urls, offered=offered)
        )
        workers["bare"] = await stack.enter_async_context(Worker("bare", urls, offered=offered))
        database = await stack.enter_async_context(postgres_database(postgres_url))
        if database is not None:
            workers["ours_postgres"] = await stack.enter_async_context(
                Worker("ours", urls, database_url=database)
            )
        yield Runners(workers)


async def turn_overhead(
    runners: Runners, *, concurrencies: Sequence[int], turns: int, rounds: int
) -> dict[str, dict[str, dict[str, float]]]:
    """{runner: {str(concurrency): figures}}, the runners interleaved round by round."""
    for worker in runners.workers.values():  # first connections, imports, caches
        await worker.ask(
            {"op": "batch", "prefix": "warm", "conversations": 2, "first": 0, "turns": 2}
        )
    per_round = max(1, turns // rounds)
    measured = {name: {c: Measured() for c in concurrencies} for name in runners.names}
    for level, concurrency in enumerate(concurrencies):
        for round_number in range(rounds):
            order = _rotated(runners.names, level + round_number)
            for name in order:
                answer = await runners.workers[name].ask(
                    {
                        "op": "batch",
                        "prefix": f"c{concurrency}",
                        "conversations": concurrency,
                        "first": round_number * per_round,
                        "turns": per_round,
                    }
                )
                measured[name][concurrency].add(answer)
            log.info("overhead: %d conversations, round %d done", concurrency, round_number + 1)
    return {
        name: {str(c): m.figures() for c, m in by_concurrency.items()}
        for name, by_concurrency in measured.items()
    }


def _rotated(names: list[str], by: int) -> list[str]:
    shift = by % len(names)
    return names[shift:] + names[:shift]


async def cost_growth(runners: Runners, *, turns: int, words: int) -> dict[str, Any]:
    """One `turns`-turn conversation per runner (ours on SQLite, create_agent, bare)."""
    result: dict[str, Any] = {}
    for name in ("ours", "create_agent", "bare"):
        answer = await runners.workers[name].ask({"op": "growth", "turns": turns, "words": words})
        result[name] = answer["requests"]
        log.info("growth: %s done (%d model requests)", name, answer["model_requests"])
    return result


def growth_figures(
    requests: list[dict[str, int]], *, turns: int, price_in: float, price_out: float
) -> dict[str, Any]:
    """Tokens at chosen turns (the turn's first request: the one that carries the history),
    totals and the cost estimate."""
    first_of_turn: dict[int, int] = {}
    for request in requests:
        first_of_turn.setdefault(request["turn"], request["input_tokens"])
    total_in = sum(r["input_tokens"] for r in requests)
    total_out = sum(r["output_tokens"] for r in requests)
    figures: dict[str, Any] = {
        f"tokens_turn_{n}": first_of_turn.get(n) for n in (1, 10, 30, 60) if n <= turns
    }
    figures |= {
        "tokens_total": total_in,
        "output_tokens_total": total_out,
        "model_requests": len(requests),
        "cost_usd": round(total_in / 1000 * price_in + total_out / 1000 * price_out, 4),
    }
    return figures
