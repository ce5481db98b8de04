"""The evaluation printout: table, failure details, totals, JSON and the exit code."""

from __future__ import annotations

import json

from adapters.eval.expectations import CalledTool, Observation, ShownConfirm
from adapters.eval.report import (
    exit_code,
    format_failures,
    format_report,
    format_table,
    format_totals,
    report_json,
)
from adapters.eval.runner import EvalReport, ScenarioResult, TurnResult

PASSED = ScenarioResult(
    "kb-vpn-howto",
    "tests/scenarios/kb-vpn-howto.yaml",
    "pass",
    turns_total=1,
    turns_passed=1,
    duration_s=0.24,
    turns=(
        TurnResult(
            1,
            "say 'How do I set up the VPN?'",
            (),
            Observation(
                tools=(CalledTool("search_kb", {"query": "vpn"}),), text="From…", sources=1
            ),
        ),
    ),
)
FAILED = ScenarioResult(
    "ticket-create-after-confirm",
    "tests/scenarios/ticket-create-after-confirm.yaml",
    "fail",
    turns_total=2,
    turns_passed=1,
    duration_s=1.04,
    reason="turn 2: expected 1 write(s); 0 happened " + "and a very long tail " * 10,
    turns=(
        TurnResult(
            1,
            "say 'open a ticket'",
            (),
            Observation(confirms=(ShownConfirm("Create a ticket", ("VPN is degraded",)),)),
        ),
        TurnResult(
            2,
            "say 'yes'",
            ("expected 1 write(s); 0 happened", "reply lacks 'created'"),
            Observation(text="Cancelled"),
        ),
    ),
)
SKIPPED = ScenarioResult(
    "injection-kb-approve",
    "tests/scenarios/injection-kb-approve.yaml",
    "skip",
    turns_total=1,
    reason="its setup needs the embedded sandbox (HELPDESK_BASE_URL is set)",
)
ERRORED = ScenarioResult(
    "assets-mine",
    "x.yaml",
    "error",
    turns_total=1,
    duration_s=0.1,
    reason="the helpdesk refused the login of jane@acme.example",
)


def report(*results: ScenarioResult) -> EvalReport:
    return EvalReport(
        model="sandbox-stand-in", helpdesk="embedded sandbox", results=results, duration_s=3.14
    )


def test_the_table_has_one_aligned_row_per_scenario() -> None:
    table = format_table([PASSED, FAILED, SKIPPED]).splitlines()

    assert table[0] == "scenario                     turns  result   time  reason"
    assert set(table[1]) == {"-"}
    assert table[2] == "kb-vpn-howto                   1/1  PASS     0.2s"
    assert table[3].startswith(
        "ticket-create-after-confirm    1/2  FAIL     1.0s  turn 2: expected 1 write(s); 0 happened"
    )
    assert table[3].endswith("…") and len(table[3]) <= 52 + 90, "long reasons are clipped"
    assert table[4] == (
        "injection-kb-approve             -  SKIP        -  "
        "its setup needs the embedded sandbox (HELPDESK_BASE_URL is set)"
    )


def test_failures_list_every_problem_of_the_failing_turn() -> None:
    assert format_failures([PASSED, FAILED, ERRORED, SKIPPED]) == (
        "FAIL ticket-create-after-confirm (tests/scenarios/ticket-create-after-confirm.yaml)\n"
        "  turn 2 (say 'yes'):\n"
        "    - expected 1 write(s); 0 happened\n"
        "    - reply lacks 'created'\n"
        "\n"
        "ERROR assets-mine (x.yaml)\n"
        "  the helpdesk refused the login of jane@acme.example"
    )
    assert format_failures([PASSED, SKIPPED]) == ""


def test_totals_and_exit_code() -> None:
    good = report(PASSED, SKIPPED)
    bad = report(PASSED, FAILED, SKIPPED)
    broken = report(PASSED, ERRORED)

    assert format_totals(good) == (
        "OK: 2 scenarios — 1 passed, 0 failed, 0 errors, 1 skipped in 3.1s "
        "(model sandbox-stand-in, helpdesk embedded sandbox)"
    )
    assert format_totals(bad).startswith("FAILED: 3 scenarios — 1 passed, 1 failed, 0 errors")
    assert (exit_code(good), exit_code(bad), exit_code(broken)) == (0, 1, 1)


def test_the_report_is_table_failures_totals() -> None:
    text = format_report(report(PASSED, FAILED))
    table, failures, totals = text.split("\n\n")
    assert table == format_table([PASSED, FAILED])
    assert failures.startswith("FAIL ticket-create-after-confirm")
    assert totals.startswith("FAILED:")
    assert format_report(report(PASSED)).count("\n\n") == 1, "no failure section when all pass"


def test_json_results() -> None:
    data = json.loads(json.dumps(report_json(report(PASSED, FAILED, SKIPPED))))

    assert data["ok"] is False
    assert data["totals"] == {"pass": 1, "fail": 1, "skip": 1, "error": 0}
    first, second, third = data["scenarios"]
    assert first["turns"][0]["tools"] == [{"name": "search_kb", "arguments": {"query": "vpn"}}]
    assert first["turns"][0]["sources"] == 1
    assert second["status"] == "fail"
    assert second["turns"][0]["confirms"] == [
        {"title": "Create a ticket", "tool": None, "notices": ["VPN is degraded"]}
    ]
    assert second["turns"][1]["problems"] == [
        "expected 1 write(s); 0 happened",
        "reply lacks 'created'",
    ]
    assert third == {
        "name": "injection-kb-approve",
        "path": "tests/scenarios/injection-kb-approve.yaml",
        "status": "skip",
        "reason": "its setup needs the embedded sandbox (HELPDESK_BASE_URL is set)",
        "duration_s": 0.0,
        "turns_passed": 0,
        "turns_total": 1,
        "turns": [],
    }
