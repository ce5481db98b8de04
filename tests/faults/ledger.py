"""What the fault suite observed: faults the back office accepted, messages sent, what came back.

Every count is taken from an observation — a 201 from `POST /sandbox/faults`, a reply the
channel received, a write in the sandbox request log — never written down as a constant.
The suite's conftest prints `line()` at the end of the session.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import httpx

# What a stack trace or raw exception text looks like when it leaks into a reply.
_TRACE = re.compile(
    r"Traceback \(most recent call last\)|File \"[^\"]+\", line \d+"
    r"|\b\w+(?:Error|Exception)\(|\b(?:httpx|sqlalchemy|asyncpg|aiohttp|openai)\.\w+",
)


def shows_a_trace(text: str) -> bool:
    return _TRACE.search(text) is not None


@dataclass
class FaultLedger:
    injected: int = 0
    sent: int = 0
    lost: int = 0
    duplicated: int = 0
    traces: int = 0
    used: bool = False

    async def inject(self, backoffice: httpx.AsyncClient, **fault: Any) -> dict[str, Any]:
        """Add a fault in the sandbox back office; counted once the back office accepted it."""
        self.used = True
        response = await backoffice.post("/sandbox/faults", json={"rate": 1, **fault})
        assert response.status_code == 201, response.text
        self.injected += 1
        body: dict[str, Any] = response.json()
        return body

    def injected_here(self, count: int = 1) -> None:
        """A fault the test caused itself (a model step, a killed process, a dropped link)."""
        self.used = True
        self.injected += count

    def exchange(self, texts: Iterable[str]) -> list[str]:
        """One user message sent; ``texts`` is what the user received for it."""
        self.used = True
        received = [t for t in texts if t]
        self.sent += 1
        if not received:
            self.lost += 1
        self.traces += sum(1 for t in received if shows_a_trace(t))
        return received

    def writes(self, observed: int, *, expected: int) -> None:
        """Writes of one kind the helpdesk's log shows, against how many were asked for."""
        self.used = True
        self.duplicated += max(0, observed - expected)

    def line(self) -> str:
        return (
            f"faults: {self.injected} injected, {self.sent} messages sent, {self.lost} lost, "
            f"{self.duplicated} duplicated, {self.traces} stack traces shown to a user"
        )


LEDGER = FaultLedger()
