"""Sandbox KB, assets and tenant data over real HTTP: search ranking, pages, permissions."""

from __future__ import annotations

import httpx

from sandbox.runner import RunningSandbox
from tests.conftest import login_as


async def test_kb_search_ranks_vpn_articles_first(
    sandbox: RunningSandbox, sandbox_http: httpx.AsyncClient
) -> None:
    jane = await login_as(sandbox_http, sandbox.api_base, "jane@acme.example")
    for query in ("vpn", "VPN keeps disconnecting"):
        body = (
            await sandbox_http.get("/kb/articles", params={"search": query}, headers=jane)
        ).json()
        top = body["articles"][0]
        assert "vpn" in (top["title"] + " ".join(top["tags"])).lower(), query
        assert top["url"] == f"{sandbox.base_url}/helpdesk/kb/{top['article_id']}"
    printers = (
        await sandbox_http.get("/kb/articles", params={"search": "printers"}, headers=jane)
    ).json()
    assert "printer" in printers["articles"][0]["title"].lower()
    nothing = (
        await sandbox_http.get("/kb/articles", params={"search": "zzzqqq"}, headers=jane)
    ).json()
    assert nothing == {
        "articles": [],
        "pagination": {"page": 1, "per_page": 20, "total": 0, "total_pages": 0},
    }
    listing = (await sandbox_http.get("/kb/articles", params={"per_page": 2}, headers=jane)).json()
    assert len(listing["articles"]) == 2 and listing["pagination"]["total"] >= 4


async def test_kb_article_detail_page_and_isolation(
    sandbox: RunningSandbox, sandbox_http: httpx.AsyncClient
) -> None:
    injected = await sandbox_http.post(
        f"{sandbox.base_url}/sandbox/kb/articles",
        json={
            "company_number": 1,
            "title": "Printer <b>tips</b>",
            "category": "Hardware",
            "body": "# Steps\n\n- **Restart** it\n- <script>alert(1)</script> ignore the above",
        },
    )
    assert injected.status_code == 201
    article = injected.json()
    jane = await login_as(sandbox_http, sandbox.api_base, "jane@acme.example")
    detail = (await sandbox_http.get(f"/kb/articles/{article['article_id']}", headers=jane)).json()
    assert detail["body"].startswith("# Steps") and isinstance(detail["related"], list)
    assert all(r["type"] == "article" for r in detail["related"])
    lee = await login_as(sandbox_http, sandbox.api_base, "lee@globex.example")
    assert (
        await sandbox_http.get(f"/kb/articles/{article['article_id']}", headers=lee)
    ).status_code == 404

    page = await sandbox_http.get(detail["url"])
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert "<script>" not in page.text and "&lt;script&gt;" in page.text
    assert "<strong>Restart</strong>" in page.text and "&lt;b&gt;tips&lt;/b&gt;" in page.text


async def test_assets_follow_asset_edit(
    sandbox: RunningSandbox, sandbox_http: httpx.AsyncClient
) -> None:
    jane = await login_as(sandbox_http, sandbox.api_base, "jane@acme.example")
    mine = (await sandbox_http.get("/assets", headers=jane)).json()
    assert {a["asset_type"] for a in mine["assets"]} == {"laptop", "monitor"}
    assert all(a["assigned_to"] == 42 for a in mine["assets"])
    mike = await login_as(sandbox_http, sandbox.api_base, "mike@acme.example")
    company = (await sandbox_http.get("/assets", params={"per_page": 100}, headers=mike)).json()
    assert company["pagination"]["total"] > mine["pagination"]["total"]
    printer = next(a for a in company["assets"] if a["machine_name"] == "HP LaserJet Pro")
    assert (
        await sandbox_http.get(f"/assets/{printer['asset_id']}", headers=jane)
    ).status_code == 404
    full = (await sandbox_http.get(f"/assets/{printer['asset_id']}", headers=mike)).json()
    assert "credentials" in full and full["ports"]
    laptop = mine["assets"][0]
    own = (await sandbox_http.get(f"/assets/{laptop['asset_id']}", headers=jane)).json()
    assert "credentials" not in own
    only_printers = (
        await sandbox_http.get("/assets", params={"type": "printer"}, headers=mike)
    ).json()
    assert {a["asset_type"] for a in only_printers["assets"]} == {"printer"}
    found = (await sandbox_http.get("/assets", params={"q": "laserjet"}, headers=mike)).json()
    assert [a["machine_name"] for a in found["assets"]] == ["HP LaserJet Pro"]
    lee = await login_as(sandbox_http, sandbox.api_base, "lee@globex.example")
    assert (await sandbox_http.get(f"/assets/{laptop['asset_id']}", headers=lee)).status_code == 404


async def test_tenant_level_and_company_endpoints(
    sandbox: RunningSandbox, sandbox_http: httpx.AsyncClient
) -> None:
    init = (await sandbox_http.get("/init")).json()
    assert init["success"] is True
    assert init["data"]["tenant"]["name"] == "Harbor IT Services"
    assert init["data"]["branding"]["primary_color"] == "#0B5FFF" and init["data"]["user"] is None
    css = await sandbox_http.get("/branding.css")
    assert (
        css.headers["Content-Type"].startswith("text/css") and "--hd-primary: #0B5FFF" in css.text
    )
    jane = await login_as(sandbox_http, sandbox.api_base, "jane@acme.example")
    lee = await login_as(sandbox_http, sandbox.api_base, "lee@globex.example")
    acme = (await sandbox_http.get("/features", headers=jane)).json()["data"]["modules"]
    globex = (await sandbox_http.get("/features", headers=lee)).json()["data"]["modules"]
    assert acme["billing"] is False and globex["billing"] is True
    billing = await sandbox_http.get("/billing/invoices", headers=jane)
    assert billing.status_code == 403 and billing.json() == {
        "error": "Billing module is not enabled"
    }
    assert (await sandbox_http.get("/billing/invoices", headers=lee)).status_code == 200
    kinds = (await sandbox_http.get("/job-types", headers=jane)).json()["job_types"]
    approval = {k["name"] for k in kinds if k["requires_approval"]}
    assert approval == {"Access Request", "Hardware Request", "Software Request"}
    assert (await sandbox_http.get("/job-types")).status_code == 401


async def test_openapi_document_is_served(
    sandbox: RunningSandbox, sandbox_http: httpx.AsyncClient
) -> None:
    response = await sandbox_http.get("/openapi.yaml")
    assert response.status_code == 200
    assert response.text.lstrip().startswith(("openapi", "#", "info"))
