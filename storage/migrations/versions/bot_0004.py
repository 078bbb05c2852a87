"""bot: disaster mode (one row: on/off, headline, link, who and when, the rich menus involved)

Revision ID: bot_0004
Revises: bot_0003
Create Date: 2026-12-07 00:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.base

revision: str = "bot_0004"
down_revision: str | Sequence[str] | None = "bot_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "bot_disaster_mode",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("on", sa.Boolean(), nullable=False),
        sa.Column("headline", sa.String(length=200), nullable=False),
        sa.Column("link", sa.String(length=2000), nullable=True),
        sa.Column("changed_by", sa.String(length=64), nullable=False),
        sa.Column("changed_at", storage.base.UTCDateTime(), nullable=False),
        sa.Column("disaster_menu_id", sa.String(length=100), nullable=True),
        sa.Column("normal_menu_id", sa.String(length=100), nullable=True),
        sa.Column("rich_menu_note", sa.String(length=500), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bot_disaster_mode")),
    )


def downgrade() -> None:
    op.drop_table("bot_disaster_mode")
