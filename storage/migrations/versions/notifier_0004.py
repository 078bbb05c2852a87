"""notifier: staff edits of the emergency templates' texts (per language, approved like posts) and
review marks

Revision ID: notifier_0004
Revises: notifier_0003
Create Date: 2026-12-07 02:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.base

revision: str = "notifier_0004"
down_revision: str | Sequence[str] | None = "notifier_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "emergency_template_revisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("template_id", sa.String(length=64), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("author", sa.String(length=64), nullable=False),
        sa.Column("created_at", storage.base.UTCDateTime(), nullable=False),
        sa.Column("state", sa.String(length=24), nullable=False),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("decided_at", storage.base.UTCDateTime(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_emergency_template_revisions")),
    )
    with op.batch_alter_table("emergency_template_revisions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_emergency_template_revisions_text", ["template_id", "language", "state"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_emergency_template_revisions_state"), ["state"], unique=False)
    op.create_table(
        "emergency_template_reviews",
        sa.Column("template_id", sa.String(length=64), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("revision_id", sa.Integer(), nullable=True),
        sa.Column("reviewed_by", sa.String(length=64), nullable=False),
        sa.Column("reviewed_at", storage.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["revision_id"],
            ["emergency_template_revisions.id"],
            name=op.f("fk_emergency_template_reviews_revision_id_emergency_template_revisions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("template_id", "language", name=op.f("pk_emergency_template_reviews")),
    )


def downgrade() -> None:
    op.drop_table("emergency_template_reviews")
    with op.batch_alter_table("emergency_template_revisions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_emergency_template_revisions_state"))
        batch_op.drop_index("ix_emergency_template_revisions_text")
    op.drop_table("emergency_template_revisions")
