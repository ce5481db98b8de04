"""The engine's tunables: tenant name, token budget and the deadlines of one turn."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class EngineConfig:
    tenant_name: str = "IT Helpdesk"
    input_token_budget: int = 8000
    reply_deadline_s: float = 30.0  # the user gets an answer (maybe degraded) by then
    turn_timeout_s: float = 60.0
    # Kept for the model's answer when tools run (at most half of what is left); a tool's
    # own deadline comes from its helpdesk calls (`ToolSpec.time_allowed`).
    answer_reserve_s: float = 5.0
    val_ai_wait_s: float = 4.0
    # A message that finds the conversation busy (its previous turn still running) is told
    # "still working" at once, then waits this long for that turn (whose reply is due within
    # `reply_deadline_s`) before it is answered; past it, the user is asked to resend. With
    # the turn itself it stays inside the channels' 120 s bound on one turn.
    busy_wait_s: float = 45.0
    # A write left `executing` this long was interrupted (a turn never runs longer than
    # `turn_timeout_s`), so the recovery sweep may settle it.
    interrupted_after_s: float = 120.0
