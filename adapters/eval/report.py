"""An evaluation's results as a terminal table, totals, failure details and JSON (pure).

Kept apart from the runner so the output can be tested without running anything.
"""

from __future__ import annotations

from typing import Any

from adapters.eval.runner import EvalReport, ScenarioResult, Status

LABELS: dict[Status, str] = {"pass": "PASS", "fail": "FAIL", "skip": "SKIP", "error": "ERROR"}
REASON_CHARS = 90


def _clip(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def format_table(results: tuple[ScenarioResult, ...] | list[ScenarioResult]) -> str:
    """One row per scenario: name, turns passed, result, time and (if not passed) why."""
    width = max([len("scenario"), *(len(r.name) for r in results)])
    lines = [f"{'scenario':<{width}}  turns  result   time  reason"]
    lines.append("-" * len(lines[0]))
    for r in results:
        turns = f"{r.turns_passed}/{r.turns_total}" if r.status != "skip" else "-"
        took = f"{r.duration_s:.1f}s" if r.status != "skip" else "-"
        reason = _clip(r.reason, REASON_CHARS) if r.status != "pass" else ""
        row = f"{r.name:<{width}}  {turns:>5}  {LABELS[r.status]:<6} {took:>6}  {reason}"
        lines.append(row.rstrip())
    return "\n".join(lines)


def format_failures(results: tuple[ScenarioResult, ...] | list[ScenarioResult]) -> str:
    """Every problem of every failed or errored scenario, by turn; empty when none."""
    blocks = []
    for r in results:
        if r.status not in ("fail", "error"):
            continue
        lines = [f"{LABELS[r.status]} {r.name} ({r.path})"]
        failed_turn = next((t for t in r.turns if t.problems), None)
        if failed_turn is None:
            lines.append(f"  {r.reason}")
        else:
            lines.append(f"  turn {failed_turn.index} ({_clip(failed_turn.label, 70)}):")
            lines += [f"    - {problem}" for problem in failed_turn.problems]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def format_totals(report: EvalReport) -> str:
    words: tuple[tuple[Status, str], ...] = (
        ("pass", "passed"),
        ("fail", "failed"),
        ("error", "errors"),
        ("skip", "skipped"),
    )
    counts = ", ".join(f"{report.count(status)} {word}" for status, word in words)
    verdict = "OK" if report.ok else "FAILED"
    return (
        f"{verdict}: {len(report.results)} scenarios — {counts} in {report.duration_s:.1f}s "
        f"(model {report.model}, helpdesk {report.helpdesk})"
    )


def format_report(report: EvalReport) -> str:
    """The whole printout: table, failure details (if any), totals."""
    parts = [format_table(report.results)]
    failures = format_failures(report.results)
    if failures:
        parts.append(failures)
    parts.append(format_totals(report))
    return "\n\n".join(parts)


def report_json(report: EvalReport) -> dict[str, Any]:
    """Machine-readable results (what `--json PATH` writes)."""
    return {
        "model": report.model,
        "helpdesk": report.helpdesk,
        "ok": report.ok,
        "duration_s": round(report.duration_s, 3),
        "totals": {status: report.count(status) for status in LABELS},
        "scenarios": [
            {
                "name": r.name,
                "path": r.path,
                "status": r.status,
                "reason": r.reason,
                "duration_s": round(r.duration_s, 3),
                "turns_passed": r.turns_passed,
                "turns_total": r.turns_total,
                "turns": [
                    {
                        "index": t.index,
                        "input": t.label,
                        "passed": not t.problems,
                        "problems": list(t.problems),
                        "tools": [
                            {"name": c.name, "arguments": dict(c.arguments)} for c in t.seen.tools
                        ],
                        "confirms": [
                            {"title": c.title, "tool": c.tool, "notices": list(c.notices)}
                            for c in t.seen.confirms
                        ],
                        "handoff": t.seen.handoff,
                        "sources": t.seen.sources,
                        "writes": t.seen.writes,
                        "text": _clip(t.seen.text, 500),
                    }
                    for t in r.turns
                ],
            }
            for r in report.results
        ],
    }


def exit_code(report: EvalReport) -> int:
    """0 when every scenario that ran passed; 1 otherwise (CI gates on it)."""
    return 0 if report.ok else 1
