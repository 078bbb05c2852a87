"""bot: drop bot_answer_feedback (votes live in faq_answers now)

Revision ID: bot_0003
Revises: bot_0002
Create Date: 2026-12-07 10:00:00.000000

The bot records what the FAQ decided, the picked suggestions and the 👍/👎 through `faq.answer_log`
(table `faq_answers`). `faq_0003` copies the votes stored so far into `faq_answers`; this revision
depends on it, so the copy always runs before the table is dropped. A downgrade recreates the table
with the votes of `faq_answers`.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.base

revision: str = "bot_0003"
down_revision: str | Sequence[str] | None = "bot_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = "faq_0003"


def upgrade() -> None:
    with op.batch_alter_table("bot_answer_feedback", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bot_answer_feedback_entry_id"))
    op.drop_table("bot_answer_feedback")


def downgrade() -> None:
    op.create_table(
        "bot_answer_feedback",
        sa.Column("nonce", sa.String(length=32), nullable=False),
        sa.Column("entry_id", sa.String(length=64), nullable=False),
        sa.Column("lang", sa.String(length=8), nullable=False),
        sa.Column("helpful", sa.Boolean(), nullable=False),
        sa.Column("created_at", storage.base.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("nonce", name=op.f("pk_bot_answer_feedback")),
    )
    with op.batch_alter_table("bot_answer_feedback", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bot_answer_feedback_entry_id"), ["entry_id"], unique=False)
    op.execute(
        "INSERT INTO bot_answer_feedback (nonce, entry_id, lang, helpful, created_at) "
        "SELECT nonce, entry_id, lang, helpful, created_at FROM faq_answers "
        "WHERE helpful IS NOT NULL AND entry_id IS NOT NULL"
    )
