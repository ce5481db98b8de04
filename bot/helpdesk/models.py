"""Pydantic models of the Helpdesk API's response bodies, and the one step that parses them.

Field names are the vendor's (``helpdesk-api-reference.txt``) or, where it is silent,
``docs/api-decisions.md``. Every model ignores unknown fields, so the vendor may add fields
freely. ``parse_body`` accepts both success shapes, ``{"success": true, "data": {...}}`` and
flat, and turns any shape mismatch into ``MalformedResponse``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from bot.helpdesk.errors import MalformedResponse


class _Wire(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


# --- auth and profile -------------------------------------------------------------------


class User(_Wire):
    employee_number: int
    first_name: str
    last_name: str
    email: str
    company_name: str | None = None


class LoginResult(_Wire):
    access_token: str
    refresh_token: str
    token_type: str = "Bearer"  # noqa: S105 - an auth scheme, not a secret
    expires_in: int | None = None
    user: User


class TokenRefresh(_Wire):
    access_token: str
    token_type: str = "Bearer"  # noqa: S105 - an auth scheme, not a secret
    expires_in: int | None = None
    # The API keeps the refresh token; a vendor that rotates it would send the new one here.
    refresh_token: str | None = None


class AuthStatus(_Wire):
    authenticated: bool
    user: User | None = None


class Permissions(_Wire):
    can_create_tickets: bool = False
    can_view_assets: bool = False
    can_view_billing: bool = False
    asset_edit: str | None = None  # "None" | "Read Only" | "Modify"
    ismgr: bool = False
    it_privileges: bool = False


class Profile(_Wire):
    employee_number: int
    company_number: int | None = None
    site_number: int | None = None
    first_name: str
    last_name: str
    email: str
    phone: str | None = None
    department: str | None = None
    company_name: str | None = None
    site_name: str | None = None
    permissions: Permissions


class OAuthProvider(_Wire):
    key: str
    name: str
    icon: str | None = None
    color: str | None = None


class OAuthProviders(_Wire):
    providers: list[OAuthProvider]


class OAuthUrl(_Wire):
    provider: str
    url: str


# --- tickets ----------------------------------------------------------------------------


class Pagination(_Wire):
    """Tickets page by ``limit``, every other list by ``per_page``; one of them is set."""

    page: int
    total: int
    total_pages: int
    limit: int | None = None
    per_page: int | None = None


class Ticket(_Wire):
    ticket_id: int
    ticket_number: int
    subject: str
    description: str | None = None
    status: str  # open | in_progress | on_hold | closed
    priority: int | None = None  # 1 (critical) .. 5 (lowest)
    job_type: str | None = None
    assigned_tech: int | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    closed_at: datetime | None = None
    approval_status: str | None = None  # None | pending | approved | rejected
    requester_name: str | None = None
    assigned_tech_name: str | None = None


class Comment(_Wire):
    comment_id: int
    comment: str
    author_name: str | None = None
    is_internal: bool = False
    created_at: datetime | None = None


class TicketAssetRef(_Wire):
    asset_id: int
    machine_name: str | None = None


class TicketDetail(Ticket):
    comments: list[Comment] = []
    asset: TicketAssetRef | None = None
    contracts: list[dict[str, Any]] = []

    @property
    def public_comments(self) -> list[Comment]:
        """The comments an end user may see: internal ones are for the helpdesk staff only."""
        return [comment for comment in self.comments if not comment.is_internal]


class TicketPage(_Wire):
    tickets: list[Ticket]
    pagination: Pagination


class CreatedTicket(_Wire):
    ticket_id: int
    ticket_number: int
    subject: str
    status: str
    requires_approval: bool = False


class ApprovalsCount(_Wire):
    is_manager: bool
    pending_count: int


# --- assets -----------------------------------------------------------------------------


class Asset(_Wire):
    asset_id: int
    machine_name: str
    asset_type: str | None = None
    status: str | None = None  # in_use | in_stock | repair | retired
    serial_number: str | None = None
    manufacturer: str | None = None
    model: str | None = None
    assigned_to: int | None = None
    assigned_to_name: str | None = None
    site_name: str | None = None
    purchase_date: date | None = None
    warranty_expires: date | None = None


class AssetDetail(Asset):
    ports: list[dict[str, Any]] = []
    licenses: list[dict[str, Any]] = []
    contracts: list[dict[str, Any]] = []
    credentials: list[dict[str, Any]] | None = None  # only for asset_edit "Modify"


class AssetPage(_Wire):
    assets: list[Asset]
    pagination: Pagination


# --- chat -------------------------------------------------------------------------------


class ChatMessage(_Wire):
    message_id: int
    chat_id: int | None = None
    sender_type: str  # user | ai | agent | system
    sender_name: str | None = None
    message: str
    created_at: datetime


class ChatSession(_Wire):
    chat_id: int
    status: str  # active | waiting_agent | agent | ended
    ticket_id: int | None = None
    started_at: datetime | None = None
    resumed: bool = False
    messages: list[ChatMessage] = []


class ChatMessages(_Wire):
    chat_id: int | None = None
    status: str | None = None
    agent_name: str | None = None
    messages: list[ChatMessage]
    pagination: Pagination | None = None


class ChatStatus(_Wire):
    """The answer to transfer and end: the chat's status afterwards."""

    chat_id: int
    status: str


# --- knowledge base ---------------------------------------------------------------------


class KbArticleSummary(_Wire):
    article_id: int
    title: str
    category: str | None = None
    summary: str | None = None
    url: str | None = None
    tags: list[str] = []
    updated_at: datetime | None = None


class KbRelated(_Wire):
    type: str  # article | ticket | asset
    id: int
    title: str | None = None


class KbArticle(KbArticleSummary):
    body: str
    related: list[KbRelated] = []


class KbPage(_Wire):
    articles: list[KbArticleSummary]
    pagination: Pagination


# --- company data -----------------------------------------------------------------------


class Outage(_Wire):
    outage_id: int
    service: str
    status: str  # degraded | outage | maintenance | resolved
    title: str
    message: str | None = None
    site_name: str | None = None  # None: every site
    started_at: datetime | None = None
    updated_at: datetime | None = None
    resolved_at: datetime | None = None


class Outages(_Wire):
    outages: list[Outage]
    all_operational: bool


class JobType(_Wire):
    job_type_id: int
    name: str
    description: str | None = None
    requires_approval: bool = False


class JobTypes(_Wire):
    job_types: list[JobType]


class Modules(_Wire):
    tickets: bool = False
    assets: bool = False
    kb: bool = False
    chat: bool = False
    billing: bool = False
    projects: bool = False


class Features(_Wire):
    modules: Modules


class Tenant(_Wire):
    name: str
    logo_url: str | None = None
    support_email: str | None = None


class Branding(_Wire):
    primary_color: str | None = None
    secondary_color: str | None = None
    accent_color: str | None = None
    text_color: str | None = None


class TenantInit(_Wire):
    tenant: Tenant
    branding: Branding
    features: Modules
    oauth_providers: list[OAuthProvider] = []
    user: User | None = None


# --- parsing ----------------------------------------------------------------------------

ModelT = TypeVar("ModelT", bound=BaseModel)


def unwrap(body: object) -> object:
    """Return the payload of ``{"success": true, "data": {...}}``, or a flat body unchanged."""
    if isinstance(body, dict) and body.get("success") is not False and "data" in body:
        data = body["data"]
        if isinstance(data, dict | list):
            return data
    return body


def parse_body(model: type[ModelT], body: object, *, method: str, path: str, status: int) -> ModelT:
    """Validate a decoded success body (either shape) as ``model``, or raise MalformedResponse."""
    payload = unwrap(body)
    if not isinstance(payload, dict):
        raise MalformedResponse(
            f"Expected a JSON object for {model.__name__}, got {type(payload).__name__}",
            method=method,
            path=path,
            status=status,
        )
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        # Field locations only: the input values may be personal data.
        fields = ", ".join(".".join(map(str, err["loc"])) or "body" for err in exc.errors())
        raise MalformedResponse(
            f"{model.__name__} does not match the response ({fields})",
            method=method,
            path=path,
            status=status,
        ) from exc
