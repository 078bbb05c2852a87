"""notifier: drafts without a time, a text per channel

Revision ID: notifier_0002
Revises: notifier_0001
Create Date: 2026-12-07 09:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.base

revision: str = "notifier_0002"
down_revision: str | Sequence[str] | None = "notifier_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("posts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("channel_texts", sa.JSON(), nullable=False, server_default="{}"))
        batch_op.alter_column("scheduled_at", existing_type=storage.base.UTCDateTime(), nullable=True)


def downgrade() -> None:
    op.execute(sa.text("UPDATE posts SET scheduled_at = created_at WHERE scheduled_at IS NULL"))
    with op.batch_alter_table("posts", schema=None) as batch_op:
        batch_op.alter_column("scheduled_at", existing_type=storage.base.UTCDateTime(), nullable=False)
        batch_op.drop_column("channel_texts")
