"""notifier: the platform id of each post of a thread (delivery_parts.platform_id)

Revision ID: notifier_0005
Revises: notifier_0004
Create Date: 2026-12-07 02:00:00.000000

A post in several languages goes out on X, Mastodon and Bluesky as a thread: each post is a part of
the delivery, recorded with its platform id so that a retry replies to it instead of posting it again.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "notifier_0005"
down_revision: str | Sequence[str] | None = "notifier_0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("delivery_parts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("platform_id", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("delivery_parts", schema=None) as batch_op:
        batch_op.drop_column("platform_id")
