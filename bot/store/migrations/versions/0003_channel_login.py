"""Identities keep the user's sign-in name on the channel (Teams: the UPN) beside its id.

Revision ID: 0003_channel_login
Revises: 0002_message_meta
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_channel_login"
down_revision: str | Sequence[str] | None = "0002_message_meta"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("identities") as batch:
        batch.add_column(sa.Column("channel_login", sa.String(320), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("identities") as batch:
        batch.drop_column("channel_login")
