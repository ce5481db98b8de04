"""Evaluation scenarios: the YAML format as pydantic models, and the loader that reads a folder.

One scenario per `*.yaml` / `*.yml` file; the format is documented in
`tests/scenarios/README.md`. Every model forbids unknown fields, and a bad file is reported
as `file: field.path: what is wrong`, so a typo in an expectation never silently passes.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, Self

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from tools import all_tools

TOOL_NAMES: frozenset[str] = frozenset(spec.name for spec in all_tools())
Pressable = Literal["confirm", "cancel", "comment_instead", "create_ticket", "talk_to_human"]
Scalar = str | int | float | bool | None


class ScenarioError(Exception):
    """Scenario files that cannot be used; `problems` lists one line per problem."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = tuple(problems)


def _listed(value: Any) -> Any:
    """A single string where a list is expected is a list of one."""
    return [value] if isinstance(value, str) else value


Texts = Annotated[list[Annotated[str, Field(min_length=1)]], BeforeValidator(_listed)]


def _tool_name(name: str) -> str:
    if name not in TOOL_NAMES:
        raise ValueError(f"unknown tool {name!r}; tools are: {', '.join(sorted(TOOL_NAMES))}")
    return name


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Contains(_Strict):
    """The argument, as text, contains this (any case)."""

    contains: str = Field(min_length=1)


class NotContains(_Strict):
    """The argument, as text, does not contain this (any case); a missing argument passes."""

    not_contains: str = Field(min_length=1)


class OneOf(_Strict):
    """The argument equals one of these (strings in any case)."""

    one_of: list[Scalar] = Field(min_length=1)


_OPERATORS: dict[str, type[Contains | NotContains | OneOf]] = {
    "contains": Contains,
    "not_contains": NotContains,
    "one_of": OneOf,
}


def _matcher(value: Any) -> Any:
    """Turn an operator mapping into its model, with a clear error for anything else."""
    if isinstance(value, dict):
        if len(value) != 1 or next(iter(value)) not in _OPERATORS:
            keys = ", ".join(map(str, value)) or "nothing"
            raise ValueError(
                f"an argument matcher is a plain value or one of contains:, not_contains:, "
                f"one_of: (got {keys})"
            )
        [(key, operand)] = value.items()
        if key == "one_of":
            if not isinstance(operand, list) or not operand:
                raise ValueError("one_of needs a non-empty list of values")
            if not all(item is None or isinstance(item, str | int | float) for item in operand):
                raise ValueError("one_of lists plain values (text, numbers, true/false)")
        elif not isinstance(operand, str) or not operand:
            raise ValueError(f"{key} needs a non-empty text")
        return _OPERATORS[key](**{key: operand})
    if isinstance(value, list):
        raise ValueError("a list is not an argument value; use 'one_of: [...]' for choices")
    if value is not None and not isinstance(value, str | int | float | _Strict):
        raise ValueError("an argument value is text, a number, true/false or null (quote dates)")
    return value


ArgMatcher = Annotated[Contains | NotContains | OneOf | Scalar, BeforeValidator(_matcher)]


class ToolExpectation(_Strict):
    """A call of tool `name` whose arguments include `args` (see `adapters.eval.runner`)."""

    name: str
    args: dict[str, ArgMatcher] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _bare_name(cls, data: Any) -> Any:
        """`- search_kb` is short for `- name: search_kb`."""
        return {"name": data} if isinstance(data, str) else data

    @field_validator("name")
    @classmethod
    def _known(cls, name: str) -> str:
        return _tool_name(name)


class Expect(_Strict):
    """What must be true after one turn; a field left out is not checked."""

    tools: list[ToolExpectation] = Field(default_factory=list)
    not_tools: Annotated[list[str], BeforeValidator(_listed)] = Field(default_factory=list)
    no_tools: bool = False
    confirm: bool | None = None
    confirm_title_contains: str | None = None
    confirm_notice_contains: Texts = Field(default_factory=list)
    confirm_tool: str | None = None
    confirm_args: dict[str, ArgMatcher] = Field(default_factory=dict)
    handoff: bool | None = None
    text_contains: Texts = Field(default_factory=list)
    text_contains_any: Texts = Field(default_factory=list)
    text_not_contains: Texts = Field(default_factory=list)
    sources: bool | None = None
    writes: int | None = Field(default=None, ge=0)

    @field_validator("not_tools")
    @classmethod
    def _known_tools(cls, names: list[str]) -> list[str]:
        return [_tool_name(name) for name in names]

    @field_validator("confirm_tool")
    @classmethod
    def _known_tool(cls, name: str | None) -> str | None:
        return _tool_name(name) if name is not None else None

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        confirm_details = (
            self.confirm_title_contains
            or self.confirm_notice_contains
            or self.confirm_tool
            or self.confirm_args
        )
        if confirm_details and self.confirm is False:
            raise ValueError("confirm_* details need a confirm: leave out 'confirm: false'")
        if self.no_tools and self.tools:
            raise ValueError("'no_tools: true' and 'tools' contradict each other")
        if not self.checks_something:
            raise ValueError("give at least one expectation: a turn that checks nothing can't fail")
        return self

    @property
    def checks_something(self) -> bool:
        flags = (self.confirm, self.handoff, self.sources, self.writes)
        return bool(
            self.tools
            or self.not_tools
            or self.no_tools
            or any(flag is not None for flag in flags)
            or self.confirm_title_contains
            or self.confirm_notice_contains
            or self.confirm_tool
            or self.confirm_args
            or self.text_contains
            or self.text_contains_any
            or self.text_not_contains
        )

    @property
    def expects_confirm(self) -> bool | None:
        details = self.confirm_title_contains or self.confirm_notice_contains
        if self.confirm is None and (details or self.confirm_tool or self.confirm_args):
            return True
        return self.confirm


class Turn(_Strict):
    """One user step: `say` a message or `press` a button shown in the previous turn."""

    say: str | None = Field(default=None, min_length=1)
    press: Pressable | None = None
    expect: Expect

    @model_validator(mode="after")
    def _one_input(self) -> Self:
        if (self.say is None) == (self.press is None):
            raise ValueError("give exactly one of 'say' or 'press'")
        return self

    @property
    def label(self) -> str:
        return f"press {self.press}" if self.press else f"say {self.say!r}"


class KbArticle(_Strict):
    """An article added through the sandbox back office before the scenario starts."""

    company_number: int = Field(default=1, ge=1, description="1 = Acme, 2 = Globex")
    title: str = Field(min_length=1)
    category: str = Field(min_length=1)
    body: str = Field(min_length=1)
    summary: str | None = None
    tags: list[str] = Field(default_factory=list)


class Outage(_Strict):
    """An outage reported through the sandbox back office before the scenario starts."""

    company_number: int = Field(default=1, ge=1)
    service: str = Field(min_length=1)
    status: Literal["degraded", "outage", "maintenance"] = "degraded"
    title: str | None = None
    message: str | None = None
    site_name: str | None = None


class Setup(_Strict):
    """Sandbox data a scenario needs; only possible when the embedded sandbox runs."""

    kb_articles: list[KbArticle] = Field(default_factory=list)
    outages: list[Outage] = Field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.kb_articles or self.outages)


_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class Scenario(_Strict):
    name: str = Field(min_length=1, max_length=80)
    description: str = Field(min_length=1)
    user: str = Field(description="the helpdesk account's email")
    password: str | None = Field(default=None, min_length=1)
    setup: Setup = Field(default_factory=Setup)
    forbidden_writes: bool = False
    turns: list[Turn] = Field(min_length=1)

    @field_validator("name")
    @classmethod
    def _slug(cls, name: str) -> str:
        if not _NAME.match(name):
            raise ValueError("use lower-case letters, digits, '.', '_' and '-' only")
        return name

    @field_validator("user")
    @classmethod
    def _email(cls, user: str) -> str:
        if not _EMAIL.match(user):
            raise ValueError("the helpdesk account's email, e.g. jane@acme.example")
        return user

    @field_validator("turns")
    @classmethod
    def _starts_by_saying(cls, turns: list[Turn]) -> list[Turn]:
        if turns and turns[0].press is not None:
            raise ValueError("the first turn must 'say' something: there is no button yet")
        return turns

    @property
    def login_password(self) -> str:
        """The given password, else the demo accounts' convention `demo-<name>`."""
        return self.password or f"demo-{self.user.split('@', 1)[0]}"

    @property
    def needs_sandbox(self) -> bool:
        return not self.setup.empty


@dataclass(frozen=True)
class LoadedScenario:
    scenario: Scenario
    path: Path


_UNION_TAGS = frozenset({"str", "int", "float", "bool", "none", "Contains", "NotContains", "OneOf"})


def _where(loc: Sequence[int | str]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in _UNION_TAGS or "[" in str(part):
            continue  # union-member tags pydantic adds; they are not fields
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


def _explain(path: Path, exc: ValidationError) -> list[str]:
    seen: set[str] = set()
    problems = []
    for error in exc.errors(include_url=False):
        message = error["msg"].removeprefix("Value error, ")
        line = f"{path}: {_where(error['loc'])}: {message}"
        if line not in seen:  # a union reports one error per member; say it once
            seen.add(line)
            problems.append(line)
    return problems


def parse_scenario(path: Path, text: str) -> Scenario:
    """One scenario from YAML text; `ScenarioError` names the file and the field."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ScenarioError([f"{path}: not valid YAML{where}: {problem}"]) from exc
    if not isinstance(data, dict):
        raise ScenarioError([f"{path}: a scenario file holds one mapping (name, user, turns…)"])
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(_explain(path, exc)) from exc


def scenario_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())


def load_scenarios(directory: Path) -> list[LoadedScenario]:
    """Every scenario in `directory`, sorted by file name; all problems reported at once."""
    if not directory.is_dir():
        raise ScenarioError([f"{directory}: not a directory"])
    problems: list[str] = []
    loaded: list[LoadedScenario] = []
    names: dict[str, Path] = {}
    for path in scenario_files(directory):
        try:
            scenario = parse_scenario(path, path.read_text(encoding="utf-8"))
        except ScenarioError as exc:
            problems.extend(exc.problems)
            continue
        if scenario.name in names:
            other = names[scenario.name]
            problems.append(f"{path}: name: {scenario.name!r} is also used by {other}")
            continue
        names[scenario.name] = path
        loaded.append(LoadedScenario(scenario, path))
    if problems:
        raise ScenarioError(problems)
    if not loaded:
        raise ScenarioError([f"{directory}: no scenario files (*.yaml)"])
    return loaded
