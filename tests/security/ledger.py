"""What the security suite tried and what the system did: counted from responses and logs."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class AttackLedger:
    tried: int = 0
    refused: int = 0
    let_through: list[str] = field(default_factory=list)
    _test_starts_at: int = 0

    def start_test(self) -> None:
        self._test_starts_at = len(self.let_through)

    def in_this_test(self) -> list[str]:
        """What was let through since the current test began (tests assert on their own)."""
        return self.let_through[self._test_starts_at :]

    def outcome(self, name: str, *, refused: bool) -> bool:
        """One attack and whether the system refused it (as observed by the test)."""
        self.tried += 1
        if refused:
            self.refused += 1
        else:
            self.let_through.append(name)
        return refused

    def line(self) -> str:
        return (
            f"attacks: {self.tried} tried, {self.refused} refused, "
            f"{len(self.let_through)} let through"
        )


LEDGER = AttackLedger()
