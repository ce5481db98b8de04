"""A tool's deadline: its helpdesk calls one after another, within the turn's time left."""

from __future__ import annotations

from typing import Any

import pytest

from tools import all_tools

SPECS = {spec.name: spec for spec in all_tools()}


def test_two_calls_in_a_row_get_two_per_call_timeouts() -> None:
    get_ticket = SPECS["get_ticket"]
    assert get_ticket.helpdesk_calls == 2
    assert get_ticket.time_allowed(call_timeout_s=20, time_left_s=100, keep_s=5) == 40
    assert SPECS["search_kb"].time_allowed(call_timeout_s=20, time_left_s=100, keep_s=5) == 20


@pytest.mark.parametrize(
    ("time_left", "keep", "allowed"),
    [(30.0, 5.0, 25.0), (8.0, 5.0, 4.0), (0.0, 5.0, 0.0), (-3.0, 5.0, 0.0)],
)
def test_what_the_turn_keeps_is_never_given_to_the_tool(
    time_left: float, keep: float, allowed: float
) -> None:
    spec: Any = SPECS["get_ticket"]
    assert spec.time_allowed(call_timeout_s=20, time_left_s=time_left, keep_s=keep) == allowed


def test_lookups_before_a_write_are_counted() -> None:
    for name in ("add_ticket_comment", "update_ticket", "approve_ticket", "reject_ticket"):
        assert SPECS[name].helpdesk_calls == 2, name
