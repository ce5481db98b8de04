"""Sandbox handlers for the knowledge base: the API's article list/detail and the portal page."""

from __future__ import annotations

from aiohttp import web

from sandbox.auth import require_user
from sandbox.kb import company_articles, detail_json, ranked, summary_json
from sandbox.kb_page import article_page
from sandbox.state import public_base, state_of
from sandbox.validation import ApiError, page_params, path_id, query_text

routes = web.RouteTableDef()
page_routes = web.RouteTableDef()


@routes.get("/kb/articles")
async def list_articles(request: web.Request) -> web.Response:
    user = require_user(request)
    page = page_params(request, size_name="per_page")
    search = query_text(request, "search")
    category = query_text(request, "category", max_len=200)
    rows = company_articles(state_of(request), user.company_number)
    if category is not None:
        rows = [row for row in rows if row["category"].lower() == category.lower()]
    if search is not None:
        rows = [row for _, row in ranked(rows, search)]
    base = public_base(request)
    return web.json_response(
        {
            "articles": [summary_json(row, base) for row in page.slice(rows)],
            "pagination": page.meta(len(rows)),
        }
    )


@routes.get(r"/kb/articles/{article_id:[0-9]+}")
async def get_article(request: web.Request) -> web.Response:
    user = require_user(request)
    state = state_of(request)
    row = state.db.one(
        "SELECT * FROM articles WHERE article_id = ? AND company_number = ?",
        (path_id(request, "article_id"), user.company_number),
    )
    if row is None:
        raise ApiError(404, "Article not found")
    return web.json_response(detail_json(state, row, public_base(request)))


@page_routes.get(r"/helpdesk/kb/{article_id:[0-9]+}")
async def article_html(request: web.Request) -> web.Response:
    """The portal's page for an article (public in the sandbox, so links in chats open)."""
    state = state_of(request)
    row = state.db.one(
        "SELECT * FROM articles WHERE article_id = ?", (path_id(request, "article_id"),)
    )
    if row is None:
        raise ApiError(404, "Article not found")
    tenant = state.db.one("SELECT name FROM tenant")
    page = article_page(
        title=row["title"],
        category=row["category"],
        updated_at=row["updated_at"],
        body=row["body"],
        tenant=tenant["name"] if tenant else "Helpdesk",
    )
    return web.Response(
        text=page,
        content_type="text/html",
        headers={"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'"},
    )
