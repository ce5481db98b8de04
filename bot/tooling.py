"""Tool declarations (ToolSpec), the context they run in, and the registry the engine uses.

A tool is plain data plus one async callable: a name, a description (from
`prompts/tools/<name>.md`), a strict pydantic model of its arguments (whose JSON schema is
what the model sees), the handler, and whether it writes (`needs_confirmation`). Tools reach
the helpdesk only through `ToolContext`, with the requesting user's own token. A handler
returns a `ToolOutcome` (a JSON object for the model, plus any KB sources); a Helpdesk error
it does not handle becomes a short model-visible `{"error": ...}` here, never an exception in
the turn. What the core does with a tool is declared here, never decided by its name: a
write's preview, reconcile, done text and alternative (`ToolSpec`), and a result's sources,
"found nothing" and handoff request (`ToolOutcome`).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError

from bot import prompts
from bot.errors import BotError
from bot.helpdesk.client import HelpdeskClient
from bot.helpdesk.credentials import UserAuth
from bot.helpdesk.errors import (
    Conflict,
    HelpdeskError,
    HelpdeskUnavailable,
    NotFound,
    OutcomeUnknown,
    PermissionDenied,
    RateLimited,
    ValidationFailed,
)
from bot.helpdesk.models import Profile
from bot.llm import ToolSchema
from bot.messages import Source

ArgsT = TypeVar("ArgsT", bound=BaseModel)


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What this user may do, from their profile and the company's enabled modules."""

    can_create_tickets: bool = False
    can_view_assets: bool = False
    is_manager: bool = False
    modules: frozenset[str] = frozenset({"tickets", "kb", "chat"})

    @classmethod
    def from_profile(cls, profile: Profile, modules: Iterable[str] | None = None) -> Capabilities:
        perms = profile.permissions
        asset_access = (perms.asset_edit or "None") != "None"
        return cls(
            can_create_tickets=perms.can_create_tickets,
            can_view_assets=perms.can_view_assets and asset_access,
            is_manager=perms.ismgr,
            modules=frozenset(modules) if modules is not None else cls().modules | {"assets"},
        )

    def has_module(self, name: str) -> bool:
        return name in self.modules


@dataclass(frozen=True, slots=True)
class ToolContext:
    """Everything a tool may use: the helpdesk as this user, and who the user is."""

    helpdesk: HelpdeskClient
    auth: UserAuth
    profile: Profile
    capabilities: Capabilities
    chat_id: int | None = None


@dataclass(frozen=True, slots=True)
class ToolOutcome:
    """A tool's result: `data` goes to the model as JSON; `sources` may be cited."""

    data: Mapping[str, Any]
    sources: tuple[Source, ...] = ()
    primary_sources: bool = False  # True: the answer is drawn from these (an article read)
    found_nothing: bool = False  # a knowledge search came back empty: offer other ways
    handoff_reason: str | None = None  # escalate_to_human: the engine performs the transfer
    # A write's helpdesk call got no answer (OutcomeUnknown): it may or may not have happened;
    # the engine can ask the spec's `reconcile` before telling the user either way.
    outcome_unknown: bool = False

    def as_model_text(self) -> str:
        return json.dumps(self.data, ensure_ascii=False, separators=(",", ":"), default=str)


@dataclass(frozen=True, slots=True)
class WritePreview:
    """Exactly what a write will do, for the confirm-request (rendered by each channel)."""

    title: str
    fields: tuple[tuple[str, str], ...]
    # Facts the user should see before confirming, found deterministically (not by the
    # model): an active outage, an open ticket that looks like the same problem.
    notices: tuple[str, ...] = ()
    similar_ticket_number: int | None = None  # offer "comment on this ticket instead"


def always(_: Capabilities) -> bool:
    return True


@dataclass(frozen=True, slots=True)
class ToolSpec(Generic[ArgsT]):
    name: str
    args: type[ArgsT]
    run: Callable[[ToolContext, ArgsT], Awaitable[ToolOutcome]]
    needs_confirmation: bool = False
    allowed: Callable[[Capabilities], bool] = always
    # For writes: what will be written, shown to the user before they confirm. Raises
    # PreviewError when the write cannot be proposed (e.g. no such ticket); ReauthRequired
    # propagates like everywhere else.
    preview: Callable[[ToolContext, ArgsT], Awaitable[WritePreview]] | None = None
    # For writes whose outcome is unknown (the helpdesk timed out after it may have acted):
    # look for the write's effect since `since`; an outcome means it did happen.
    reconcile: Callable[[ToolContext, ArgsT, datetime], Awaitable[ToolOutcome | None]] | None = None
    # For writes: the sentence the user reads once it is done, from the outcome's data
    # (None: a plain "Done.").
    done_text: Callable[[Mapping[str, Any]], str] | None = None
    # For writes whose preview found a similar ticket: the write to propose instead, as
    # (tool name, JSON arguments), from this write's arguments and that ticket's number.
    instead_on_similar: Callable[[Mapping[str, Any], int], tuple[str, str]] | None = None
    # The button kind (see `bot.messages`) that proposes this write with no arguments,
    # e.g. "create_ticket" for the tool that files the conversation as a ticket.
    proposed_by: str | None = None
    # Works only in the conversation's helpdesk chat session: not offered in a turn that
    # has none (the helpdesk's chat is off for this user, or could not be started).
    needs_chat: bool = False
    # Helpdesk round trips one after another on the longest path of `run` (and `preview`);
    # calls that do not depend on each other run concurrently and count once. The tool's
    # deadline is derived from it (`time_allowed`), not a flat cap on every tool.
    helpdesk_calls: int = 1
    description: str = field(default="")
    # Built once here, not per request: pydantic's schema generation costs ~0.3 ms a tool.
    _schema: ToolSchema | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.description:
            object.__setattr__(self, "description", prompts.load(f"tools/{self.name}"))
        if self.needs_confirmation and self.preview is None:
            raise ValueError(f"write tool {self.name} needs a preview")
        parameters = _without_generated_titles(self.args.model_json_schema())
        schema = ToolSchema(name=self.name, description=self.description, parameters=parameters)
        object.__setattr__(self, "_schema", schema)

    def time_allowed(self, *, call_timeout_s: float, time_left_s: float, keep_s: float) -> float:
        """How long one run may take: each of its helpdesk calls within the per-call timeout,
        but never into `keep_s` of what is left of the turn (at most half of it), which the
        caller keeps for what must follow (the model's answer, a reconciliation)."""
        kept = min(keep_s, time_left_s / 2)
        return max(0.0, min(self.helpdesk_calls * call_timeout_s, time_left_s - kept))

    def schema(self) -> ToolSchema:
        """What the model is offered (built once, when the tool is declared)."""
        assert self._schema is not None
        return self._schema

    def parse(self, raw_arguments: str) -> ArgsT:
        """The model's JSON arguments, validated; raises ToolArgumentsError with a hint."""
        try:
            return self.args.model_validate_json(raw_arguments or "{}")
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc']) or 'arguments'}: {err['msg']}"
                for err in exc.errors()[:5]
            )
            raise ToolArgumentsError(self.name, problems) from exc


def _without_generated_titles(schema: dict[str, Any]) -> dict[str, Any]:
    """The arguments' JSON schema without the titles pydantic derives from the model and
    field names: they repeat the property names, tell the model nothing and cost tokens on
    every request (LangChain's export drops them too)."""
    schema.pop("title", None)
    for name, sub in schema.get("properties", {}).items():
        if isinstance(sub, dict) and sub.get("title") == _generated_title(name):
            sub.pop("title")
    for sub in schema.get("$defs", {}).values():
        if isinstance(sub, dict):
            _without_generated_titles(sub)
    return schema


def _generated_title(field_name: str) -> str:
    return field_name.replace("_", " ").title()


class ToolArgumentsError(BotError, ValueError):
    """The model called a tool with arguments its schema rejects."""

    def __init__(self, tool: str, problems: str) -> None:
        super().__init__(f"invalid arguments for {tool}: {problems}")
        self.tool = tool
        self.problems = problems


class PreviewError(BotError):
    """A proposed write cannot be shown for confirmation (no such ticket, not pending, ...).

    `message` is a short sentence safe for the model and the user ("ticket 3018 not found").
    The engine stores no pending action and gives the model `{"error": message}` instead.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def describe_helpdesk_error(exc: HelpdeskError) -> str:
    """A short sentence about a failed helpdesk call, safe for the model and the user."""
    if isinstance(exc, NotFound):
        return "not found (or not visible to this user)"
    if isinstance(exc, PermissionDenied):
        return "this user is not allowed to do that"
    if isinstance(exc, Conflict):
        return f"the helpdesk refused: {exc.error or 'conflict'}"
    if isinstance(exc, ValidationFailed):
        return f"the helpdesk rejected the request: {exc.error or 'invalid input'}"
    if isinstance(exc, RateLimited):
        return "the helpdesk is busy right now; try again in a moment"
    if isinstance(exc, OutcomeUnknown):
        return "the helpdesk did not answer in time; it is unknown whether this went through"
    if isinstance(exc, HelpdeskUnavailable):
        return "the helpdesk is not reachable right now"
    return "the helpdesk could not do that right now"


class ToolRegistry:
    """The tools the composition root built; offers each user only what they may use."""

    def __init__(self, specs: Iterable[ToolSpec[Any]]) -> None:
        self._specs: dict[str, ToolSpec[Any]] = {}
        for spec in specs:
            if spec.name in self._specs:
                raise ValueError(f"tool {spec.name} declared twice")
            self._specs[spec.name] = spec

    def __iter__(self) -> Any:
        return iter(self._specs.values())

    def get(self, name: str) -> ToolSpec[Any] | None:
        return self._specs.get(name)

    def proposed_by(self, button_kind: str) -> ToolSpec[Any] | None:
        """The write a button of this kind proposes, if a tool declares one."""
        for spec in self._specs.values():
            if spec.proposed_by == button_kind:
                return spec
        return None

    def offered(self, capabilities: Capabilities, *, in_chat: bool = True) -> list[ToolSpec[Any]]:
        """The tools this user may use, and that can work in this turn (`in_chat`: the
        turn has a helpdesk chat session)."""
        return [
            spec
            for spec in self._specs.values()
            if spec.allowed(capabilities) and (in_chat or not spec.needs_chat)
        ]
