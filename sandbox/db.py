"""SQLite storage of the sandbox helpdesk: schema, connection, clock and row helpers."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS tenant (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    name TEXT NOT NULL, support_email TEXT NOT NULL, logo_url TEXT NOT NULL,
    primary_color TEXT NOT NULL, secondary_color TEXT NOT NULL,
    accent_color TEXT NOT NULL, text_color TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS companies (
    company_number INTEGER PRIMARY KEY, name TEXT NOT NULL,
    billing_enabled INTEGER NOT NULL, projects_enabled INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS sites (
    site_number INTEGER PRIMARY KEY, company_number INTEGER NOT NULL, name TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS users (
    employee_number INTEGER PRIMARY KEY, company_number INTEGER NOT NULL,
    site_number INTEGER, email TEXT NOT NULL UNIQUE, password_hash TEXT NOT NULL,
    first_name TEXT NOT NULL, last_name TEXT NOT NULL, phone TEXT, department TEXT,
    manager INTEGER, can_create_tickets INTEGER NOT NULL, asset_edit TEXT NOT NULL,
    ismgr INTEGER NOT NULL, it_privileges INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS technicians (
    tech_id INTEGER PRIMARY KEY, company_number INTEGER NOT NULL, name TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS job_types (
    job_type_id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, description TEXT NOT NULL,
    requires_approval INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS tickets (
    ticket_id INTEGER PRIMARY KEY, company_number INTEGER NOT NULL,
    ticket_number INTEGER NOT NULL, requester INTEGER NOT NULL, subject TEXT NOT NULL,
    description TEXT NOT NULL, status TEXT NOT NULL, priority INTEGER NOT NULL,
    job_type TEXT NOT NULL, assigned_tech INTEGER, asset_id INTEGER,
    approval_status TEXT, approver INTEGER,
    created_at TEXT NOT NULL, updated_at TEXT NOT NULL, closed_at TEXT,
    UNIQUE (company_number, ticket_number)
);
CREATE TABLE IF NOT EXISTS comments (
    comment_id INTEGER PRIMARY KEY, ticket_id INTEGER NOT NULL, comment TEXT NOT NULL,
    author_name TEXT NOT NULL, is_internal INTEGER NOT NULL, created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS assets (
    asset_id INTEGER PRIMARY KEY, company_number INTEGER NOT NULL, machine_name TEXT NOT NULL,
    asset_type TEXT NOT NULL, status TEXT NOT NULL, serial_number TEXT NOT NULL,
    manufacturer TEXT NOT NULL, model TEXT NOT NULL, assigned_to INTEGER,
    site_number INTEGER, purchase_date TEXT, warranty_expires TEXT, details TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS articles (
    article_id INTEGER PRIMARY KEY, company_number INTEGER NOT NULL, title TEXT NOT NULL,
    category TEXT NOT NULL, tags TEXT NOT NULL, summary TEXT NOT NULL, body TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS outages (
    outage_id INTEGER PRIMARY KEY, company_number INTEGER NOT NULL, service TEXT NOT NULL,
    status TEXT NOT NULL, title TEXT NOT NULL, message TEXT NOT NULL, site_name TEXT,
    started_at TEXT NOT NULL, updated_at TEXT NOT NULL, resolved_at TEXT
);
CREATE TABLE IF NOT EXISTS chats (
    chat_id INTEGER PRIMARY KEY, company_number INTEGER NOT NULL,
    employee_number INTEGER NOT NULL, status TEXT NOT NULL, ticket_id INTEGER,
    agent_name TEXT, transfer_reason TEXT, started_at TEXT NOT NULL, ended_at TEXT
);
CREATE TABLE IF NOT EXISTS chat_messages (
    message_id INTEGER PRIMARY KEY, chat_id INTEGER NOT NULL, sender_type TEXT NOT NULL,
    sender_name TEXT NOT NULL, message TEXT NOT NULL, created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS access_tokens (
    jti TEXT PRIMARY KEY, employee_number INTEGER NOT NULL, revoked INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS refresh_tokens (
    token_hash TEXT PRIMARY KEY, employee_number INTEGER NOT NULL, expires_at REAL NOT NULL,
    revoked INTEGER NOT NULL DEFAULT 0
);
"""

TABLES = [
    "tenant",
    "companies",
    "sites",
    "users",
    "technicians",
    "job_types",
    "tickets",
    "comments",
    "assets",
    "articles",
    "outages",
    "chats",
    "chat_messages",
    "access_tokens",
    "refresh_tokens",
]

# SQLite INTEGER is a signed 64-bit value; larger path ids cannot name a row.
MAX_ID = 2**63 - 1


def iso(moment: datetime) -> str:
    """Format a moment as the API does: UTC, microseconds, `Z`."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_iso(text: str) -> str:
    """Parse an ISO-8601 moment (naive = UTC) into the canonical text; ValueError if not one."""
    try:
        moment = datetime.fromisoformat(text.strip())
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return iso(moment)
    except (ValueError, OverflowError) as exc:
        raise ValueError(text) from exc


class Clock:
    """Wall-clock UTC time that never repeats: each reading is at least 1 µs after the last."""

    def __init__(self) -> None:
        self._last = datetime.now(UTC)

    def now(self) -> datetime:
        moment = datetime.now(UTC)
        if moment <= self._last:
            moment = self._last + timedelta(microseconds=1)
        self._last = moment
        return moment

    def now_iso(self) -> str:
        return iso(self.now())


class Database:
    """One synchronous SQLite connection; the sandbox's data is small and lives in one loop."""

    def __init__(self, path: str | None) -> None:
        self.conn = sqlite3.connect(
            path or ":memory:", check_same_thread=False, isolation_level=None
        )
        self.conn.row_factory = sqlite3.Row
        self.conn.executescript(SCHEMA)

    def is_empty(self) -> bool:
        row = self.one("SELECT COUNT(*) AS n FROM users")
        return row is None or int(row["n"]) == 0

    def clear(self) -> None:
        for table in TABLES:
            self.conn.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed table names

    def close(self) -> None:
        self.conn.close()

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        return [dict(row) for row in self.conn.execute(sql, params).fetchall()]

    def one(self, sql: str, params: Sequence[Any] = ()) -> dict[str, Any] | None:
        row = self.conn.execute(sql, params).fetchone()
        return dict(row) if row is not None else None

    def run(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Execute a write; return the new row id (for INSERT)."""
        cursor = self.conn.execute(sql, params)
        return int(cursor.lastrowid or 0)

    def insert(self, table: str, row: dict[str, Any]) -> int:
        columns = ", ".join(row)
        marks = ", ".join("?" for _ in row)
        sql = f"INSERT INTO {table} ({columns}) VALUES ({marks})"  # noqa: S608 - our names
        return self.run(sql, list(row.values()))

    def insert_many(self, table: str, rows: Iterable[dict[str, Any]]) -> None:
        for row in rows:
            self.insert(table, row)

    def update(self, table: str, key: str, key_value: int, fields: dict[str, Any]) -> None:
        if not fields:
            return
        assignments = ", ".join(f"{name} = ?" for name in fields)
        sql = f"UPDATE {table} SET {assignments} WHERE {key} = ?"  # noqa: S608 - our names
        self.run(sql, [*fields.values(), key_value])


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))
