"""Every HelpdeskClient method against the sandbox helpdesk over real HTTP: typed results.

Error classes the API answers by itself (403, 404, 400, 409) are here too; injected faults,
retries and token refresh are in ``test_helpdesk_client_faults.py``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from bot.helpdesk import HelpdeskClient, UserAuth
from bot.helpdesk.errors import (
    AuthError,
    Conflict,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from bot.helpdesk.models import ChatMessage, CreatedTicket, Ticket, TicketDetail

JANE = ("jane@acme.example", "demo-jane")
MIKE = ("mike@acme.example", "demo-mike")
SAM = ("sam@acme.example", "demo-sam")
LEE = ("lee@globex.example", "demo-lee")


@pytest.fixture
async def helpdesk(sandbox: Any) -> AsyncIterator[HelpdeskClient]:
    async with HelpdeskClient(
        sandbox.api_base, retry_budget=2.0, backoff_base=0.01, backoff_max=0.1
    ) as client:
        yield client


@pytest.fixture
async def backoffice(sandbox: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=sandbox.base_url, timeout=5.0) as http:
        yield http


async def sign_in(helpdesk: HelpdeskClient, account: tuple[str, str]) -> UserAuth:
    result = await helpdesk.login(*account)
    return UserAuth(f"test:{account[0]}", result.access_token, result.refresh_token)


async def test_login_status_refresh_and_logout(helpdesk: HelpdeskClient) -> None:
    login = await helpdesk.login(*JANE)
    assert login.user.email == JANE[0]
    assert login.user.company_name == "Acme Corp"
    assert login.token_type == "Bearer" and login.expires_in
    auth = UserAuth("test:jane", login.access_token, login.refresh_token)

    status = await helpdesk.auth_status(auth)
    assert status.authenticated and status.user is not None
    assert status.user.employee_number == login.user.employee_number

    renewed = await helpdesk.refresh(login.refresh_token)
    assert renewed.access_token and renewed.access_token != login.access_token

    await helpdesk.logout(auth)
    assert (await helpdesk.auth_status(auth)).authenticated is False
    with pytest.raises(AuthError) as caught:
        await helpdesk.refresh(login.refresh_token)
    assert (caught.value.status, caught.value.path) == (401, "/auth/refresh")


@pytest.mark.parametrize("pool", ["owned", "shared"])
async def test_one_users_session_cookie_never_reaches_another_call(sandbox: Any, pool: str) -> None:
    # Login also sets the SPA's hd_session cookie; the pool is shared by every user.
    async with httpx.AsyncClient() as shared:
        http = shared if pool == "shared" else None
        async with HelpdeskClient(sandbox.api_base, http=http) as helpdesk:
            await helpdesk.login(*JANE)
            assert (await helpdesk.init()).user is None
            lee = await sign_in(helpdesk, LEE)
            assert (await helpdesk.get_profile(lee)).email == LEE[0]
            lee.access_token = "revoked-or-garbage"
            assert (await helpdesk.auth_status(lee)).authenticated is False


async def test_wrong_password_is_an_auth_error(helpdesk: HelpdeskClient) -> None:
    with pytest.raises(AuthError) as caught:
        await helpdesk.login(JANE[0], "not-her-password")
    assert caught.value.error == "Invalid username or password"


async def test_tenant_level_calls_need_no_auth(helpdesk: HelpdeskClient) -> None:
    init = await helpdesk.init()
    assert init.tenant.name == "Harbor IT Services"
    assert init.branding.primary_color
    assert {p.key for p in init.oauth_providers} == {"google", "microsoft"}

    providers = await helpdesk.oauth_providers()
    assert [p.key for p in providers] == [p.key for p in init.oauth_providers]
    url = await helpdesk.oauth_url("google", redirect_uri="http://127.0.0.1:8080/cb")
    assert url.provider == "google" and url.url.startswith("http")
    with pytest.raises(ValidationFailed) as caught:
        await helpdesk.oauth_url("apple")
    assert caught.value.status == 400 and caught.value.message


async def test_profile_and_permissions(helpdesk: HelpdeskClient) -> None:
    jane = await helpdesk.get_profile(await sign_in(helpdesk, JANE))
    assert (jane.email, jane.company_name) == (JANE[0], "Acme Corp")
    assert jane.permissions.can_create_tickets and not jane.permissions.ismgr
    sam = await helpdesk.get_profile(await sign_in(helpdesk, SAM))
    assert not sam.permissions.can_create_tickets
    assert sam.permissions.asset_edit == "None"


async def test_company_data(helpdesk: HelpdeskClient) -> None:
    jane = await sign_in(helpdesk, JANE)
    outages = await helpdesk.outages(jane)
    assert not outages.all_operational
    assert [o for o in outages.outages if o.status != "resolved"]
    job_types = await helpdesk.job_types(jane)
    assert "General" in {job.name for job in job_types}
    features = await helpdesk.features(jane)
    assert features.modules.tickets and not features.modules.billing


async def test_ticket_lifecycle(helpdesk: HelpdeskClient) -> None:
    jane = await sign_in(helpdesk, JANE)
    page = await helpdesk.list_tickets(jane, status="all", page=1, limit=5)
    assert len(page.tickets) <= 5 and page.pagination.limit == 5
    assert page.pagination.total_pages >= 1 and all(isinstance(t, Ticket) for t in page.tickets)

    vpn = await helpdesk.find_ticket_by_number(jane, 3012)
    assert vpn is not None and vpn.subject == "VPN drops"
    printer = await helpdesk.find_ticket_by_number(jane, 3018)
    assert printer is not None and printer.subject == "Printer not working"
    assert await helpdesk.find_ticket_by_number(jane, 999_999) is None

    detail = await helpdesk.get_ticket(jane, vpn.ticket_id)
    assert isinstance(detail, TicketDetail) and detail.ticket_number == 3012
    assert all(not c.is_internal for c in detail.public_comments)

    created = await helpdesk.create_ticket(
        jane, subject="Docking station", description="USB-C dock flickers", priority=4
    )
    assert isinstance(created, CreatedTicket) and created.status == "open"
    found = await helpdesk.find_ticket_by_number(jane, created.ticket_number)
    assert found is not None and found.ticket_id == created.ticket_id

    updated = await helpdesk.update_ticket(jane, created.ticket_id, priority=2, status="on_hold")
    assert (updated.priority, updated.status) == (2, "on_hold")
    comment = await helpdesk.add_comment(jane, created.ticket_id, "Tried another cable.")
    assert comment.comment == "Tried another cable." and not comment.is_internal
    detail = await helpdesk.get_ticket(jane, created.ticket_id)
    assert [c.comment_id for c in detail.comments] == [comment.comment_id]


async def test_ticket_errors(helpdesk: HelpdeskClient) -> None:
    jane, sam, lee = [await sign_in(helpdesk, a) for a in (JANE, SAM, LEE)]
    with pytest.raises(PermissionDenied) as denied:
        await helpdesk.create_ticket(sam, subject="Need a mouse", description="Mine broke")
    assert (denied.value.status, denied.value.method, denied.value.path) == (
        403,
        "POST",
        "/tickets",
    )
    assert denied.value.error

    vpn = await helpdesk.find_ticket_by_number(jane, 3012)
    assert vpn is not None
    with pytest.raises(NotFound) as foreign:
        await helpdesk.get_ticket(lee, vpn.ticket_id)
    assert foreign.value.path == f"/tickets/{vpn.ticket_id}"
    assert await helpdesk.find_ticket_by_number(lee, 3012) is None
    with pytest.raises(NotFound):
        await helpdesk.get_ticket(jane, 987_654_321)

    with pytest.raises(ValidationFailed) as invalid:
        await helpdesk.create_ticket(jane, subject="x", description="y", priority=9)
    assert invalid.value.status == 400 and "priority" in invalid.value.message
    with pytest.raises(ValidationFailed) as too_long:
        await helpdesk.create_ticket(jane, subject="s" * 256, description="y")
    assert "subject" in too_long.value.message
    with pytest.raises(ValueError, match="at least one"):
        await helpdesk.update_ticket(jane, vpn.ticket_id)


async def test_approvals(helpdesk: HelpdeskClient) -> None:
    mike, jane = await sign_in(helpdesk, MIKE), await sign_in(helpdesk, JANE)
    count = await helpdesk.approvals_count(mike)
    assert (count.is_manager, count.pending_count) == (True, 2)
    assert (await helpdesk.approvals_count(jane)).is_manager is False
    with pytest.raises(PermissionDenied):
        await helpdesk.list_approvals(jane)

    pending = await helpdesk.list_approvals(mike)
    assert len(pending.tickets) == 2 and pending.pagination.total == 2
    first, second = pending.tickets
    with pytest.raises(PermissionDenied):
        await helpdesk.approve_ticket(jane, first.ticket_id)
    approved = await helpdesk.approve_ticket(mike, first.ticket_id)
    assert approved.approval_status == "approved"
    with pytest.raises(Conflict) as again:
        await helpdesk.approve_ticket(mike, first.ticket_id)
    assert again.value.status == 409
    rejected = await helpdesk.reject_ticket(mike, second.ticket_id, "Needs budget approval.")
    assert (rejected.approval_status, rejected.status) == ("rejected", "closed")
    assert (await helpdesk.approvals_count(mike)).pending_count == 0


async def test_assets(helpdesk: HelpdeskClient) -> None:
    jane = await sign_in(helpdesk, JANE)
    page = await helpdesk.list_assets(jane, page=1, per_page=10, mine=True)
    assert page.assets and page.pagination.per_page == 10
    detail = await helpdesk.get_asset(jane, page.assets[0].asset_id)
    assert detail.asset_id == page.assets[0].asset_id and detail.machine_name
    searched = await helpdesk.list_assets(jane, q=detail.machine_name[:4])
    assert detail.asset_id in {a.asset_id for a in searched.assets}
    with pytest.raises(PermissionDenied):
        await helpdesk.list_assets(await sign_in(helpdesk, SAM))
    with pytest.raises(NotFound):
        await helpdesk.get_asset(await sign_in(helpdesk, LEE), detail.asset_id)


async def test_knowledge_base(helpdesk: HelpdeskClient) -> None:
    jane = await sign_in(helpdesk, JANE)
    found = await helpdesk.search_kb(jane, search="VPN", per_page=5)
    assert found.articles and found.pagination.per_page == 5
    best = found.articles[0]
    assert "vpn" in (best.title + (best.summary or "")).lower()
    article = await helpdesk.get_kb_article(jane, best.article_id)
    assert article.body and article.article_id == best.article_id
    by_category = await helpdesk.search_kb(jane, category=best.category)
    assert all(a.category == best.category for a in by_category.articles)
    with pytest.raises(NotFound):
        await helpdesk.get_kb_article(jane, 10**9)


async def test_chat_lifecycle(helpdesk: HelpdeskClient, backoffice: httpx.AsyncClient) -> None:
    jane = await sign_in(helpdesk, JANE)
    chat = await helpdesk.chat_start(jane)
    assert chat.status == "active"
    assert (await helpdesk.chat_start(jane)).chat_id == chat.chat_id, "start resumes"

    sent = await helpdesk.chat_send(jane, chat.chat_id, "My VPN keeps dropping")
    assert isinstance(sent, ChatMessage) and sent.sender_type == "user"
    replies = await helpdesk.chat_messages(jane, chat.chat_id, since=sent.created_at)
    assert [m.sender_type for m in replies.messages] == ["ai"]

    moved = await helpdesk.chat_transfer(jane, chat.chat_id, reason="wants a person")
    assert (moved.chat_id, moved.status) == (chat.chat_id, "waiting_agent")
    cursor = (await helpdesk.chat_messages(jane, chat.chat_id)).messages[-1].created_at
    answer = await backoffice.post(
        f"/sandbox/chats/{chat.chat_id}/agent-messages",
        json={"message": "Hi Jane, looking now.", "agent_name": "Dana"},
    )
    assert answer.status_code < 300, answer.text
    news = await helpdesk.chat_messages(jane, chat.chat_id, since=cursor, per_page=50)
    assert news.status == "agent"
    assert ("agent", "Hi Jane, looking now.") in {(m.sender_type, m.message) for m in news.messages}

    ticket = await helpdesk.chat_create_ticket(jane, chat.chat_id, subject="VPN drops again")
    assert ticket.ticket_number
    with pytest.raises(Conflict) as twice:
        await helpdesk.chat_create_ticket(jane, chat.chat_id)
    assert twice.value.ticket_number == ticket.ticket_number

    ended = await helpdesk.chat_end(jane, chat.chat_id)
    assert ended.status == "ended"
    with pytest.raises(Conflict):
        await helpdesk.chat_send(jane, chat.chat_id, "still there?")
    with pytest.raises(NotFound):
        await helpdesk.chat_messages(await sign_in(helpdesk, LEE), chat.chat_id)
    fresh = await helpdesk.chat_start(jane)
    assert fresh.chat_id != chat.chat_id and not fresh.resumed
