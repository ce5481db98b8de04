"""The fault suite's session summary: one counts line, from what the tests observed."""

from __future__ import annotations

from typing import Any

from tests.faults.ledger import LEDGER


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if LEDGER.used:
        terminalreporter.write_line(LEDGER.line())
