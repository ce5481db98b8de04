"""Scenario files: the format's defaults and shorthands, and clear errors for bad files."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.eval.scenarios import (
    Contains,
    NotContains,
    OneOf,
    ScenarioError,
    load_scenarios,
    parse_scenario,
)

SHIPPED = Path(__file__).resolve().parents[1] / "scenarios"

HEAD = "name: a\ndescription: d\nuser: jane@acme.example\n"


def problems_of(text: str, name: str = "x.yaml") -> list[str]:
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(Path(name), text)
    return list(caught.value.problems)


def test_a_full_scenario_loads_with_defaults_and_shorthands() -> None:
    scenario = parse_scenario(
        Path("x.yaml"),
        HEAD
        + """
setup:
  kb_articles: [{title: T, category: C, body: B}]
turns:
  - say: Open a ticket
    expect:
      tools:
        - search_kb
        - name: create_ticket
          args:
            subject: {contains: VPN}
            description: {not_contains: password}
            priority: {one_of: [2, 3]}
            job_type: Network
      not_tools: update_ticket
      text_contains: ticket
  - say: "yes"
    expect: {writes: 1}
  - press: comment_instead
    expect: {confirm_tool: add_ticket_comment}
""",
    )

    assert scenario.login_password == "demo-jane"
    assert scenario.needs_sandbox
    assert scenario.setup.kb_articles[0].company_number == 1
    first = scenario.turns[0].expect
    assert [t.name for t in first.tools] == ["search_kb", "create_ticket"]
    assert first.tools[1].args == {
        "subject": Contains(contains="VPN"),
        "description": NotContains(not_contains="password"),
        "priority": OneOf(one_of=[2, 3]),
        "job_type": "Network",
    }
    assert first.not_tools == ["update_ticket"]
    assert first.text_contains == ["ticket"]
    assert scenario.turns[1].say == "yes", "a quoted yes stays text"
    assert scenario.turns[2].expect.expects_confirm is True, "confirm details imply a confirm"


def test_an_explicit_password_wins() -> None:
    text = HEAD + "password: s3cret\nturns: [{say: hi, expect: {writes: 0}}]\n"
    assert parse_scenario(Path("x.yaml"), text).login_password == "s3cret"


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (
            "turns: [{say: hi, expect: {toolz: [search_kb]}}]",
            "x.yaml: turns[0].expect.toolz: Extra inputs are not permitted",
        ),
        (
            "turns: [{say: hi, expect: {tools: [get_tickets]}}]",
            "x.yaml: turns[0].expect.tools[0].name: unknown tool 'get_tickets'; tools are:",
        ),
        (
            "turns: [{say: hi, expect: {not_tools: [approve]}}]",
            "x.yaml: turns[0].expect.not_tools: unknown tool 'approve'",
        ),
        (
            "turns: [{say: hi, expect: {tools: [{name: get_ticket, args: {n: {equals: 1}}}]}}]",
            "x.yaml: turns[0].expect.tools[0].args.n: an argument matcher is a plain value or "
            "one of contains:, not_contains:, one_of: (got equals)",
        ),
        (
            "turns: [{say: hi, expect: {tools: [{name: get_ticket, args: {n: [1, 2]}}]}}]",
            "x.yaml: turns[0].expect.tools[0].args.n: a list is not an argument value; "
            "use 'one_of: [...]' for choices",
        ),
        (
            "turns: [{say: hi, expect: {tools: [{name: get_ticket, args: {n: 2024-01-01}}]}}]",
            "x.yaml: turns[0].expect.tools[0].args.n: an argument value is text, a number, "
            "true/false or null (quote dates)",
        ),
        (
            "turns: [{say: hi, expect: {confirm_args: {n: {one_of: []}}}}]",
            "x.yaml: turns[0].expect.confirm_args.n: one_of needs a non-empty list of values",
        ),
        (
            "turns: [{say: hi, press: confirm, expect: {writes: 0}}]",
            "x.yaml: turns[0]: give exactly one of 'say' or 'press'",
        ),
        (
            "turns: [{press: confirm, expect: {writes: 0}}]",
            "x.yaml: turns: the first turn must 'say' something: there is no button yet",
        ),
        (
            "turns: [{say: hi, expect: {writes: 0}}, {press: approve, expect: {writes: 0}}]",
            "x.yaml: turns[1].press: Input should be 'confirm', 'cancel', 'comment_instead', "
            "'create_ticket' or 'talk_to_human'",
        ),
        (
            "turns: [{say: hi, expect: {}}]",
            "x.yaml: turns[0].expect: give at least one expectation: a turn that checks "
            "nothing can't fail",
        ),
        ("turns: [{say: hi}]", "x.yaml: turns[0].expect: Field required"),
        (
            "turns: [{say: hi, expect: {writes: -1}}]",
            "x.yaml: turns[0].expect.writes: Input should be greater than or equal to 0",
        ),
        (
            "turns: [{say: hi, expect: {confirm: false, confirm_tool: create_ticket}}]",
            "x.yaml: turns[0].expect: confirm_* details need a confirm",
        ),
        (
            "turns: [{say: hi, expect: {no_tools: true, tools: [search_kb]}}]",
            "x.yaml: turns[0].expect: 'no_tools: true' and 'tools' contradict each other",
        ),
        (
            "setup: {kb_articles: [{title: T, body: B}]}\nturns: [{say: hi, expect: {writes: 0}}]",
            "x.yaml: setup.kb_articles[0].category: Field required",
        ),
        ("turns: []", "x.yaml: turns: List should have at least 1 item"),
    ],
)
def test_bad_files_name_the_file_and_the_field(body: str, problem: str) -> None:
    problems = problems_of(HEAD + body)
    assert any(p.startswith(problem) for p in problems), problems


def test_several_problems_are_reported_together() -> None:
    problems = problems_of("name: Bad Name\ndescription: d\nuser: jane\nturns: []\n")
    assert problems == [
        "x.yaml: name: use lower-case letters, digits, '.', '_' and '-' only",
        "x.yaml: user: the helpdesk account's email, e.g. jane@acme.example",
        "x.yaml: turns: List should have at least 1 item after validation, not 0",
    ]


def test_invalid_yaml_says_where() -> None:
    assert problems_of("name: a\ndescription: [d\nuser: x\n") == [
        "x.yaml: not valid YAML (line 3, column 5): expected ',' or ']', but got ':'"
    ]


def test_a_file_must_hold_one_mapping() -> None:
    assert problems_of("- name: a\n") == [
        "x.yaml: a scenario file holds one mapping (name, user, turns…)"
    ]


def test_the_loader_reports_every_bad_file_and_duplicate_names(tmp_path: Path) -> None:
    good = HEAD + "turns: [{say: hi, expect: {writes: 0}}]\n"
    (tmp_path / "a.yaml").write_text(good, encoding="utf-8")
    (tmp_path / "b.yml").write_text(good, encoding="utf-8")
    (tmp_path / "c.yaml").write_text(good.replace("writes", "wrote"), encoding="utf-8")
    (tmp_path / "README.md").write_text("not a scenario", encoding="utf-8")

    with pytest.raises(ScenarioError) as caught:
        load_scenarios(tmp_path)

    assert caught.value.problems == (
        f"{tmp_path / 'b.yml'}: name: 'a' is also used by {tmp_path / 'a.yaml'}",
        f"{tmp_path / 'c.yaml'}: turns[0].expect.wrote: Extra inputs are not permitted",
    )


def test_an_empty_or_missing_folder_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="no scenario files"):
        load_scenarios(tmp_path)
    with pytest.raises(ScenarioError, match="not a directory"):
        load_scenarios(tmp_path / "missing")


def test_the_shipped_scenarios_load_and_cover_the_brief() -> None:
    loaded = load_scenarios(SHIPPED)
    names = {item.scenario.name for item in loaded}

    assert len(loaded) >= 22
    assert {p.stem for p in SHIPPED.glob("*.yaml")} == names, "file name = scenario name"
    assert sum(name.startswith("injection-") for name in names) >= 4
    assert sum(name.startswith(("permission-", "tenant-")) for name in names) >= 4
    readme = (SHIPPED / "README.md").read_text(encoding="utf-8")
    assert all(f"`{name}`" in readme for name in names), "every scenario is listed"
