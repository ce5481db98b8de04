"""Val AI, the sandbox's stand-in for the helpdesk's own chat AI: one KB-grounded reply."""

from __future__ import annotations

from typing import Any

from sandbox.chats import add_message
from sandbox.kb import article_url, best_article
from sandbox.state import SandboxState

SENDER_NAME = "Val AI"
NO_MATCH = (
    "I couldn't find a knowledge-base article about that. "
    "I can transfer you to a human agent if you like."
)


def compose_reply(state: SandboxState, *, company_number: int, text: str, base_url: str) -> str:
    """A short answer that cites the best-matching article of the user's company."""
    article = best_article(state, company_number, text)
    if article is None:
        return NO_MATCH
    url = article_url(base_url, article["article_id"])
    return f'This article may help: "{article["title"]}". {article["summary"]} Read more: {url}'


def reply(state: SandboxState, *, chat: dict[str, Any], text: str, base_url: str) -> dict[str, Any]:
    """Post Val AI's reply to a user message in an active chat; returns the message."""
    answer = compose_reply(
        state, company_number=chat["company_number"], text=text, base_url=base_url
    )
    return add_message(
        state, chat["chat_id"], sender_type="ai", sender_name=SENDER_NAME, text=answer
    )
