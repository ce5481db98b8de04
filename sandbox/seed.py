"""Deterministic seed data of the sandbox: tenant, companies, people, tickets, assets, chats.

Dates are relative to the moment of seeding, so the data always looks current.
"""

from __future__ import annotations

import importlib
import logging
import random
from datetime import datetime, timedelta
from typing import Any

from sandbox.auth import hash_password
from sandbox.db import Database, dumps, iso
from sandbox.seed_data import (
    ACME_TICKETS,
    ASSETS,
    FALLBACK_ARTICLES,
    GLOBEX_TICKETS,
    JOB_TYPES,
    USERS,
    SeedTicket,
)

logger = logging.getLogger(__name__)

ACME, GLOBEX = 1, 2

DEMO_ACCOUNTS = [
    ("jane@acme.example", "demo-jane", "Acme Corp employee"),
    ("mike@acme.example", "demo-mike", "Acme Corp IT manager (approvals)"),
    ("sam@acme.example", "demo-sam", "Acme Corp, cannot create tickets"),
    ("priya@acme.example", "demo-priya", "Acme Corp finance"),
    ("lee@globex.example", "demo-lee", "Globex employee"),
    ("nora@globex.example", "demo-nora", "Globex manager"),
]


def _kb_articles() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The knowledge base of `sandbox.seed_kb`, or a tiny fallback while it is being written."""
    try:
        module = importlib.import_module("sandbox.seed_kb")
        return list(module.ACME_ARTICLES), list(module.GLOBEX_ARTICLES)
    except (ImportError, AttributeError):
        logger.warning("sandbox.seed_kb is unavailable; seeding a fallback knowledge base")
        return FALLBACK_ARTICLES, FALLBACK_ARTICLES


def seed(db: Database, start: datetime) -> None:
    """Fill an empty database with the demo tenant; `start` anchors every relative date."""
    rng = random.Random(20260313)

    def ago(days: float, *, hours: float = 0) -> str:
        jitter = timedelta(microseconds=rng.randrange(1_000_000))
        return iso(start - timedelta(days=days, hours=hours) - jitter)

    db.insert(
        "tenant",
        {
            "id": 1,
            "name": "Harbor IT Services",
            "support_email": "support@harbor-it.example",
            "logo_url": "/helpdesk/static/logo.svg",
            "primary_color": "#0B5FFF",
            "secondary_color": "#0A2540",
            "accent_color": "#00B3A4",
            "text_color": "#1A1F36",
        },
    )
    db.insert_many(
        "companies",
        [
            {
                "company_number": ACME,
                "name": "Acme Corp",
                "billing_enabled": 0,
                "projects_enabled": 0,
            },
            {
                "company_number": GLOBEX,
                "name": "Globex",
                "billing_enabled": 1,
                "projects_enabled": 1,
            },
        ],
    )
    db.insert_many(
        "sites",
        [
            {"site_number": 5, "company_number": ACME, "name": "Main Office"},
            {"site_number": 6, "company_number": ACME, "name": "Riverside Warehouse"},
            {"site_number": 10, "company_number": GLOBEX, "name": "Globex HQ"},
        ],
    )
    passwords = {email: password for email, password, _ in DEMO_ACCOUNTS}
    for number, company, site, email, first, last, phone, dept, mgr, create, edit, ismgr in USERS:
        password = passwords.get(email, f"demo-{email.split('@')[0]}")
        db.insert(
            "users",
            {
                "employee_number": number,
                "company_number": company,
                "site_number": site,
                "email": email,
                "password_hash": hash_password(password),
                "first_name": first,
                "last_name": last,
                "phone": phone,
                "department": dept,
                "manager": mgr,
                "can_create_tickets": int(create),
                "asset_edit": edit,
                "ismgr": int(ismgr),
                "it_privileges": int(ismgr and company == ACME),
            },
        )
    db.insert_many(
        "technicians",
        [
            {"tech_id": 5, "company_number": ACME, "name": "Mike Tech"},
            {"tech_id": 6, "company_number": ACME, "name": "Dana Support"},
            {"tech_id": 8, "company_number": GLOBEX, "name": "Omar Reyes"},
            {"tech_id": 9, "company_number": GLOBEX, "name": "Kim Lau"},
        ],
    )
    for index, (name, description, approval) in enumerate(JOB_TYPES, start=1):
        db.insert(
            "job_types",
            {
                "job_type_id": index,
                "name": name,
                "description": description,
                "requires_approval": int(approval),
            },
        )
    for asset_id, company, name, kind, status, serial, maker, model, owner, site in ASSETS:
        bought = start - timedelta(days=200 + (asset_id * 37) % 900)
        details = _asset_details(kind, name)
        db.insert(
            "assets",
            {
                "asset_id": asset_id,
                "company_number": company,
                "machine_name": name,
                "asset_type": kind,
                "status": status,
                "serial_number": serial,
                "manufacturer": maker,
                "model": model,
                "assigned_to": owner,
                "site_number": site,
                "purchase_date": bought.date().isoformat(),
                "warranty_expires": (bought + timedelta(days=3 * 365)).date().isoformat(),
                "details": dumps(details),
            },
        )
    _seed_tickets(db, ACME, 3001, ACME_TICKETS, ago, first_ticket_id=1001)
    _seed_tickets(db, GLOBEX, 5001, GLOBEX_TICKETS, ago, first_ticket_id=1001 + len(ACME_TICKETS))
    _seed_outages(db, start, ago)
    acme_articles, globex_articles = _kb_articles()
    for company, articles in ((ACME, acme_articles), (GLOBEX, globex_articles)):
        for article in articles:
            db.insert(
                "articles",
                {
                    "company_number": company,
                    "title": article["title"],
                    "category": article["category"],
                    "tags": dumps(list(article["tags"])),
                    "summary": article["summary"],
                    "body": article["body"],
                    "updated_at": ago(rng.randrange(5, 200)),
                },
            )
    _seed_chats(db, ago)


def _asset_details(kind: str, name: str) -> dict[str, Any]:
    ports = [{"port": 9100, "protocol": "tcp", "service": "jetdirect"}] if kind == "printer" else []
    licenses = (
        [{"name": "Microsoft 365 E3", "license_key": None, "expires": None}]
        if kind == "laptop"
        else []
    )
    credentials = (
        [{"credential_id": 1, "username": "admin", "description": f"{name} web console"}]
        if kind == "printer"
        else []
    )
    contracts = [{"contract_id": 1, "name": "Hardware support (next business day)"}]
    return {
        "ports": ports,
        "licenses": licenses,
        "credentials": credentials,
        "contracts": contracts,
    }


def _seed_tickets(
    db: Database,
    company: int,
    first_number: int,
    tickets: list[SeedTicket],
    ago: Any,
    *,
    first_ticket_id: int,
) -> None:
    users = {row["email"]: row for row in db.all("SELECT * FROM users")}
    assets = {row["machine_name"]: row["asset_id"] for row in db.all("SELECT * FROM assets")}
    count = len(tickets)
    for index, ticket in enumerate(tickets):
        requester = users[ticket.requester]
        age = (count - index) * 1.3 + 0.5
        created = ago(age)
        updated = ago(max(age - 0.4, 0.05))
        ticket_id = first_ticket_id + index
        approver = requester["manager"] if ticket.approval else None
        db.insert(
            "tickets",
            {
                "ticket_id": ticket_id,
                "company_number": company,
                "ticket_number": first_number + index,
                "requester": requester["employee_number"],
                "subject": ticket.subject,
                "description": ticket.description,
                "status": ticket.status,
                "priority": ticket.priority,
                "job_type": ticket.job_type,
                "assigned_tech": ticket.tech,
                "asset_id": assets.get(ticket.asset) if ticket.asset else None,
                "approval_status": ticket.approval,
                "approver": approver,
                "created_at": created,
                "updated_at": updated,
                "closed_at": updated if ticket.status == "closed" else None,
            },
        )
        for position, comment in enumerate(ticket.comments):
            author = (
                f"{requester['first_name']} {requester['last_name']}"
                if comment.author == "requester"
                else comment.author
            )
            db.insert(
                "comments",
                {
                    "comment_id": _next_id(db, "comments", "comment_id", 501),
                    "ticket_id": ticket_id,
                    "comment": comment.text,
                    "author_name": author,
                    "is_internal": int(comment.internal),
                    "created_at": ago(age - 0.05 * (position + 1)),
                },
            )


def _seed_outages(db: Database, start: datetime, ago: Any) -> None:
    began = start.replace(hour=9, minute=10, second=0, microsecond=0)
    if began > start:
        began -= timedelta(days=1)
    rows = [
        (
            ACME,
            "VPN",
            "degraded",
            "VPN disconnects at Main Office",
            "Users at Main Office may see VPN disconnects; engineers are investigating.",
            "Main Office",
            iso(began),
            None,
        ),
        (
            ACME,
            "Email",
            "resolved",
            "Email delivery delays",
            "Inbound email was delayed by up to 30 minutes.",
            None,
            ago(6),
            ago(5.8),
        ),
        (
            GLOBEX,
            "Email",
            "degraded",
            "Email delivery delays",
            "External emails may arrive up to an hour late; our mail provider is working on it.",
            None,
            ago(0.2),
            None,
        ),
    ]
    for company, service, status, title, message, site, started, resolved in rows:
        db.insert(
            "outages",
            {
                "company_number": company,
                "service": service,
                "status": status,
                "title": title,
                "message": message,
                "site_name": site,
                "started_at": started,
                "updated_at": resolved or started,
                "resolved_at": resolved,
            },
        )


def _seed_chats(db: Database, ago: Any) -> None:
    chats = [
        (
            101,
            ACME,
            42,
            "ended",
            None,
            [
                ("user", "Jane Smith", "How do I set up MFA on my new phone?", 2.0),
                (
                    "ai",
                    "Val AI",
                    "Open the Authenticator app and scan the QR code from your account's security page.",
                    1.999,
                ),
                ("user", "Jane Smith", "Thanks, that worked.", 1.99),
                ("system", "System", "The chat has ended", 1.989),
            ],
        ),
        (
            102,
            ACME,
            43,
            "waiting_agent",
            None,
            [
                ("user", "Priya Patel", "I still can't open the finance share.", 0.02),
                (
                    "ai",
                    "Val AI",
                    "I couldn't find an article that fixes this. I can transfer you to a human agent.",
                    0.0199,
                ),
                ("system", "System", "Transferring you to a human agent. Please wait.", 0.0198),
            ],
        ),
    ]
    for chat_id, company, employee, status, agent, messages in chats:
        db.insert(
            "chats",
            {
                "chat_id": chat_id,
                "company_number": company,
                "employee_number": employee,
                "status": status,
                "agent_name": agent,
                "started_at": ago(messages[0][3] + 0.001),
                "ended_at": ago(messages[-1][3]) if status == "ended" else None,
            },
        )
        for sender_type, sender_name, text, days in messages:
            db.insert(
                "chat_messages",
                {
                    "message_id": _next_id(db, "chat_messages", "message_id", 501),
                    "chat_id": chat_id,
                    "sender_type": sender_type,
                    "sender_name": sender_name,
                    "message": text,
                    "created_at": ago(days),
                },
            )


def _next_id(db: Database, table: str, column: str, first: int) -> int:
    row = db.one(f"SELECT MAX({column}) AS top FROM {table}")  # noqa: S608 - our names
    top = row["top"] if row else None
    return first if top is None else int(top) + 1
