"""Writes wait for the user: propose a pending action, then run it exactly once on confirm.

When the model calls a write tool, nothing is written: `propose` builds the tool's preview
(exactly what will be written, plus facts found deterministically, such as an active outage
or a similar open ticket), stores a pending action with an idempotency key and a 15-minute
expiry, and returns a `ConfirmRequest`. `confirm` claims the action atomically in the store,
so however many times and from however many replicas the confirm arrives, one caller runs
it. A write whose outcome is unknown (the helpdesk timed out after it may have acted) is
reconciled by looking for its effect before anyone is told it failed.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

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

WRITE_TIMEOUT_S = 10.0


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
) -> tuple[ConfirmRequest | None, dict[str, Any]]:
    """A confirm-request for the write, and the result the model sees instead of the write."""
    assert spec.preview is not None
    try:
        args = spec.parse(raw_arguments)
        preview = await asyncio.wait_for(spec.preview(context, args), WRITE_TIMEOUT_S)
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
    actions = [
        Action(id=f"confirm:{action.id}", kind="confirm", label="Confirm", style="primary"),
        Action(id=f"cancel:{action.id}", kind="cancel", label="Cancel"),
    ]
    if preview.similar_ticket_number is not None and spec.name == "create_ticket":
        actions.append(
            Action(
                id=f"comment_instead:{action.id}",
                kind="comment_instead",
                label=f"Comment on {preview.similar_ticket_number} instead",
                value=str(preview.similar_ticket_number),
            )
        )
    request = ConfirmRequest(
        pending_action_id=action.id,
        title=preview.title,
        fields=tuple(ConfirmField(label, value) for label, value in preview.fields),
        notices=preview.notices,
        actions=tuple(actions),
    )
    summary = "; ".join(f"{label}: {value}" for label, value in preview.fields)
    model_result: dict[str, Any] = {
        "status": "awaiting_confirmation",
        "summary": f"{preview.title} — {summary}",
    }
    if preview.notices:
        model_result["notices"] = list(preview.notices)
    return request, model_result


def render_confirm_text(request: ConfirmRequest) -> str:
    """The confirm-request as Markdown, for channels without buttons and for the transcript."""
    lines = [f"**{request.title}** — please confirm:"]
    lines += [f"- **{field.label}:** {field.value}" for field in request.fields]
    lines += [f"> {notice}" for notice in request.notices]
    lines.append("Reply **yes** to confirm or **no** to cancel.")
    return "\n".join(lines)


async def execute(
    action: PendingAction, *, spec: ToolSpec[Any], context: ToolContext
) -> WriteOutcome:
    """Run a claimed action once. Never retried here: the client already refuses to repeat a
    write that may have reached the server; an unknown outcome is reconciled instead."""
    args = spec.args.model_validate(action.arguments)
    try:
        outcome = await asyncio.wait_for(spec.run(context, args), WRITE_TIMEOUT_S)
    except ReauthRequired:
        raise
    except (OutcomeUnknown, TimeoutError):
        found = await _reconcile(spec, context, args, action)
        if found is None:
            return WriteOutcome(
                ok=False,
                text="The helpdesk did not answer in time, and I can't tell whether this went "
                "through. Please check your tickets before trying again.",
                result={"status": "unknown", "tool": spec.name},
            )
        outcome = found
    except HelpdeskError as exc:
        reason = describe_helpdesk_error(exc)
        return WriteOutcome(ok=False, text=f"That didn't work: {reason}.", result={"error": reason})
    return _done(spec.name, outcome)


async def _reconcile(
    spec: ToolSpec[Any], context: ToolContext, args: Any, action: PendingAction
) -> ToolOutcome | None:
    if spec.reconcile is None:
        return None
    since = action.executed_at or action.created_at
    try:
        return await asyncio.wait_for(spec.reconcile(context, args, since), WRITE_TIMEOUT_S)
    except (HelpdeskError, TimeoutError) as exc:
        log.warning("Could not reconcile %s after an unknown outcome: %s", spec.name, exc)
        return None


def _done(tool: str, outcome: ToolOutcome) -> WriteOutcome:
    data = dict(outcome.data)
    if "error" in data:
        return WriteOutcome(ok=False, text=f"That didn't work: {data['error']}.", result=data)
    number = data.get("ticket_number")
    subject = data.get("subject")
    texts = {
        "create_ticket": f"Created ticket **{number}**"
        + (f" — {subject}" if subject else "")
        + ("; it now waits for your manager's approval." if data.get("requires_approval") else "."),
        "create_ticket_from_chat": f"Created ticket **{number}** from this conversation.",
        "add_ticket_comment": f"Added your comment to ticket **{number}**.",
        "update_ticket": f"Updated ticket **{number}**.",
        "approve_ticket": f"Approved ticket **{number}**.",
        "reject_ticket": f"Rejected ticket **{number}**.",
    }
    return WriteOutcome(ok=True, text=texts.get(tool, "Done."), result=data)


def describe_stale(action: PendingAction | None) -> str:
    """Why a confirm or cancel found nothing to do, in the user's terms."""
    if action is None:
        return "I couldn't find that request any more."
    if action.status == "done":
        return "That's already done."
    if action.status in ("executing",):
        return "That's being done right now."
    if action.status == "cancelled":
        return "That request was cancelled."
    if action.status == "failed":
        return "That request already failed; ask me again if you still need it."
    return "That request expired. Ask me again if you still need it."
