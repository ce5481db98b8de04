"""Column types shared by the models and the migrations: UTC datetimes, JSON, integer ids."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, Integer
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

#: Autoincrementing primary keys: BIGINT on PostgreSQL, INTEGER (the rowid alias) on SQLite.
BigId: TypeEngine[int] = BigInteger().with_variant(Integer(), "sqlite")

#: JSON documents; JSONB on PostgreSQL. Python ``None`` is stored as SQL NULL.
Json: TypeEngine[Any] = JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that only accepts and only returns timezone-aware UTC datetimes.

    PostgreSQL keeps ``timestamptz``. SQLite has no time zones, so values are stored as
    naive UTC in one fixed text format, which keeps ``<``/``>`` in SQL chronological.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; pass a timezone-aware one")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
