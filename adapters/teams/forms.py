"""The "Create a helpdesk ticket" task module: its form card and the submitted fields (pure).

The form is opened by the message action (`composeExtension/fetchTask`) and answered with
a task-module `continue` response; the submit comes back as `composeExtension/submitAction`.
https://learn.microsoft.com/microsoftteams/platform/task-modules-and-cards/task-modules/task-modules-bots
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from adapters.teams.cards import ADAPTIVE_CARD, Card, adaptive_card, text_block, truncate
from bot import prompts
from bot.helpdesk.models import JobType


@dataclass(frozen=True, slots=True)
class TicketForm:
    """The task module's fields, checked (`errors` names what is missing)."""

    subject: str
    description: str
    job_type: str | None
    errors: dict[str, str] = field(default_factory=dict)

    def arguments(self) -> dict[str, Any]:
        """The create_ticket tool's arguments (the same the model would propose)."""
        arguments: dict[str, Any] = {"subject": self.subject, "description": self.description}
        if self.job_type:
            arguments["job_type"] = self.job_type
        return arguments


def parse_ticket_form(data: Mapping[str, Any]) -> TicketForm:
    subject = " ".join(str(data.get("subject") or "").split())[:255]
    description = str(data.get("description") or "").strip()[:4000]
    job_type = " ".join(str(data.get("job_type") or "").split())[:100]
    errors: dict[str, str] = {}
    if not subject:
        errors["subject"] = prompts.reply("channel_form_no_subject")
    if not description:
        errors["description"] = prompts.reply("channel_form_no_description")
    return TicketForm(
        subject=subject,
        description=description,
        job_type=job_type or None,
        errors=errors,
    )


def render_ticket_form(message_text: str, job_types: Sequence[JobType]) -> Card:
    """The "Create a helpdesk ticket" form, prefilled from the message it was opened on."""
    first_line = next((line for line in message_text.splitlines() if line.strip()), "")
    body: list[Card] = [
        text_block(prompts.reply("teams_form_title"), weight="Bolder", size="Medium"),
        {
            "type": "Input.Text",
            "id": "subject",
            "label": prompts.reply("label_subject"),
            "isRequired": True,
            "errorMessage": prompts.reply("channel_form_no_subject"),
            "maxLength": 255,
            "value": truncate(first_line, 120),
        },
        {
            "type": "Input.Text",
            "id": "description",
            "label": prompts.reply("label_description"),
            "isMultiline": True,
            "isRequired": True,
            "errorMessage": prompts.reply("channel_form_no_description"),
            "maxLength": 4000,
            "value": truncate(message_text, 4000),
        },
    ]
    if job_types:
        body.append(
            {
                "type": "Input.ChoiceSet",
                "id": "job_type",
                "label": prompts.reply("label_job_type"),
                "style": "compact",
                "choices": [{"title": jt.name, "value": jt.name} for jt in job_types[:50]],
            }
        )
    body.append(text_block(prompts.reply("teams_form_confirm_next"), isSubtle=True))
    actions = [{"type": "Action.Submit", "title": prompts.reply("teams_form_review"), "data": {}}]
    return adaptive_card(body, actions)


def task_continue(card: Card, *, title: str) -> dict[str, Any]:
    """The invoke answer that opens (or keeps open) a task module with `card`."""
    return {
        "task": {
            "type": "continue",
            "value": {
                "title": title,
                "height": "medium",
                "width": "medium",
                "card": {"contentType": ADAPTIVE_CARD, "content": card},
            },
        }
    }


def task_message(text: str) -> dict[str, Any]:
    return {"task": {"type": "message", "value": text}}
