"""notifier: approval of posts (a second person), emergencies flagged for review

Revision ID: notifier_0003
Revises: notifier_0002
Create Date: 2026-12-07 00:10:00.000000

Posts written before approval existed are `not_required`: they were published under the old rules.
`posts.state` widens to 24 characters for `awaiting_approval`. (A downgrade first needs no post waiting
for approval: cancel or approve them.)
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.base

revision: str = "notifier_0003"
down_revision: str | Sequence[str] | None = "notifier_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("posts", schema=None) as batch_op:
        batch_op.alter_column(
            "state", existing_type=sa.String(length=16), type_=sa.String(length=24), existing_nullable=False
        )
        batch_op.add_column(
            sa.Column("approval_state", sa.String(length=24), nullable=False, server_default="not_required")
        )
        batch_op.add_column(sa.Column("submitted_by", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("submitted_at", storage.base.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("decided_by", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("decided_at", storage.base.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("approval_reason", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("reviewed_by", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("reviewed_at", storage.base.UTCDateTime(), nullable=True))
        batch_op.create_index("ix_posts_approval_state", ["approval_state"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("posts", schema=None) as batch_op:
        batch_op.drop_index("ix_posts_approval_state")
        for column in (
            "reviewed_at",
            "reviewed_by",
            "approval_reason",
            "decided_at",
            "decided_by",
            "submitted_at",
            "submitted_by",
            "approval_state",
        ):
            batch_op.drop_column(column)
        batch_op.alter_column(
            "state", existing_type=sa.String(length=24), type_=sa.String(length=16), existing_nullable=False
        )
