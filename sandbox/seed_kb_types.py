"""The shape of a seeded knowledge-base article."""

from typing import TypedDict


class SeedArticle(TypedDict):
    title: str
    category: str
    tags: list[str]
    summary: str  # one sentence
    body: str  # Markdown, 120-350 words, concrete numbered steps
