"""What one evaluated turn showed, and the pure checks of a scenario's expectations against it.

The runner (`adapters.eval.runner`) fills an `Observation` from what crossed the wire and the
store; `check_turn` returns one readable sentence per unmet expectation, so a failing
scenario says what was expected and what happened instead.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from adapters.eval.scenarios import (
    ArgMatcher,
    Contains,
    Expect,
    NotContains,
    OneOf,
    ToolExpectation,
)

SNIPPET_CHARS = 160


@dataclass(frozen=True, slots=True)
class CalledTool:
    """A tool call the model made this turn, with its arguments parsed from JSON."""

    name: str
    arguments: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, name: str, raw: str) -> CalledTool:
        try:
            parsed = json.loads(raw or "{}")
        except ValueError:
            parsed = None
        return cls(name, parsed if isinstance(parsed, dict) else {"(unparsed)": raw})

    def describe(self) -> str:
        args = ", ".join(f"{key}={_short(value)}" for key, value in self.arguments.items())
        return f"{self.name}({args})"


@dataclass(frozen=True, slots=True)
class ShownConfirm:
    """A confirm-request the user was shown, and the pending write behind it."""

    title: str
    notices: tuple[str, ...] = ()
    tool: str | None = None
    arguments: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Observation:
    """Everything one turn showed the user and did."""

    tools: tuple[CalledTool, ...] = ()
    text: str = ""  # all the user was shown: messages, status lines, errors, confirm cards
    confirms: tuple[ShownConfirm, ...] = ()
    handoff: bool = False  # a human agent was asked to join (queued or joined)
    sources: int = 0  # KB sources attached to the answer
    writes: int = 0  # helpdesk writes that succeeded this turn
    write_requests: tuple[str, ...] = ()  # every write request that reached the helpdesk


# --- argument matching -----------------------------------------------------------------


def _fold(value: Any) -> str:
    return " ".join(str(value).split()).casefold()


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 60 else text[:57] + "…"


def _equal(expected: Any, actual: Any) -> bool:
    if expected is None:
        return actual is None
    if isinstance(expected, bool) or isinstance(actual, bool):
        return _fold(expected) == _fold(actual)
    if isinstance(expected, int | float) and not isinstance(actual, str | int | float):
        return False
    if isinstance(expected, int | float):
        try:
            return math.isclose(float(expected), float(actual))
        except ValueError:
            return False
    return _fold(expected) == _fold(actual)


def value_matches(expected: ArgMatcher, actual: Any, *, present: bool = True) -> bool:
    """Does one argument satisfy its matcher? Strings compare in any case and spacing;
    numbers match numbers or numeric text; a missing argument only satisfies `null` and
    `not_contains`."""
    if isinstance(expected, NotContains):
        return not present or _fold(expected.not_contains) not in _fold(actual)
    if not present:
        return expected is None
    if isinstance(expected, Contains):
        return actual is not None and _fold(expected.contains) in _fold(actual)
    if isinstance(expected, OneOf):
        return any(_equal(option, actual) for option in expected.one_of)
    return _equal(expected, actual)


def args_match(expected: Mapping[str, ArgMatcher], actual: Mapping[str, Any]) -> bool:
    """Subset match: every expected argument matches; other arguments are ignored."""
    return all(
        value_matches(matcher, actual.get(name), present=name in actual)
        for name, matcher in expected.items()
    )


def describe_matcher(matcher: ArgMatcher) -> str:
    if isinstance(matcher, Contains):
        return f"containing {matcher.contains!r}"
    if isinstance(matcher, NotContains):
        return f"not containing {matcher.not_contains!r}"
    if isinstance(matcher, OneOf):
        return "one of " + ", ".join(_short(option) for option in matcher.one_of)
    return f"= {_short(matcher)}"


def describe_expectation(expected: ToolExpectation) -> str:
    if not expected.args:
        return f"a call to {expected.name}"
    args = ", ".join(f"{name} {describe_matcher(m)}" for name, m in expected.args.items())
    return f"a call to {expected.name} with {args}"


def match_calls(
    expected: Sequence[ToolExpectation], calls: Sequence[CalledTool]
) -> list[ToolExpectation]:
    """The expectations left unmatched when each may claim a different call (best assignment)."""

    def assign(index: int, used: frozenset[int]) -> list[ToolExpectation] | None:
        if index == len(expected):
            return []
        want = expected[index]
        for i, call in enumerate(calls):
            if i not in used and call.name == want.name and args_match(want.args, call.arguments):
                rest = assign(index + 1, used | {i})
                if rest is not None:
                    return rest
        return None

    if assign(0, frozenset()) is not None:
        return []
    # No full assignment: report each expectation that no call satisfies on its own, or,
    # if each alone is satisfiable, the ones that compete for the same call.
    alone = [
        want
        for want in expected
        if not any(c.name == want.name and args_match(want.args, c.arguments) for c in calls)
    ]
    return alone or list(expected)


# --- one turn ---------------------------------------------------------------------------


def _snippet(text: str) -> str:
    flat = " ".join(text.split())
    return repr(flat if len(flat) <= SNIPPET_CHARS else flat[: SNIPPET_CHARS - 1] + "…")


def _called(calls: Sequence[CalledTool]) -> str:
    return ", ".join(call.describe() for call in calls) or "no tools"


def check_tools(expect: Expect, calls: Sequence[CalledTool]) -> list[str]:
    problems = [
        f"expected {describe_expectation(want)}; called: {_called(calls)}"
        for want in match_calls(expect.tools, calls)
    ]
    for name in expect.not_tools:
        bad = [call for call in calls if call.name == name]
        if bad:
            problems.append(f"{name} must not be called, but was: {_called(bad)}")
    if expect.no_tools and calls:
        problems.append(f"expected no tool calls; called: {_called(calls)}")
    return problems


def check_confirm(expect: Expect, confirms: Sequence[ShownConfirm]) -> list[str]:
    wanted = expect.expects_confirm
    if wanted is False:
        titles = ", ".join(repr(c.title) for c in confirms)
        return [f"expected no confirm-request; shown: {titles}"] if confirms else []
    if wanted is None:
        return []
    if not confirms:
        return ["expected a confirm-request; none was shown"]
    confirm = confirms[-1]
    problems = []
    title = expect.confirm_title_contains
    if title and _fold(title) not in _fold(confirm.title):
        problems.append(f"confirm title {confirm.title!r} lacks {title!r}")
    notices = " | ".join(confirm.notices)
    for needle in expect.confirm_notice_contains:
        if _fold(needle) not in _fold(notices):
            problems.append(f"confirm notices lack {needle!r}; notices: {_snippet(notices)}")
    if expect.confirm_tool and confirm.tool != expect.confirm_tool:
        problems.append(f"the confirm-request is for {confirm.tool}, not {expect.confirm_tool}")
    if expect.confirm_args and not args_match(expect.confirm_args, confirm.arguments):
        wanted_args = ", ".join(
            f"{name} {describe_matcher(m)}" for name, m in expect.confirm_args.items()
        )
        shown = CalledTool(confirm.tool or "?", confirm.arguments).describe()
        problems.append(f"the confirm-request's write is {shown}; expected {wanted_args}")
    return problems


def check_text(expect: Expect, text: str) -> list[str]:
    folded = _fold(text)
    problems = [
        f"reply lacks {needle!r}; reply: {_snippet(text)}"
        for needle in expect.text_contains
        if _fold(needle) not in folded
    ]
    if expect.text_contains_any and not any(_fold(n) in folded for n in expect.text_contains_any):
        options = ", ".join(repr(n) for n in expect.text_contains_any)
        problems.append(f"reply has none of {options}; reply: {_snippet(text)}")
    problems += [
        f"reply must not contain {needle!r}; reply: {_snippet(text)}"
        for needle in expect.text_not_contains
        if _fold(needle) in folded
    ]
    return problems


def check_turn(expect: Expect, seen: Observation) -> list[str]:
    """Every unmet expectation of one turn, as a sentence; empty when the turn passes."""
    problems = check_tools(expect, seen.tools)
    problems += check_confirm(expect, seen.confirms)
    if expect.handoff is not None and seen.handoff != expect.handoff:
        problems.append(
            "expected a handoff to a human; none happened"
            if expect.handoff
            else "expected no handoff, but a human agent was asked to join"
        )
    problems += check_text(expect, seen.text)
    if expect.sources is not None and bool(seen.sources) != expect.sources:
        problems.append(
            "expected KB sources on the answer; there were none"
            if expect.sources
            else f"expected no KB sources; the answer cited {seen.sources}"
        )
    if expect.writes is not None and seen.writes != expect.writes:
        detail = f" ({', '.join(seen.write_requests)})" if seen.write_requests else ""
        problems.append(f"expected {expect.writes} write(s); {seen.writes} happened{detail}")
    return problems
