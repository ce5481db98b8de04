"""`helpdesk-bot eval`: runs scenario files through the real engine and reports pass/fail.

Each scenario drives `Engine.handle` like a channel would, in a fresh conversation of its
own, against the configured model and helpdesk (the embedded sandbox and its stand-in model
when none is configured). What a turn did is read from where it happened, never from mocks:
tool calls from the store's transcript, writes from the sandbox's request log (or, against
a real helpdesk, from the pending actions that were executed), confirm-requests, handoffs
and text from the Reply events. With the embedded sandbox, it is reset before every
scenario, so no scenario depends on another's side effects. The store is a temporary SQLite
database unless one is given, so an evaluation never pollutes the real one.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx

from adapters.channel import ChannelServices
from adapters.eval.expectations import CalledTool, Observation, ShownConfirm, check_turn
from adapters.eval.scenarios import LoadedScenario, Scenario, Setup, Turn
from bot.confirmations import render_confirm_text
from bot.helpdesk.errors import AuthError
from bot.messages import (
    Action,
    ActionInvoke,
    AgentMessage,
    ConfirmRequest,
    ErrorReply,
    HandoffStatus,
    Inbound,
    LinkRequired,
    Message,
    Reply,
)

log = logging.getLogger(__name__)

CHANNEL = "eval"
TURN_TIMEOUT_S = 120.0  # the engine answers within its own deadlines; this only stops a hang
BACKOFFICE_TIMEOUT_S = 10.0
# Helpdesk API requests that write: tickets (create, update, comment, approve, reject) and
# turning a chat into a ticket.
_WRITE_PATH = re.compile(r"^/tickets(?:/|$)|^/chat/\d+/ticket$")
_WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

Status = Literal["pass", "fail", "skip", "error"]


@dataclass(frozen=True)
class TurnResult:
    index: int
    label: str
    problems: tuple[str, ...]
    seen: Observation


@dataclass(frozen=True)
class ScenarioResult:
    name: str
    path: str
    status: Status
    turns_total: int
    turns_passed: int = 0
    duration_s: float = 0.0
    reason: str = ""  # why it failed, errored or was skipped (first problem)
    turns: tuple[TurnResult, ...] = ()


@dataclass(frozen=True)
class EvalReport:
    model: str
    helpdesk: str
    results: tuple[ScenarioResult, ...]
    duration_s: float

    def count(self, status: Status) -> int:
        return sum(1 for result in self.results if result.status == status)

    @property
    def ok(self) -> bool:
        """True when nothing failed or errored (skipped scenarios do not fail a run)."""
        return not (self.count("fail") or self.count("error"))


Progress = Callable[[int, int, ScenarioResult], None]


async def run_scenarios(
    services: ChannelServices,
    scenarios: Sequence[LoadedScenario],
    *,
    progress: Progress | None = None,
) -> EvalReport:
    """Run `scenarios` against the configured model and helpdesk; see the module docstring."""
    started = time.monotonic()
    runner = ScenarioRunner(services)
    results = []
    for number, loaded in enumerate(scenarios, start=1):
        result = await runner.run(loaded)
        results.append(result)
        if progress is not None:
            progress(number, len(scenarios), result)
    helpdesk = "embedded sandbox" if services.sandbox_base_url else services.helpdesk_base_url
    return EvalReport(
        model=services.model_label,
        helpdesk=helpdesk,
        results=tuple(results),
        duration_s=time.monotonic() - started,
    )


@dataclass
class _Run:
    """The state of one scenario while it runs."""

    scenario: Scenario
    user_key: str
    conversation_key: str
    buttons: tuple[Action, ...] = ()
    confirm_ids: list[str] = field(default_factory=list)
    request_mark: int = 0  # the sandbox request log id seen last
    write_requests: list[str] = field(default_factory=list)  # the whole scenario's


class ScenarioRunner:
    def __init__(self, services: ChannelServices) -> None:
        self._services = services
        self._sandbox = services.sandbox_base_url

    async def run(self, loaded: LoadedScenario) -> ScenarioResult:
        scenario = loaded.scenario
        path = str(loaded.path)
        if scenario.needs_sandbox and self._sandbox is None:
            return ScenarioResult(
                scenario.name,
                path,
                "skip",
                len(scenario.turns),
                reason="its setup needs the embedded sandbox (HELPDESK_BASE_URL is set)",
            )
        started = time.monotonic()
        turns: list[TurnResult] = []
        try:
            run = await self._start(scenario)
            for index, turn in enumerate(scenario.turns, start=1):
                result = await self._turn(run, index, turn)
                turns.append(result)
                if result.problems:  # later turns build on this one: stop here
                    break
        except _ScenarioBroken as exc:
            return self._result(loaded, "error", turns, started, exc.reason)
        except Exception as exc:  # one broken scenario must not end the evaluation
            log.debug("Scenario %s raised", scenario.name, exc_info=True)
            return self._result(loaded, "error", turns, started, f"{type(exc).__name__}: {exc}")
        failed = next((t for t in turns if t.problems), None)
        if failed is None:
            return self._result(loaded, "pass", turns, started, "")
        reason = f"turn {failed.index}: {failed.problems[0]}"
        return self._result(loaded, "fail", turns, started, reason)

    def _result(
        self,
        loaded: LoadedScenario,
        status: Status,
        turns: list[TurnResult],
        started: float,
        reason: str,
    ) -> ScenarioResult:
        return ScenarioResult(
            name=loaded.scenario.name,
            path=str(loaded.path),
            status=status,
            turns_total=len(loaded.scenario.turns),
            turns_passed=sum(1 for t in turns if not t.problems),
            duration_s=time.monotonic() - started,
            reason=reason,
            turns=tuple(turns),
        )

    # --- a scenario's steps ----------------------------------------------------------------

    async def _start(self, scenario: Scenario) -> _Run:
        run = _Run(
            scenario=scenario,
            user_key=f"{CHANNEL}:{uuid.uuid4().hex[:12]}:{scenario.user.lower()}",
            conversation_key=f"{CHANNEL}:{scenario.name}:{uuid.uuid4().hex[:12]}",
        )
        if self._sandbox is not None:
            await self._backoffice("POST", "/sandbox/reset")
            await self._apply(scenario.setup)
            await self._backoffice("DELETE", "/sandbox/requests")
        try:
            await self._services.identities.link_with_password(
                CHANNEL, run.user_key, username=scenario.user, password=scenario.login_password
            )
        except AuthError as exc:
            raise _ScenarioBroken(f"the helpdesk refused the login of {scenario.user}") from exc
        return run

    async def _turn(self, run: _Run, index: int, turn: Turn) -> TurnResult:
        inbound = self._inbound(run, turn)
        if isinstance(inbound, str):
            return TurnResult(index, turn.label, (inbound,), Observation())
        desk = self._services.desk
        before = await desk.find_conversation(CHANNEL, run.conversation_key)
        seq_mark = before.last_seq if before is not None else 0
        statuses = await self._action_statuses(run)
        try:
            async with asyncio.timeout(TURN_TIMEOUT_S):
                replies = [reply async for reply in self._services.engine.handle(inbound)]
        except TimeoutError:
            raise _ScenarioBroken(
                f"turn {index} got no complete reply within {TURN_TIMEOUT_S:.0f} s"
            ) from None
        seen = await self._observe(run, replies, seq_mark, statuses)
        problems = check_turn(turn.expect, seen)
        if run.scenario.forbidden_writes and run.write_requests:
            problems.append(
                "forbidden_writes: the helpdesk received " + ", ".join(run.write_requests)
            )
        run.buttons = tuple(
            action
            for reply in replies
            if isinstance(reply, Message | ConfirmRequest | ErrorReply)
            for action in reply.actions
        )
        return TurnResult(index, turn.label, tuple(problems), seen)

    def _inbound(self, run: _Run, turn: Turn) -> Inbound | str:
        """The turn as a channel would deliver it; a problem sentence if it cannot be."""
        action = None
        if turn.press is not None:
            button = next((a for a in reversed(run.buttons) if a.kind == turn.press), None)
            if button is None:
                shown = ", ".join(sorted({a.kind for a in run.buttons})) or "none"
                return f"no {turn.press!r} button was shown in the previous turn (shown: {shown})"
            action = ActionInvoke(button.id, button.value)
        return Inbound(
            channel=CHANNEL,
            conversation_key=run.conversation_key,
            user_key=run.user_key,
            text=turn.say,
            action=action,
            event_id=uuid.uuid4().hex,
        )

    async def _observe(
        self, run: _Run, replies: list[Reply], seq_mark: int, statuses: dict[str, str]
    ) -> Observation:
        desk = self._services.desk
        conversation = await desk.find_conversation(CHANNEL, run.conversation_key)
        messages = (
            await desk.messages_after(conversation.id, after_seq=seq_mark)
            if conversation is not None
            else []
        )
        calls = tuple(
            CalledTool.from_json(str(call["name"]), str(call["arguments"]))
            for message in messages
            if message.role == "assistant"
            for call in message.tool_calls or ()
        )
        confirms = []
        for reply in replies:
            if isinstance(reply, ConfirmRequest):
                run.confirm_ids.append(reply.pending_action_id)
                confirms.append(await self._confirm(reply))
        writes, requests = await self._writes(run, statuses)
        return Observation(
            tools=calls,
            text="\n".join(_shown_text(reply) for reply in replies if _shown_text(reply)),
            confirms=tuple(confirms),
            handoff=any(
                isinstance(r, HandoffStatus) and r.state in ("queued", "joined") for r in replies
            ),
            sources=sum(len(r.sources) for r in replies if isinstance(r, Message)),
            writes=writes,
            write_requests=tuple(requests),
        )

    async def _confirm(self, reply: ConfirmRequest) -> ShownConfirm:
        action = await self._services.desk.get_pending_action(reply.pending_action_id)
        return ShownConfirm(
            title=reply.title,
            notices=reply.notices,
            tool=action.tool_name if action is not None else None,
            arguments=dict(action.arguments) if action is not None else {},
        )

    async def _writes(self, run: _Run, statuses: dict[str, str]) -> tuple[int, list[str]]:
        """Writes that succeeded this turn, and every write request this turn made."""
        if self._sandbox is None:  # a real helpdesk: count the confirmed actions that ran
            after = await self._action_statuses(run)
            ran = [i for i, s in after.items() if s in ("done", "failed") and statuses.get(i) != s]
            done = [i for i in ran if after[i] == "done"]
            requests = [f"confirmed action {i[:8]} ({after[i]})" for i in ran]
            run.write_requests.extend(requests)
            return len(done), requests
        log_entries = (await self._backoffice("GET", "/sandbox/requests"))["requests"]
        fresh = [e for e in log_entries if int(e["id"]) > run.request_mark]
        if fresh:
            run.request_mark = max(int(e["id"]) for e in fresh)
        writes = [e for e in fresh if _is_write(e["method"], e["path"])]
        requests = [f"{e['method']} {e['path']} ({e['status']})" for e in writes]
        run.write_requests.extend(requests)
        return sum(1 for e in writes if int(e["status"]) < 400), requests

    async def _action_statuses(self, run: _Run) -> dict[str, str]:
        if self._sandbox is not None:
            return {}
        statuses: dict[str, str] = {}
        for action_id in run.confirm_ids:
            action = await self._services.desk.get_pending_action(action_id)
            if action is not None:
                statuses[action_id] = action.status
        return statuses

    # --- the sandbox back office -------------------------------------------------------------

    async def _apply(self, setup: Setup) -> None:
        for article in setup.kb_articles:
            await self._backoffice(
                "POST", "/sandbox/kb/articles", json=article.model_dump(exclude_none=True)
            )
        for outage in setup.outages:
            await self._backoffice(
                "POST", "/sandbox/outages", json=outage.model_dump(exclude_none=True)
            )

    async def _backoffice(self, method: str, path: str, *, json: Any = None) -> Any:
        assert self._sandbox is not None
        async with httpx.AsyncClient(timeout=BACKOFFICE_TIMEOUT_S) as http:
            response = await http.request(method, self._sandbox + path, json=json)
        if response.is_error:
            raise _ScenarioBroken(
                f"sandbox {method} {path} answered {response.status_code}: {response.text[:200]}"
            )
        return response.json() if response.content else None


class _ScenarioBroken(Exception):
    """The scenario could not be run as written (setup refused, login refused)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _is_write(method: str, path: str) -> bool:
    return method in _WRITE_METHODS and _WRITE_PATH.match(path) is not None


def _shown_text(reply: Reply) -> str:
    """What the user was shown for one reply event, as text."""
    if isinstance(reply, Message | HandoffStatus | ErrorReply | AgentMessage | LinkRequired):
        return reply.text
    if isinstance(reply, ConfirmRequest):
        return render_confirm_text(reply)
    return ""
