"""The benchmark harness cannot rot silently: its arithmetic, its token counts, the shape of
results.json, and its meter on the real wire (a bare-loop worker against the bench servers)."""

from __future__ import annotations

import json
import math
from pathlib import Path

from bench.fake_model import estimate_output_tokens, estimate_tokens
from bench.meter import percentile
from bench.overhead import Measured, growth_figures
from bench.processes import Worker
from bench.report import REQUIRED_KEYS, build_results, missing_keys
from bench.servers import ServerProcess
from bench.table import render_markdown
from bench.workload import Offered


def test_percentile_interpolates_between_closest_ranks() -> None:
    values = [float(v) for v in range(1, 101)]  # 1..100
    assert percentile(values, 50) == 50.5
    assert percentile(values, 99) == 99.01
    assert percentile(values, 0) == 1.0 and percentile(values, 100) == 100.0
    assert percentile([7.0], 99) == 7.0
    assert percentile([3.0, 1.0, 2.0], 50) == 2.0  # order of the input does not matter
    assert math.isnan(percentile([], 50))


def test_input_tokens_count_texts_tool_call_arguments_and_tool_schemas() -> None:
    tools = [{"type": "function", "function": {"name": "search_kb", "parameters": {}}}]
    body = {
        "messages": [
            {"role": "system", "content": "s" * 40},
            {"role": "user", "content": [{"type": "text", "text": "u" * 20}]},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [{"function": {"name": "search_kb", "arguments": '{"q":"x"}'}}],
            },
        ],
        "tools": tools,
    }
    expected = (40 + 20 + len("search_kb") + len('{"q":"x"}') + len(json.dumps(tools))) // 4
    assert estimate_tokens(body) == expected


def test_output_tokens_are_read_from_a_stream_and_from_a_json_body() -> None:
    def event(delta: dict[str, object]) -> str:
        return "data: " + json.dumps({"choices": [{"index": 0, "delta": delta}]}) + "\n\n"

    stream = (
        event({"role": "assistant", "content": "a" * 30})
        + event({"content": "b" * 10})
        + event({"tool_calls": [{"index": 0, "function": {"name": "abcd", "arguments": "{}"}}]})
        + "data: [DONE]\n\n"
    )
    assert estimate_output_tokens(stream.encode()) == (30 + 10 + 4 + 2) // 4
    whole = {"choices": [{"message": {"role": "assistant", "content": "c" * 48}}]}
    assert estimate_output_tokens(json.dumps(whole).encode()) == 12


def test_turn_figures_subtract_model_time_and_average_the_counts() -> None:
    measured = Measured()
    turns = [
        {"wall_ms": 30.0 + i, "model_ms": 10.0, "model_requests": 2, "helpdesk_calls": 3,
         "db_statements": 10 + i}
        for i in range(100)
    ]  # fmt: skip
    measured.add({"turns": turns, "wall_s": 4.0, "cpu_s": 2.0, "peak_rss_mb": 120.0})
    figures = measured.figures()
    assert figures["overhead_p50_ms"] == 69.5  # (20..119), median 69.5
    assert figures["overhead_p99_ms"] == 118.01
    assert figures["turns_per_s"] == 25.0
    assert figures["cpu_ms_per_turn"] == 20.0
    assert figures["helpdesk_calls_per_turn"] == 3.0
    assert figures["db_statements_per_turn"] == 59.5


def test_growth_takes_each_turns_first_request_and_prices_the_whole_conversation() -> None:
    requests = [
        {"turn": 1, "input_tokens": 100, "output_tokens": 10},
        {"turn": 1, "input_tokens": 150, "output_tokens": 20},
        {"turn": 10, "input_tokens": 900, "output_tokens": 30},
        {"turn": 10, "input_tokens": 50, "output_tokens": 5},  # e.g. a summary request
    ]
    figures = growth_figures(requests, turns=10, price_in=1.0, price_out=2.0)
    assert figures["tokens_turn_1"] == 100 and figures["tokens_turn_10"] == 900
    assert figures["tokens_total"] == 1200 and figures["model_requests"] == 4
    assert figures["cost_usd"] == 1.2 + 0.13  # 1200/1k × 1.0 + 65/1k × 2.0


def _sections() -> dict[str, object]:
    turn = {
        "overhead_p50_ms": 10.0, "overhead_p99_ms": 30.0, "turns_per_s": 20.0,
        "cpu_ms_per_turn": 12.0, "model_calls_per_turn": 2.0, "helpdesk_calls_per_turn": 4.0,
        "db_statements_per_turn": 20.0, "peak_rss_mb": 100.0, "turns": 10, "model_ms_p50": 1.0,
    }  # fmt: skip
    growth = {
        "tokens_turn_1": 10, "tokens_turn_10": 20, "tokens_turn_30": 30, "tokens_turn_60": 30,
        "tokens_total": 900, "output_tokens_total": 9, "model_requests": 60, "cost_usd": 0.1,
    }  # fmt: skip
    return {
        "overhead": {name: {"1": turn, "200": turn} for name in ("ours", "create_agent", "bare")},
        "growth": {"ours": growth, "create_agent": growth | {"tokens_turn_60": 100}},
        "slack": {"ack_p50_ms": 5.0, "ack_p99_ms": 50.0, "events": 2, "events_with_one_reply": 2},
        "relay": {"latency_p50_s": 0.5, "latency_p95_s": 1.0},
        "widget": {"sockets": 10, "rss_per_socket_kb": 20.0},
    }


def test_results_hold_every_key_other_tools_read_and_judge_each_target() -> None:
    meta = {"date": "d", "machine": "m", "mode": "quick", "quick": True, "duration_s": 1.0,
            "load_before": "1", "load_after": "1", "notes": [],
            **{k: k for k in ("overhead", "growth", "slack", "relay", "widget")}}  # fmt: skip
    results = build_results(_sections(), meta)
    assert missing_keys(results) == []
    met = {t["target"]: t["met"] for t in results["targets"]}
    assert met["≤ 3 helpdesk calls per simple turn"] is False  # 4 per turn
    assert met["Slack ack p99 ≤ 100 ms"] is True
    assert met["input tokens at turn 60 under half the baseline's"] is True  # 30 < 50
    assert met["total input tokens over 60 turns under half the baseline's"] is False
    assert met["no polls for conversations the bot owns"] is None  # not measured
    table = render_markdown(results)
    assert "| ≤ 3 helpdesk calls per simple turn | helpdesk_calls_per_turn = 4 | **missed** |" in (
        table
    )
    empty = build_results({}, meta)  # nothing ran: still every key, as None
    assert missing_keys(empty) == [] and all(empty[k] is None for k in REQUIRED_KEYS)


SEARCH_KB = {
    "type": "function",
    "function": {
        "name": "search_kb",
        "description": "Search the knowledge base.",
        "parameters": {"type": "object", "properties": {"query": {"type": "string"}}},
    },
}


async def test_the_meter_counts_a_bare_loop_turn_on_the_wire(tmp_path: Path) -> None:
    """One search_kb call then an answer: two model requests, one helpdesk call, no DB."""
    with ServerProcess() as servers:
        assert servers.urls is not None
        offered = tmp_path / "offered.json"
        offered.write_text(json.dumps(Offered(system="You help.", tools=[SEARCH_KB]).__dict__))
        async with Worker("bare", servers.urls, offered=offered) as bare:
            answer = await bare.ask(
                {"op": "batch", "prefix": "t", "conversations": 2, "first": 0, "turns": 2}
            )
    assert len(answer["turns"]) == 4
    for turn in answer["turns"]:
        assert turn["model_requests"] == 2
        assert turn["helpdesk_calls"] == 1
        assert turn["db_statements"] == 0
        assert 0 < turn["model_ms"] <= turn["wall_ms"]
