"""Modals (pure): the new-ticket form and the reject-reason form, built and read back.

https://docs.slack.dev/surfaces/modals and, for what a submission carries,
https://docs.slack.dev/reference/interaction-payloads/view-interactions-payload
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from adapters.slack.render import escape, mrkdwn_section, truncate
from adapters.vocabulary import priorities
from bot import prompts
from bot.helpdesk.models import JobType

NEW_TICKET_CALLBACK = "helpdesk_new_ticket"
REJECT_CALLBACK = "helpdesk_reject_reason"


def new_ticket_modal(job_types: list[JobType]) -> dict[str, Any]:
    """The ticket form. https://docs.slack.dev/surfaces/modals"""

    def option(text: str, value: str) -> dict[str, Any]:
        return {"text": {"type": "plain_text", "text": truncate(text, 75)}, "value": value}

    choices = [option(f"{n} — {label}", str(n)) for n, label in priorities().items()]
    blocks: list[dict[str, Any]] = [
        _input(
            "subject",
            prompts.reply("label_subject"),
            {"type": "plain_text_input", "max_length": 255},
        ),
        _input(
            "description",
            prompts.reply("label_description"),
            {"type": "plain_text_input", "multiline": True, "max_length": 5000},
        ),
        _input(
            "priority",
            prompts.reply("label_priority"),
            {"type": "static_select", "options": choices, "initial_option": choices[2]},
        ),
    ]
    if job_types:
        options = [
            option(
                prompts.reply("slack_modal_needs_approval", name=job.name)
                if job.requires_approval
                else job.name,
                job.name,
            )
            for job in job_types[:100]
        ]
        blocks.append(
            _input(
                "job_type",
                prompts.reply("label_job_type"),
                {"type": "static_select", "options": options},
                True,
            )
        )
    blocks.append(mrkdwn_section(prompts.reply("slack_modal_submit_hint")))
    return {
        "type": "modal",
        "callback_id": NEW_TICKET_CALLBACK,
        "title": {"type": "plain_text", "text": prompts.reply("slack_modal_new_ticket")},
        "submit": {"type": "plain_text", "text": prompts.reply("slack_modal_create_ticket")},
        "close": {"type": "plain_text", "text": prompts.reply("label_cancel")},
        "blocks": blocks,
    }


def _input(
    name: str, label: str, element: dict[str, Any], optional: bool = False
) -> dict[str, Any]:
    return {
        "type": "input",
        "block_id": name,
        "optional": optional,
        "label": {"type": "plain_text", "text": label},
        "element": {**element, "action_id": name},
    }


def reject_modal(ticket_number: str) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": REJECT_CALLBACK,
        "private_metadata": ticket_number,
        "title": {"type": "plain_text", "text": prompts.reply("slack_modal_reject_title")},
        "submit": {"type": "plain_text", "text": prompts.reply("label_reject")},
        "close": {"type": "plain_text", "text": prompts.reply("label_cancel")},
        "blocks": [
            mrkdwn_section(
                prompts.reply("slack_modal_reject_question", number=escape(ticket_number))
            ),
            {
                "type": "input",
                "block_id": "reason",
                "label": {"type": "plain_text", "text": prompts.reply("label_reason")},
                "element": {
                    "type": "plain_text_input",
                    "action_id": "reason",
                    "multiline": True,
                    "max_length": 500,
                },
            },
        ],
    }


def view_values(view: Mapping[str, Any]) -> dict[str, str]:
    """A submitted modal's inputs as {action_id: value}; selects give their option's value.

    https://docs.slack.dev/reference/interaction-payloads/view-interactions-payload
    """
    values: dict[str, str] = {}
    state = (view.get("state") or {}).get("values") or {}
    for block in state.values():
        if not isinstance(block, Mapping):
            continue
        for action_id, element in block.items():
            if not isinstance(element, Mapping):
                continue
            option = element.get("selected_option")
            value = option.get("value") if isinstance(option, Mapping) else element.get("value")
            if isinstance(value, str) and value.strip():
                values[str(action_id)] = value.strip()
    return values


@dataclass(frozen=True, slots=True)
class TicketForm:
    subject: str
    description: str
    priority: int | None
    job_type: str | None

    def arguments(self) -> dict[str, Any]:
        """The create_ticket tool's arguments."""
        args: dict[str, Any] = {"subject": self.subject, "description": self.description}
        if self.priority is not None:
            args["priority"] = self.priority
        if self.job_type:
            args["job_type"] = self.job_type
        return args


def parse_ticket_form(values: Mapping[str, str]) -> TicketForm | dict[str, str]:
    """The new-ticket modal's fields, or {block_id: error} for Slack to show inline."""
    errors: dict[str, str] = {}
    subject = values.get("subject", "")
    description = values.get("description", "")
    if not subject:
        errors["subject"] = prompts.reply("channel_form_no_subject")
    elif len(subject) > 255:
        errors["subject"] = prompts.reply("slack_form_subject_too_long")
    if not description:
        errors["description"] = prompts.reply("channel_form_no_description")
    priority_text = values.get("priority")
    priority = int(priority_text) if priority_text and priority_text.isdigit() else None
    if priority is not None and not 1 <= priority <= 5:
        errors["priority"] = prompts.reply("slack_form_pick_priority")
    if errors:
        return errors
    return TicketForm(subject, description, priority, values.get("job_type") or None)
