"""Knowledge-base tools: search_kb and get_kb_article, with the articles as citable sources."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from bot.helpdesk.errors import HelpdeskError, NotFound
from bot.helpdesk.models import KbArticleSummary
from bot.messages import Source
from bot.tooling import ToolContext, ToolOutcome, ToolSpec
from tools._common import MAX_ITEMS, failed, needs_module, truncate

SOURCES_PER_SEARCH = 3
SUMMARY_CHARS = 300
# ~1,500 tokens at ~4 characters a token (issue 3: KB bodies are capped at 1,500 tokens).
BODY_CHARS = 6000


class SearchKbArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    query: str = Field(
        min_length=1,
        max_length=300,
        description="What to look for, in the user's words or as keywords, "
        "e.g. 'VPN keeps disconnecting' or 'reset MFA on a new phone'.",
    )
    category: str | None = Field(
        default=None,
        min_length=1,
        max_length=100,
        description="Only articles of this category (e.g. 'Network', 'Email'); "
        "omit to search the whole knowledge base.",
    )


class GetKbArticleArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    article_id: int = Field(gt=0, description="The article_id of an article search_kb returned.")


def _source(article: KbArticleSummary) -> Source | None:
    return Source(article.article_id, article.title, article.url) if article.url else None


async def search_kb(ctx: ToolContext, args: SearchKbArgs) -> ToolOutcome:
    try:
        page = await ctx.helpdesk.search_kb(
            ctx.auth, search=args.query, category=args.category, per_page=MAX_ITEMS
        )
    except HelpdeskError as exc:
        return failed("could not search the knowledge base", exc)
    articles = page.articles[:MAX_ITEMS]
    found = [_source(article) for article in articles[:SOURCES_PER_SEARCH]]
    return ToolOutcome(
        {
            "query": args.query,
            "articles": [
                {
                    "article_id": article.article_id,
                    "title": article.title,
                    "summary": truncate(article.summary, SUMMARY_CHARS),
                    "category": article.category,
                    "url": article.url,
                }
                for article in articles
            ],
        },
        sources=tuple(source for source in found if source is not None),
        primary_sources=False,
        found_nothing=not articles,
    )


async def get_kb_article(ctx: ToolContext, args: GetKbArticleArgs) -> ToolOutcome:
    try:
        article = await ctx.helpdesk.get_kb_article(ctx.auth, args.article_id)
    except NotFound:
        return ToolOutcome({"error": f"article {args.article_id} not found"})
    except HelpdeskError as exc:
        return failed(f"could not read article {args.article_id}", exc)
    source = _source(article)
    return ToolOutcome(
        {
            "article": {
                "article_id": article.article_id,
                "title": article.title,
                "category": article.category,
                "url": article.url,
                "body": truncate(article.body, BODY_CHARS),
            }
        },
        sources=(source,) if source is not None else (),
        primary_sources=True,
    )


def kb_tools() -> list[ToolSpec[Any]]:
    kb = needs_module("kb")
    return [
        ToolSpec("search_kb", SearchKbArgs, search_kb, allowed=kb),
        ToolSpec("get_kb_article", GetKbArticleArgs, get_kb_article, allowed=kb),
    ]
