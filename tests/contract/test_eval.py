"""Every shipped scenario passes against the embedded sandbox and its stand-in model.

This is how CI "runs the scenarios against the sandbox model": the real runner, the real
engine, store (a temporary SQLite database), tools and sandbox helpdesk; only the model is
the rule-based stand-in. Also: a deliberately failing scenario fails the CLI with a useful
reason and a non-zero exit code.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from adapters import cli
from adapters.channel import ChannelServices
from adapters.compose import eval_services
from adapters.eval.report import format_failures
from adapters.eval.runner import ScenarioRunner
from adapters.eval.scenarios import LoadedScenario, load_scenarios, parse_scenario
from bot.settings import Settings

SHIPPED = Path(__file__).resolve().parents[1] / "scenarios"

# Scenarios that fail because of a known bug outside the evaluation; strict, so the test
# turns red (and the entry must go) as soon as the bug is fixed.
KNOWN_BUGS: dict[str, str] = {}  # scenario name -> the bug that makes it fail, if any


def embedded_settings() -> Settings:
    """The defaults a deployer gets with nothing configured, whatever the environment says."""
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        helpdesk_base_url=None,
        openai_api_key=None,
        openai_base_url=None,
        llm_provider="openai",
    )


def shipped() -> list[object]:
    params: list[object] = []
    for loaded in load_scenarios(SHIPPED):
        name = loaded.scenario.name
        marks = (
            [pytest.mark.xfail(strict=True, reason=KNOWN_BUGS[name])] if name in KNOWN_BUGS else []
        )
        params.append(pytest.param(loaded, id=name, marks=marks))
    return params


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def services() -> AsyncIterator[ChannelServices]:
    async with eval_services(embedded_settings()) as running:
        assert running.sandbox_base_url is not None, "the embedded sandbox must run"
        yield running


@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize("loaded", shipped())
async def test_shipped_scenario_passes_with_the_stand_in_model(
    services: ChannelServices, loaded: LoadedScenario
) -> None:
    result = await ScenarioRunner(services).run(loaded)

    assert result.status == "pass", format_failures([result])
    assert result.turns_passed == len(loaded.scenario.turns)


def scenario(text: str) -> LoadedScenario:
    return LoadedScenario(parse_scenario(Path("inline.yaml"), text), Path("inline.yaml"))


@pytest.mark.asyncio(loop_scope="module")
async def test_pressing_a_button_that_was_not_shown_fails_the_turn(
    services: ChannelServices,
) -> None:
    result = await ScenarioRunner(services).run(
        scenario(
            """
name: press-missing
description: d
user: jane@acme.example
turns:
  - {say: Hi there!, expect: {no_tools: true}}
  - {press: comment_instead, expect: {writes: 1}}
"""
        )
    )
    assert result.status == "fail"
    assert result.reason == (
        "turn 2: no 'comment_instead' button was shown in the previous turn (shown: feedback)"
    )


@pytest.mark.asyncio(loop_scope="module")
async def test_a_refused_login_is_an_error_not_a_failure(services: ChannelServices) -> None:
    result = await ScenarioRunner(services).run(
        scenario(
            """
name: wrong-password
description: d
user: jane@acme.example
password: not-her-password
turns: [{say: hi, expect: {writes: 0}}]
"""
        )
    )
    assert (result.status, result.reason) == (
        "error",
        "the helpdesk refused the login of jane@acme.example",
    )


@pytest.mark.asyncio(loop_scope="module")
async def test_against_a_real_helpdesk_writes_come_from_confirmed_actions(
    services: ChannelServices,
) -> None:
    """Without the sandbox's back office: setup scenarios skip; writes are counted from the
    pending actions that ran, so confirm-before-write is still measured."""
    by_name = {loaded.scenario.name: loaded for loaded in load_scenarios(SHIPPED)}
    remote = ScenarioRunner(dataclasses.replace(services, sandbox_base_url=None))

    created = await remote.run(by_name["ticket-create-after-confirm"])
    cancelled = await remote.run(by_name["ticket-create-cancel"])
    skipped = await remote.run(by_name["injection-kb-create-ticket"])

    assert created.status == "pass", format_failures([created])
    assert [turn.seen.writes for turn in created.turns] == [0, 1]
    assert cancelled.status == "pass", format_failures([cancelled])
    assert (skipped.status, skipped.reason) == (
        "skip",
        "its setup needs the embedded sandbox (HELPDESK_BASE_URL is set)",
    )


def test_known_bugs_name_shipped_scenarios() -> None:
    names = {loaded.scenario.name for loaded in load_scenarios(SHIPPED)}
    assert set(KNOWN_BUGS) <= names
    assert len(names) >= 22


FAILING = """
name: wrong-expectations
description: Expects the wrong ticket and a write that never happens.
user: jane@acme.example
turns:
  - say: What's the status of ticket 3018?
    expect:
      tools:
        - name: get_ticket
          args: {ticket_number: 3012}
      writes: 1
"""

PASSING = """
name: greeting
description: Small talk calls no tool.
user: jane@acme.example
turns:
  - say: Hi there!
    expect: {no_tools: true, writes: 0}
"""


@pytest.fixture
def embedded_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("HELPDESK_BASE_URL", "OPENAI_API_KEY", "OPENAI_BASE_URL", "LLM_PROVIDER"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no .env from the working tree


def test_cli_reports_a_failing_scenario_and_exits_non_zero(
    tmp_path: Path, embedded_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "scenarios"
    folder.mkdir()
    (folder / "a-greeting.yaml").write_text(PASSING, encoding="utf-8")
    (folder / "b-wrong.yaml").write_text(FAILING, encoding="utf-8")
    results = tmp_path / "results.json"

    code = cli.main(["eval", str(folder), "--json", str(results)])

    out = capsys.readouterr().out
    assert code == 1
    rows = {
        line.split()[0]: line for line in out.splitlines() if line.startswith(("greeting", "wrong"))
    }
    assert " PASS " in rows["greeting"]
    assert " FAIL " in rows["wrong-expectations"]
    assert "expected a call to get_ticket with ticket_number = 3012" in out
    assert "called: get_ticket(ticket_number=3018)" in out, "the reason says what happened"
    assert "expected 1 write(s); 0 happened" in out
    assert "FAILED: 2 scenarios — 1 passed, 1 failed" in out
    saved = json.loads(results.read_text(encoding="utf-8"))
    assert saved["ok"] is False
    assert [s["status"] for s in saved["scenarios"]] == ["pass", "fail"]
    assert saved["scenarios"][1]["turns"][0]["tools"] == [
        {"name": "get_ticket", "arguments": {"ticket_number": 3018}}
    ]


def test_cli_passes_with_only_and_fails_on_bad_files(
    tmp_path: Path, embedded_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "scenarios"
    folder.mkdir()
    (folder / "a-greeting.yaml").write_text(PASSING, encoding="utf-8")
    (folder / "b-wrong.yaml").write_text(FAILING, encoding="utf-8")

    assert cli.main(["eval", str(folder), "--only", "greet*"]) == 0
    assert "OK: 1 scenarios — 1 passed" in capsys.readouterr().out
    assert cli.main(["eval", str(folder), "--only", "nothing-like-this"]) == 2

    (folder / "c-bad.yaml").write_text(PASSING.replace("no_tools", "no_tool"), encoding="utf-8")
    assert cli.main(["eval", str(folder)]) == 2
    assert "c-bad.yaml: turns[0].expect.no_tool: Extra inputs are not permitted" in (
        capsys.readouterr().err
    )
