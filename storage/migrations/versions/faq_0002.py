"""faq: entries and version stamp

Revision ID: faq_0002
Revises: faq_0001
Create Date: 2026-11-28 13:51:21.371630
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.base

revision: str = "faq_0002"
down_revision: str | Sequence[str] | None = "faq_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "faq_entries",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("lang", sa.String(length=8), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("alternatives", sa.JSON(), nullable=False),
        sa.Column("category", sa.String(length=64), nullable=False),
        sa.Column("department", sa.String(length=200), nullable=True),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=True),
        sa.Column("updated_at", storage.base.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", "lang", name=op.f("pk_faq_entries")),
    )
    op.create_table(
        "faq_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", storage.base.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_faq_state")),
    )


def downgrade() -> None:
    op.drop_table("faq_state")
    op.drop_table("faq_entries")
