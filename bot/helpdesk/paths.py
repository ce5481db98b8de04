"""Every Valethon Helpdesk API v1 path the client calls, relative to the tenant's base URL.

The vendor's reference page lost the method and path of each endpoint; they were restored in
`helpdesk-api-paths.md` (rows marked B). Keeping them all here makes adapting to the vendor's
`helpdesk-openapi.yaml` a one-file change.
"""

from __future__ import annotations

from urllib.parse import quote

AUTH_LOGIN = "/auth/login"
AUTH_REFRESH = "/auth/refresh"
AUTH_STATUS = "/auth/status"
AUTH_LOGOUT = "/auth/logout"
OAUTH_PROVIDERS = "/auth/oauth/providers"
OAUTH_URL = "/auth/oauth/url"

PROFILE = "/profile"

TICKETS = "/tickets"
APPROVALS = "/tickets/approvals"
APPROVALS_COUNT = "/tickets/approvals/count"

ASSETS = "/assets"

CHAT_START = "/chat/start"

KB_ARTICLES = "/kb/articles"

INIT = "/init"
OUTAGES = "/outages"
JOB_TYPES = "/job-types"
FEATURES = "/features"


def _segment(value: int | str) -> str:
    # Ids are ints on the wire, but a str id must never smuggle in a "/" or a "?".
    return quote(str(value), safe="")


def ticket(ticket_id: int) -> str:
    return f"{TICKETS}/{_segment(ticket_id)}"


def ticket_comments(ticket_id: int) -> str:
    return f"{ticket(ticket_id)}/comments"


def ticket_approve(ticket_id: int) -> str:
    return f"{ticket(ticket_id)}/approve"


def ticket_reject(ticket_id: int) -> str:
    return f"{ticket(ticket_id)}/reject"


def asset(asset_id: int) -> str:
    return f"{ASSETS}/{_segment(asset_id)}"


def _chat(chat_id: int) -> str:
    return f"/chat/{_segment(chat_id)}"


def chat_messages(chat_id: int) -> str:
    return f"{_chat(chat_id)}/messages"


def chat_ticket(chat_id: int) -> str:
    return f"{_chat(chat_id)}/ticket"


def chat_transfer(chat_id: int) -> str:
    return f"{_chat(chat_id)}/transfer"


def chat_end(chat_id: int) -> str:
    return f"{_chat(chat_id)}/end"


def kb_article(article_id: int) -> str:
    return f"{KB_ARTICLES}/{_segment(article_id)}"
