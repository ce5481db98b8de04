"""The expectation matcher: subset arguments, operators, case, distinct calls, turn checks."""

from __future__ import annotations

from typing import Any

import pytest

from adapters.eval.expectations import (
    CalledTool,
    Observation,
    ShownConfirm,
    args_match,
    check_turn,
    match_calls,
    value_matches,
)
from adapters.eval.scenarios import Contains, Expect, NotContains, OneOf, ToolExpectation


def expect(**fields: Any) -> Expect:
    return Expect.model_validate(fields)


@pytest.mark.parametrize(
    ("matcher", "actual", "ok"),
    [
        ("closed", "Closed", True),
        ("VPN  drops", "vpn drops", True),
        ("closed", "closed.", False),
        (3018, 3018, True),
        (3018, "3018", True),
        (3018, 3012, False),
        (3018, "abc", False),
        (3, 3.0, True),
        (True, True, True),
        (True, "true", True),
        (True, 1, False),
        (None, None, True),
        ("x", None, False),
        (Contains(contains="VPN"), "My vpn keeps dropping", True),
        (Contains(contains="VPN"), "printer", False),
        (Contains(contains="30"), 3018, True),
        (NotContains(not_contains="password"), "My PASSWORD is x", False),
        (NotContains(not_contains="password"), "fine", True),
        (OneOf(one_of=["open", "in_progress"]), "In_Progress", True),
        (OneOf(one_of=[2, 3]), "3", True),
        (OneOf(one_of=[2, 3]), 4, False),
    ],
)
def test_value_matches(matcher: Any, actual: Any, ok: bool) -> None:
    assert value_matches(matcher, actual) is ok


def test_a_missing_argument_only_satisfies_null_and_not_contains() -> None:
    assert value_matches(None, None, present=False)
    assert value_matches(NotContains(not_contains="x"), None, present=False)
    assert not value_matches(Contains(contains="x"), None, present=False)
    assert not value_matches("x", None, present=False)


def test_args_match_is_a_subset_match() -> None:
    actual = {"ticket_number": 3018, "comment": "Still OFFLINE after restart"}
    assert args_match({}, actual)
    assert args_match({"ticket_number": 3018}, actual), "other arguments are ignored"
    assert args_match({"comment": Contains(contains="still offline")}, actual)
    assert not args_match({"ticket_number": 3018, "comment": "something else"}, actual)
    assert not args_match({"status": "closed"}, actual), "a missing argument does not match"


def test_each_expected_call_claims_a_different_call() -> None:
    one = [CalledTool("search_kb", {"query": "vpn"})]
    two = [*one, CalledTool("search_kb", {"query": "wifi"})]
    wanted = [ToolExpectation(name="search_kb"), ToolExpectation(name="search_kb")]
    assert match_calls(wanted, two) == []
    assert match_calls(wanted, one) == wanted


def test_the_best_assignment_is_found() -> None:
    calls = [
        CalledTool("search_kb", {"query": "vpn wifi"}),
        CalledTool("search_kb", {"query": "vpn"}),
    ]
    broad = ToolExpectation(name="search_kb", args={"query": Contains(contains="vpn")})
    narrow = ToolExpectation(name="search_kb", args={"query": Contains(contains="wifi")})
    assert match_calls([broad, narrow], calls) == [], "greedy would give 'vpn wifi' to broad"


def test_unmatched_expectations_are_the_ones_reported() -> None:
    calls = [CalledTool("get_ticket", {"ticket_number": 3018})]
    wanted = [
        ToolExpectation(name="get_ticket", args={"ticket_number": 3018}),
        ToolExpectation(name="search_kb"),
    ]
    assert [w.name for w in match_calls(wanted, calls)] == ["search_kb"]


def test_called_tool_parses_arguments_and_keeps_garbage_visible() -> None:
    assert CalledTool.from_json("get_ticket", '{"ticket_number": 3}').arguments == {
        "ticket_number": 3
    }
    assert CalledTool.from_json("check_outages", "").arguments == {}
    assert CalledTool.from_json("x", "{oops").arguments == {"(unparsed)": "{oops"}


VPN_CONFIRM = ShownConfirm(
    title="Create a ticket",
    notices=("VPN is degraded at Main Office since 09:10 UTC", "You also have open ticket 3012"),
    tool="create_ticket",
    arguments={"subject": "VPN drops", "priority": 3},
)


def test_a_turn_that_meets_everything_passes() -> None:
    seen = Observation(
        tools=(CalledTool("create_ticket", {"subject": "VPN drops"}),),
        text="Please confirm. **Create a ticket**",
        confirms=(VPN_CONFIRM,),
        writes=0,
    )
    wanted = expect(
        tools=[{"name": "create_ticket", "args": {"subject": {"contains": "vpn"}}}],
        not_tools=["update_ticket"],
        confirm=True,
        confirm_tool="create_ticket",
        confirm_args={"priority": 3},
        confirm_title_contains="create a TICKET",
        confirm_notice_contains=["degraded", "3012"],
        handoff=False,
        text_contains=["please confirm"],
        text_contains_any=["nope", "create"],
        text_not_contains=["created ticket"],
        sources=False,
        writes=0,
    )
    assert check_turn(wanted, seen) == []


def test_every_unmet_expectation_is_a_readable_sentence() -> None:
    seen = Observation(
        tools=(CalledTool("get_ticket", {"ticket_number": 3018}), CalledTool("update_ticket")),
        text="Ticket 3018 is open. Your password hunter2 works.",
        confirms=(VPN_CONFIRM,),
        handoff=True,
        sources=2,
        writes=1,
        write_requests=("POST /tickets (201)",),
    )
    wanted = expect(
        tools=[{"name": "get_ticket", "args": {"ticket_number": 3012}}],
        not_tools=["update_ticket"],
        confirm_tool="add_ticket_comment",
        confirm_args={"subject": {"contains": "printer"}},
        confirm_title_contains="approve",
        confirm_notice_contains=["3018"],
        handoff=False,
        text_contains=["closed"],
        text_contains_any=["sorry", "apolog"],
        text_not_contains=["HUNTER2"],
        sources=False,
        writes=0,
    )
    problems = check_turn(wanted, seen)

    assert problems == [
        "expected a call to get_ticket with ticket_number = 3012; called: "
        "get_ticket(ticket_number=3018), update_ticket()",
        "update_ticket must not be called, but was: update_ticket()",
        "confirm title 'Create a ticket' lacks 'approve'",
        "confirm notices lack '3018'; notices: 'VPN is degraded at Main Office since 09:10 UTC "
        "| You also have open ticket 3012'",
        "the confirm-request is for create_ticket, not add_ticket_comment",
        "the confirm-request's write is create_ticket(subject='VPN drops', priority=3); "
        "expected subject containing 'printer'",
        "expected no handoff, but a human agent was asked to join",
        "reply lacks 'closed'; reply: 'Ticket 3018 is open. Your password hunter2 works.'",
        "reply has none of 'sorry', 'apolog'; reply: 'Ticket 3018 is open. Your password "
        "hunter2 works.'",
        "reply must not contain 'HUNTER2'; reply: 'Ticket 3018 is open. Your password "
        "hunter2 works.'",
        "expected no KB sources; the answer cited 2",
        "expected 0 write(s); 1 happened (POST /tickets (201))",
    ]


def test_confirm_presence_and_absence() -> None:
    shown = Observation(confirms=(VPN_CONFIRM,))
    assert check_turn(expect(confirm=False), shown) == [
        "expected no confirm-request; shown: 'Create a ticket'"
    ]
    assert check_turn(expect(confirm=True), Observation()) == [
        "expected a confirm-request; none was shown"
    ]
    assert check_turn(expect(confirm_tool="create_ticket"), Observation()) == [
        "expected a confirm-request; none was shown"
    ], "confirm details imply a confirm"


def test_no_tools_handoff_sources_and_writes() -> None:
    called = Observation(tools=(CalledTool("search_kb", {"query": "hi"}),))
    assert check_turn(expect(no_tools=True), called) == [
        "expected no tool calls; called: search_kb(query='hi')"
    ]
    assert check_turn(expect(handoff=True), Observation()) == [
        "expected a handoff to a human; none happened"
    ]
    assert check_turn(expect(sources=True), Observation()) == [
        "expected KB sources on the answer; there were none"
    ]
    assert check_turn(expect(writes=1), Observation()) == ["expected 1 write(s); 0 happened"]
