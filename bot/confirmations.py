"""Writes wait for the user: propose a pending action, then run it exactly once on confirm.

When the model calls a write tool, nothing is written: `propose` builds the tool's preview
(exactly what will be written, plus facts found deterministically, such as an active outage
or a similar open ticket), stores a pending action with an idempotency key and a 15-minute
expiry, and returns a `ConfirmRequest`. `confirm` claims the action atomically in the store,
so however many times and from however many replicas the confirm arrives, one caller runs
it. A write whose outcome is unknown (the helpdesk timed out after it may have acted) is
reconciled by looking for its effect (`find_effect`) before anyone is told it failed — again
and again until the reply is due, because a slow helpdesk may still be finishing the very
request whose answer was lost: "unknown" means we looked until the last moment.

Deadlines come from the tool's helpdesk calls and the per-call timeout
(`ToolSpec.time_allowed`), bounded by the time the turn has left — no flat cap.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot import metrics, prompts
from bot.helpdesk.errors import HelpdeskError, OutcomeUnknown, ReauthRequired
from bot.messages import Action, ConfirmField, ConfirmRequest
from bot.store.records import PendingAction
from bot.store.store import Store
from bot.tooling import (
    PreviewError,
    ToolArgumentsError,
    ToolContext,
    ToolOutcome,
    ToolSpec,
    describe_helpdesk_error,
)

log = logging.getLogger(__name__)

# Of the time left before the reply is due, the write itself leaves this much (at most half)
# for looking its effect up if its answer is lost.
RECONCILE_RESERVE_S = 8.0
# Between two lookups of a write whose outcome is unknown.
RECONCILE_POLL_S = 1.5
# The last lookup ends this long before the reply is due (to record it and answer).
REPLY_MARGIN_S = 2.0


@dataclass(frozen=True, slots=True)
class WriteOutcome:
    """What happened to a confirmed (or refused) write, for the user and for the model."""

    ok: bool
    text: str  # Markdown for the user
    result: Mapping[str, Any]  # what the model sees next turn


def idempotency_key(conversation_id: int, tool_call_id: str, name: str, arguments: str) -> str:
    """Stable for one proposed call, so a replayed turn finds the same pending action."""
    raw = json.dumps([conversation_id, tool_call_id, name, arguments])
    return hashlib.sha256(raw.encode()).hexdigest()


async def propose(
    store: Store,
    *,
    conversation_id: int,
    user_key: str,
    spec: ToolSpec[Any],
    context: ToolContext,
    tool_call_id: str,
    raw_arguments: str,
    notices: tuple[str, ...] = (),
    deadline: float | None = None,
) -> tuple[ConfirmRequest | None, dict[str, Any]]:
    """A confirm-request for the write, and the result the model sees instead of the write.

    `notices` go on the card before the preview's own (e.g. why it is offered again); the
    preview ends by `deadline` (time.monotonic()) when the turn has one."""
    assert spec.preview is not None
    try:
        args = spec.parse(raw_arguments)
        allowed = _allowed(spec, context, deadline, keep_s=0.0)
        preview = await asyncio.wait_for(spec.preview(context, args), allowed)
    except ToolArgumentsError as exc:
        return None, {"error": str(exc)}
    except PreviewError as exc:
        return None, {"error": exc.message}
    except ReauthRequired:
        raise
    except HelpdeskError as exc:
        return None, {"error": f"could not prepare {spec.name}: {describe_helpdesk_error(exc)}"}
    except TimeoutError:
        return None, {"error": f"could not prepare {spec.name}: the helpdesk did not answer"}

    action = await store.create_pending_action(
        conversation_id,
        user_key=user_key,
        tool_name=spec.name,
        arguments=args.model_dump(mode="json"),
        idempotency_key=idempotency_key(conversation_id, tool_call_id, spec.name, raw_arguments),
    )
    metrics.current().confirms.labels(tool=spec.name, result="proposed").inc()
    similar = preview.similar_ticket_number if spec.instead_on_similar is not None else None
    request = ConfirmRequest(
        pending_action_id=action.id,
        title=preview.title,
        fields=tuple(ConfirmField(label, value) for label, value in preview.fields),
        notices=(*notices, *preview.notices),
        actions=confirm_actions(action.id, similar_ticket_number=similar),
    )
    summary = "; ".join(f"{label}: {value}" for label, value in preview.fields)
    model_result: dict[str, Any] = {
        "status": "awaiting_confirmation",
        "summary": f"{preview.title} — {summary}",
    }
    if preview.notices:
        model_result["notices"] = list(preview.notices)
    return request, model_result


async def expire_unanswered(store: Store, *, now: datetime | None = None) -> list[PendingAction]:
    """Expire the writes nobody answered in time (claims already refuse them); returns them."""
    expired = await store.expire_pending_actions(now=now)
    for action in expired:
        metrics.current().confirms.labels(tool=action.tool_name, result="expired").inc()
    return expired


def confirm_actions(action_id: str, *, similar_ticket_number: int | None) -> tuple[Action, ...]:
    """Confirm and Cancel, and "comment on the similar ticket instead" when there is one."""
    actions = [
        Action(
            id=f"confirm:{action_id}",
            kind="confirm",
            label=prompts.reply("label_confirm"),
            style="primary",
        ),
        Action(id=f"cancel:{action_id}", kind="cancel", label=prompts.reply("label_cancel")),
    ]
    if similar_ticket_number is not None:
        actions.append(
            Action(
                id=f"comment_instead:{action_id}",
                kind="comment_instead",
                label=prompts.reply("label_comment_instead", number=similar_ticket_number),
                value=str(similar_ticket_number),
            )
        )
    return tuple(actions)


def render_confirm_text(request: ConfirmRequest) -> str:
    """The confirm-request as Markdown, for channels without buttons and for the transcript."""
    lines = [prompts.reply("confirm_heading", title=request.title)]
    lines += [f"- **{field.label}:** {field.value}" for field in request.fields]
    lines += [f"> {notice}" for notice in request.notices]
    lines.append(prompts.reply("confirm_hint"))
    return "\n".join(lines)


async def execute(
    action: PendingAction, *, spec: ToolSpec[Any], context: ToolContext, reply_by: float
) -> WriteOutcome:
    """Run a claimed action once, answering by `reply_by` (time.monotonic()). Never retried
    here: the client already refuses to repeat a write that may have reached the server; an
    unknown outcome is reconciled instead, by looking it up until the reply is due."""
    args = spec.args.model_validate(action.arguments)
    allowed = _allowed(spec, context, reply_by, keep_s=RECONCILE_RESERVE_S)
    outcome: ToolOutcome | None
    try:
        outcome = await asyncio.wait_for(spec.run(context, args), allowed)
    except ReauthRequired:
        raise
    except (OutcomeUnknown, TimeoutError):
        outcome = None
    except HelpdeskError as exc:
        reason = describe_helpdesk_error(exc)
        return WriteOutcome(
            ok=False, text=prompts.reply("write_failed", reason=reason), result={"error": reason}
        )
    if outcome is None or outcome.outcome_unknown:
        outcome = await _reconcile(spec, context, action, until=reply_by - REPLY_MARGIN_S)
        if outcome is None:
            return WriteOutcome(
                ok=False,
                text=prompts.reply("write_outcome_unknown"),
                result={"status": "unknown", "tool": spec.name},
            )
    return done(spec, outcome)


async def find_effect(
    action: PendingAction,
    *,
    spec: ToolSpec[Any],
    context: ToolContext,
    within_s: float | None = None,
) -> ToolOutcome | None:
    """The write's effect in the helpdesk since it was claimed, if the tool can look for it.

    None means "looked, and it did not happen" (or the tool cannot look: `spec.reconcile`
    is None). A failed lookup raises (HelpdeskError, TimeoutError): nothing is known then.
    The lookup takes at most `within_s` (default: the time its helpdesk calls may take).
    """
    if spec.reconcile is None:
        return None
    args = spec.args.model_validate(action.arguments)
    since = action.executed_at or action.created_at
    if within_s is None:
        within_s = _allowed(spec, context, None, keep_s=0.0)
    return await asyncio.wait_for(spec.reconcile(context, args, since), within_s)


async def _reconcile(
    spec: ToolSpec[Any], context: ToolContext, action: PendingAction, *, until: float
) -> ToolOutcome | None:
    """Look for the write's effect until `until` (time.monotonic()): a helpdesk too slow to
    answer in time may still finish the request a little later. None: not found by then."""
    if spec.reconcile is None:
        return None
    lookups = 0
    while True:
        lookups += 1
        left = until - time.monotonic()
        try:
            found = await find_effect(action, spec=spec, context=context, within_s=max(left, 0.1))
        except ReauthRequired:  # no lookup can succeed until the user signs in again
            log.warning("Could not look %s up after an unknown outcome: sign-in lost", spec.name)
            return None
        except (HelpdeskError, TimeoutError) as exc:
            log.warning("Looking up %s after an unknown outcome failed: %s", spec.name, exc)
            found = None
        if found is not None:
            log.info("%s found by lookup %d after an unknown outcome", spec.name, lookups)
            return found
        if until - time.monotonic() < RECONCILE_POLL_S:
            log.warning("%s not found in %d lookups after an unknown outcome", spec.name, lookups)
            return None
        await asyncio.sleep(RECONCILE_POLL_S)  # polling the helpdesk, bounded by `until`


def _allowed(
    spec: ToolSpec[Any], context: ToolContext, deadline: float | None, *, keep_s: float
) -> float:
    """How long one run (or preview, or lookup) of `spec` may take (see `time_allowed`)."""
    call_timeout_s = context.helpdesk.call_timeout_s
    if deadline is None:  # no turn waits (the recovery sweep): the calls' own timeouts
        return spec.helpdesk_calls * call_timeout_s
    left = deadline - time.monotonic()
    return spec.time_allowed(call_timeout_s=call_timeout_s, time_left_s=left, keep_s=keep_s)


def done(spec: ToolSpec[Any], outcome: ToolOutcome) -> WriteOutcome:
    """A write's outcome as the user reads it (the tool's done text) and the model sees it."""
    data = dict(outcome.data)
    if "error" in data:
        text = prompts.reply("write_failed", reason=data["error"])
        return WriteOutcome(ok=False, text=text, result=data)
    text = spec.done_text(data) if spec.done_text is not None else prompts.reply("write_done")
    return WriteOutcome(ok=True, text=text, result=data)


_STALE = {
    "done": "write_already_done",
    "executing": "write_in_progress",
    "cancelled": "write_was_cancelled",
    "failed": "write_already_failed",
}


def describe_stale(action: PendingAction | None) -> str:
    """Why a confirm or cancel found nothing to do, in the user's terms."""
    if action is None:
        return prompts.reply("write_missing")
    return prompts.reply(_STALE.get(action.status, "write_expired"))
