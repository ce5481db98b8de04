"""The results: the flat keys other tools read, the targets beside them, the table, the chart.

`build_results(sections, meta)` turns what the sections measured into `results.json`'s
shape (every key in `REQUIRED_KEYS` present, None where a section did not run);
`render_markdown` prints the table (targets: met / missed, never asserted); `plot_tokens`
draws input tokens per model request against the turn number, ours and create_agent.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REQUIRED_KEYS = (
    "overhead_p50_ms",
    "overhead_p99_ms",
    "baseline_overhead_p99_ms",
    "bare_overhead_p99_ms",
    "turns_per_s",
    "helpdesk_calls_per_turn",
    "db_statements_per_turn",
    "peak_rss_mb",
    "tokens_turn_1",
    "tokens_turn_10",
    "tokens_turn_30",
    "tokens_turn_60",
    "baseline_tokens_turn_60",
    "slack_ack_p50_ms",
    "slack_ack_p99_ms",
    "relay_p50_s",
    "relay_p95_s",
    "relay_polls_per_min",
    "widget_sockets",
    "widget_rss_per_socket_kb",
    "tokens_total_60",
    "baseline_tokens_total_60",
    "model_requests_60",
)


def _at(data: Any, *path: str | int) -> Any:
    """data[path[0]][path[1]]..., or None as soon as a step is missing."""
    for step in path:
        if not isinstance(data, dict):
            return None
        data = data.get(step if isinstance(step, str) else str(step))
    return data


def flat_figures(sections: dict[str, Any]) -> dict[str, Any]:
    """The flat keys: overhead figures at the highest concurrency measured."""
    overhead = sections.get("overhead") or {}
    top = str(max((int(c) for c in overhead.get("ours") or {}), default=0))
    growth = sections.get("growth") or {}
    ours, base = growth.get("ours") or {}, growth.get("create_agent") or {}
    slack, relay, widget = (sections.get(k) or {} for k in ("slack", "relay", "widget"))
    return {
        "overhead_concurrency": int(top) or None,
        "overhead_p50_ms": _at(overhead, "ours", top, "overhead_p50_ms"),
        "overhead_p99_ms": _at(overhead, "ours", top, "overhead_p99_ms"),
        "baseline_overhead_p99_ms": _at(overhead, "create_agent", top, "overhead_p99_ms"),
        "bare_overhead_p99_ms": _at(overhead, "bare", top, "overhead_p99_ms"),
        "postgres_overhead_p99_ms": _at(overhead, "ours_postgres", top, "overhead_p99_ms"),
        "turns_per_s": _at(overhead, "ours", top, "turns_per_s"),
        "baseline_turns_per_s": _at(overhead, "create_agent", top, "turns_per_s"),
        "cpu_ms_per_turn": _at(overhead, "ours", top, "cpu_ms_per_turn"),
        "baseline_cpu_ms_per_turn": _at(overhead, "create_agent", top, "cpu_ms_per_turn"),
        "bare_cpu_ms_per_turn": _at(overhead, "bare", top, "cpu_ms_per_turn"),
        "helpdesk_calls_per_turn": _at(overhead, "ours", top, "helpdesk_calls_per_turn"),
        "model_calls_per_turn": _at(overhead, "ours", top, "model_calls_per_turn"),
        "db_statements_per_turn": _at(overhead, "ours", top, "db_statements_per_turn"),
        "postgres_db_statements_per_turn": _at(
            overhead, "ours_postgres", top, "db_statements_per_turn"
        ),
        "peak_rss_mb": _at(overhead, "ours", top, "peak_rss_mb"),
        "baseline_peak_rss_mb": _at(overhead, "create_agent", top, "peak_rss_mb"),
        **{f"tokens_turn_{n}": ours.get(f"tokens_turn_{n}") for n in (1, 10, 30, 60)},
        "baseline_tokens_turn_1": base.get("tokens_turn_1"),
        "baseline_tokens_turn_60": base.get("tokens_turn_60"),
        "tokens_total_60": ours.get("tokens_total"),
        "baseline_tokens_total_60": base.get("tokens_total"),
        "model_requests_60": ours.get("model_requests"),
        "baseline_model_requests_60": base.get("model_requests"),
        "cost_per_conversation_usd": ours.get("cost_usd"),
        "baseline_cost_per_conversation_usd": base.get("cost_usd"),
        "slack_ack_p50_ms": slack.get("ack_p50_ms"),
        "slack_ack_p99_ms": slack.get("ack_p99_ms"),
        "slack_ack_floor_p99_ms": slack.get("floor_ack_p99_ms"),
        "slack_events_answered_once": slack.get("events_with_one_reply"),
        "slack_events": slack.get("events"),
        "relay_p50_s": relay.get("latency_p50_s"),
        "relay_p95_s": relay.get("latency_p95_s"),
        "relay_polls_per_min": relay.get("polls_per_min_per_handed_off_chat"),
        "relay_polls_per_min_idle": relay.get("polls_per_min_per_idle_conversation"),
        "widget_sockets": widget.get("sockets"),
        "widget_rss_per_socket_kb": widget.get("rss_per_socket_kb"),
        "widget_message_p99_ms": widget.get("message_p99_ms"),
        "widget_idle_cpu_percent": widget.get("idle_cpu_percent_with_sockets"),
    }


@dataclass(frozen=True)
class Target:
    name: str  # as the issue states it
    shown: str  # the figure(s) it is judged on
    check: Callable[[dict[str, Any]], bool]


def _lt(a: str, b: str, factor: float = 1.0) -> Callable[[dict[str, Any]], bool]:
    return lambda f: f[a] < factor * f[b]


TARGETS = (
    Target(
        "overhead p99 ≤ 20 ms at 200 conversations",
        "overhead_p99_ms / overhead_concurrency",
        lambda f: f["overhead_p99_ms"] <= 20 and f["overhead_concurrency"] >= 200,
    ),
    Target(
        "overhead p99 below create_agent's",
        "overhead_p99_ms / baseline_overhead_p99_ms",
        _lt("overhead_p99_ms", "baseline_overhead_p99_ms"),
    ),
    Target(
        "CPU per turn below create_agent's",
        "cpu_ms_per_turn / baseline_cpu_ms_per_turn",
        _lt("cpu_ms_per_turn", "baseline_cpu_ms_per_turn"),
    ),
    Target(
        "≤ 3 helpdesk calls per simple turn",
        "helpdesk_calls_per_turn",
        lambda f: f["helpdesk_calls_per_turn"] <= 3,
    ),
    Target(
        "input tokens flat after the budget (turn 60 ≤ 1.1 × turn 30)",
        "tokens_turn_30 / tokens_turn_60",
        lambda f: f["tokens_turn_60"] <= 1.1 * f["tokens_turn_30"],
    ),
    Target(
        "input tokens at turn 60 under half the baseline's",
        "tokens_turn_60 / baseline_tokens_turn_60",
        _lt("tokens_turn_60", "baseline_tokens_turn_60", 0.5),
    ),
    Target(
        "total input tokens over 60 turns under half the baseline's",
        "tokens_total_60 / baseline_tokens_total_60",
        _lt("tokens_total_60", "baseline_tokens_total_60", 0.5),
    ),
    Target(
        "Slack ack p99 ≤ 100 ms",
        "slack_ack_p99_ms",
        lambda f: f["slack_ack_p99_ms"] <= 100,
    ),
    Target(
        "every Slack event answered exactly once",
        "slack_events_answered_once / slack_events",
        lambda f: f["slack_events_answered_once"] == f["slack_events"],
    ),
    Target("relay p95 ≤ 2 s", "relay_p95_s", lambda f: f["relay_p95_s"] <= 2),
    Target(
        "no polls for conversations the bot owns",
        "relay_polls_per_min_idle",
        lambda f: f["relay_polls_per_min_idle"] == 0,
    ),
    Target(
        "≤ 50 KB per idle widget socket",
        "widget_rss_per_socket_kb",
        lambda f: f["widget_rss_per_socket_kb"] <= 50,
    ),
)


def judge(figures: dict[str, Any]) -> list[dict[str, Any]]:
    """Each target with its figures and met: True / False, or None when not measured."""
    judged = []
    for target in TARGETS:
        keys = [k.strip() for k in target.shown.split("/")]
        values = [figures.get(k) for k in keys]
        met = None if None in values else bool(target.check(figures))
        judged.append(
            {"target": target.name, "figures": dict(zip(keys, values, strict=True)), "met": met}
        )
    return judged


def build_results(sections: dict[str, Any], meta: dict[str, Any]) -> dict[str, Any]:
    figures = flat_figures(sections)
    return {**figures, "targets": judge(figures), "meta": meta, "sections": sections}


def missing_keys(results: dict[str, Any]) -> list[str]:
    return [key for key in REQUIRED_KEYS if key not in results]


def plot_tokens(growth: dict[str, Any], path: Path) -> bool:
    """Input tokens per model request against the turn number; False without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    figure, axes = plt.subplots(figsize=(8, 4.5), dpi=120)
    series = (
        ("create_agent", True, "LangChain create_agent", "s", "tab:orange"),
        ("ours", True, "ours", "o", "tab:blue"),
        ("ours", False, "ours, requests without tools (the rolling summary)", "x", "tab:green"),
    )
    for name, with_tools, label, marker, colour in series:
        points = [r for r in growth.get(name) or [] if r.get("with_tools", True) == with_tools]
        if points:
            axes.scatter(
                [r["turn"] for r in points],
                [r["input_tokens"] for r in points],
                s=12, marker=marker, color=colour, label=label,
            )  # fmt: skip
    axes.set_xlabel("turn number")
    axes.set_ylabel("input tokens of the request (estimated)")
    axes.set_title("Input tokens of every model request over one 60-turn conversation")
    axes.grid(alpha=0.3)
    axes.legend()
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
    return True
