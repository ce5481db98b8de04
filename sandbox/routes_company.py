"""Sandbox API handlers for company data: assets, outages, job types, features, init, branding."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from aiohttp import web

from sandbox.auth import User, optional_user, require_user
from sandbox.routes_auth import OAUTH_PROVIDERS
from sandbox.state import SandboxState, state_of
from sandbox.validation import (
    ApiError,
    page_params,
    path_id,
    query_bool,
    query_choice,
    query_text,
    wrapped,
)

ASSET_STATUSES = ("in_use", "in_stock", "repair", "retired")
OPENAPI_PATH = Path(__file__).with_name("openapi.yaml")

_ASSET_SQL = """
SELECT a.*, u.first_name || ' ' || u.last_name AS assigned_to_name, s.name AS site_name
FROM assets a LEFT JOIN users u ON u.employee_number = a.assigned_to
LEFT JOIN sites s ON s.site_number = a.site_number
"""

routes = web.RouteTableDef()


def _asset_json(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "asset_id": row["asset_id"],
        "machine_name": row["machine_name"],
        "asset_type": row["asset_type"],
        "status": row["status"],
        "serial_number": row["serial_number"],
        "manufacturer": row["manufacturer"],
        "model": row["model"],
        "assigned_to": row["assigned_to"],
        "assigned_to_name": row["assigned_to_name"],
        "site_name": row["site_name"],
        "purchase_date": row["purchase_date"],
        "warranty_expires": row["warranty_expires"],
    }


def _asset_reader(request: web.Request) -> User:
    user = require_user(request)
    if user.asset_edit == "None":
        raise ApiError(403, "You do not have permission to view assets")
    return user


@routes.get("/assets")
async def list_assets(request: web.Request) -> web.Response:
    user = _asset_reader(request)
    page = page_params(request, size_name="per_page")
    kind = query_text(request, "type", max_len=100)
    status = query_choice(request, "status", ASSET_STATUSES)
    search = query_text(request, "q", max_len=200)
    mine = query_bool(request, "mine") or user.asset_edit != "Modify"
    where: list[str] = ["a.company_number = ?"]
    params: list[Any] = [user.company_number]
    if mine:
        where.append("a.assigned_to = ?")
        params.append(user.employee_number)
    if status is not None:
        where.append("a.status = ?")
        params.append(status)
    sql = _ASSET_SQL + " WHERE " + " AND ".join(where) + " ORDER BY a.asset_id"
    rows = state_of(request).db.all(sql, params)
    if kind is not None:
        rows = [row for row in rows if row["asset_type"].lower() == kind.lower()]
    if search is not None:
        needle = search.lower()
        fields = ("machine_name", "serial_number", "manufacturer", "model", "assigned_to_name")
        rows = [row for row in rows if any(needle in str(row[f] or "").lower() for f in fields)]
    return web.json_response(
        {
            "assets": [_asset_json(row) for row in page.slice(rows)],
            "pagination": page.meta(len(rows)),
        }
    )


@routes.get(r"/assets/{asset_id:[0-9]+}")
async def get_asset(request: web.Request) -> web.Response:
    user = _asset_reader(request)
    row = state_of(request).db.one(
        _ASSET_SQL + " WHERE a.asset_id = ? AND a.company_number = ?",
        (path_id(request, "asset_id"), user.company_number),
    )
    if row is None or (user.asset_edit != "Modify" and row["assigned_to"] != user.employee_number):
        raise ApiError(404, "Asset not found")
    details = json.loads(row["details"])
    body = _asset_json(row)
    body["ports"] = details.get("ports", [])
    body["licenses"] = details.get("licenses", [])
    body["contracts"] = details.get("contracts", [])
    if user.asset_edit == "Modify":
        body["credentials"] = details.get("credentials", [])
    return web.json_response(body)


def outage_json(row: dict[str, Any]) -> dict[str, Any]:
    return {
        key: row[key]
        for key in (
            "outage_id",
            "service",
            "status",
            "title",
            "message",
            "site_name",
            "started_at",
            "updated_at",
            "resolved_at",
        )
    }


@routes.get("/outages")
async def list_outages(request: web.Request) -> web.Response:
    user = require_user(request)
    include_resolved = query_bool(request, "include_resolved") or False
    rows = state_of(request).db.all(
        "SELECT * FROM outages WHERE company_number = ? ORDER BY started_at DESC, outage_id DESC",
        (user.company_number,),
    )
    active = [row for row in rows if row["resolved_at"] is None]
    shown = rows if include_resolved else active
    return web.json_response(
        {"outages": [outage_json(row) for row in shown], "all_operational": not active}
    )


@routes.get("/job-types")
async def list_job_types(request: web.Request) -> web.Response:
    require_user(request)
    rows = state_of(request).db.all("SELECT * FROM job_types ORDER BY job_type_id")
    return web.json_response(
        {
            "job_types": [
                {**row, "requires_approval": bool(row["requires_approval"])} for row in rows
            ]
        }
    )


def _modules(state: SandboxState, company_number: int | None) -> dict[str, bool]:
    row = (
        state.db.one("SELECT * FROM companies WHERE company_number = ?", (company_number,))
        if company_number is not None
        else None
    )
    return {
        "tickets": True,
        "assets": True,
        "kb": True,
        "chat": True,
        "billing": bool(row and row["billing_enabled"]),
        "projects": bool(row and row["projects_enabled"]),
    }


@routes.get("/features")
async def features(request: web.Request) -> web.Response:
    user = require_user(request)
    return wrapped({"modules": _modules(state_of(request), user.company_number)})


def _tenant(state: SandboxState) -> dict[str, Any]:
    row = state.db.one("SELECT * FROM tenant")
    assert row is not None
    return row


@routes.get("/init")
async def init(request: web.Request) -> web.Response:
    state = state_of(request)
    user = optional_user(request)
    tenant = _tenant(state)
    return wrapped(
        {
            "tenant": {
                "name": tenant["name"],
                "logo_url": tenant["logo_url"],
                "support_email": tenant["support_email"],
            },
            "branding": {
                "primary_color": tenant["primary_color"],
                "secondary_color": tenant["secondary_color"],
                "accent_color": tenant["accent_color"],
                "text_color": tenant["text_color"],
            },
            "features": _modules(state, user.company_number if user else None),
            "oauth_providers": OAUTH_PROVIDERS,
            "user": user.summary() if user else None,
        }
    )


@routes.get("/branding.css")
async def branding_css(request: web.Request) -> web.Response:
    tenant = _tenant(state_of(request))
    css = (
        ":root {\n"
        f"  --hd-primary: {tenant['primary_color']};\n"
        f"  --hd-secondary: {tenant['secondary_color']};\n"
        f"  --hd-accent: {tenant['accent_color']};\n"
        f"  --hd-text: {tenant['text_color']};\n"
        "}\n"
    )
    return web.Response(text=css, content_type="text/css")


@routes.get("/openapi.yaml")
async def openapi(request: web.Request) -> web.Response:
    try:
        text = OPENAPI_PATH.read_text(encoding="utf-8")
    except OSError as exc:
        raise ApiError(404, "The OpenAPI document is not available") from exc
    return web.Response(text=text, content_type="application/yaml")


@routes.get("/billing/invoices")
async def billing_invoices(request: web.Request) -> web.Response:
    """Billing exists here only to show the module gate (403 unless enabled)."""
    user = require_user(request)
    if not user.billing_enabled:
        raise ApiError(403, "Billing module is not enabled")
    page = page_params(request, size_name="per_page")
    return web.json_response({"invoices": [], "pagination": page.meta(0)})
