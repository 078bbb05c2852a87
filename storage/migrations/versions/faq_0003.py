"""faq: entry labels, the de-duplicated unanswered log, shown answers (votes, picks)

Revision ID: faq_0003
Revises: faq_0002
Create Date: 2026-12-06 20:00:00.000000

The unanswered log becomes one row per normalised question and language: existing rows are merged
(counts added, first and last seen kept). `faq_answers` takes over the bot's `bot_answer_feedback`:
its rows are copied here (without a question: the bot never stored one), so the votes so far count
in the staff views; the bot writes through `faq.answer_log` from now on and may drop its table.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

import storage.base

revision: str = "faq_0003"
down_revision: str | Sequence[str] | None = "faq_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A frozen copy of faq.unanswered_log.question_key as of this revision (migrations do not import
# code that may change later).
_NOT_KEY = re.compile(r"[\s!！?？。、,.・~〜…「」『』()\[\]\"'`ー-]+")


def _key(text: str) -> str:
    norm = re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text)).strip().lower()
    norm = norm.translate({code: code + 0x60 for code in range(ord("ぁ"), ord("ゖ") + 1)})
    return (_NOT_KEY.sub("", norm) or norm)[:200]


def _merge_unanswered() -> None:
    bind = op.get_bind()
    table = sa.table(
        "faq_unanswered",
        sa.column("id", sa.Integer),
        sa.column("text", sa.Text),
        sa.column("lang", sa.String),
        sa.column("created_at", storage.base.UTCDateTime()),
        sa.column("key", sa.String),
        sa.column("count", sa.Integer),
        sa.column("last_seen", storage.base.UTCDateTime()),
    )
    rows = bind.execute(
        sa.select(table.c.id, table.c.text, table.c.lang, table.c.created_at).order_by(table.c.id)
    ).all()
    groups: dict[tuple[str, str], list[Any]] = {}
    for row in rows:
        groups.setdefault((row.lang, _key(row.text)), []).append(row)
    for (_, key), members in groups.items():
        newest = max(members, key=lambda r: (r.created_at, r.id))
        first = min(r.created_at for r in members)
        bind.execute(
            table.update()
            .where(table.c.id == newest.id)
            .values(key=key, count=len(members), created_at=first, last_seen=newest.created_at)
        )
        others = [r.id for r in members if r.id != newest.id]
        if others:
            bind.execute(table.delete().where(table.c.id.in_(others)))


def upgrade() -> None:
    with op.batch_alter_table("faq_entries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("label", sa.String(length=40), nullable=False, server_default=""))

    with op.batch_alter_table("faq_unanswered", schema=None) as batch_op:
        batch_op.add_column(sa.Column("key", sa.String(length=200), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("count", sa.Integer(), nullable=False, server_default="1"))
        batch_op.add_column(sa.Column("last_seen", storage.base.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("resolved_entry", sa.String(length=64), nullable=True))
    _merge_unanswered()
    with op.batch_alter_table("faq_unanswered", schema=None) as batch_op:
        batch_op.alter_column("last_seen", existing_type=storage.base.UTCDateTime(), nullable=False)
        batch_op.create_index(batch_op.f("ix_faq_unanswered_last_seen"), ["last_seen"], unique=False)
        batch_op.create_unique_constraint("uq_faq_unanswered_lang_key", ["lang", "key"])

    op.create_table(
        "faq_answers",
        sa.Column("nonce", sa.String(length=32), nullable=False),
        sa.Column("question", sa.Text(), nullable=True),
        sa.Column("lang", sa.String(length=8), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=False),
        sa.Column("entry_id", sa.String(length=64), nullable=True),
        sa.Column("suggested", sa.JSON(), nullable=False),
        sa.Column("score", sa.Double(), nullable=False),
        sa.Column("helpful", sa.Boolean(), nullable=True),
        sa.Column("picked", sa.String(length=64), nullable=True),
        sa.Column("created_at", storage.base.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("nonce", name=op.f("pk_faq_answers")),
    )
    with op.batch_alter_table("faq_answers", schema=None) as batch_op:
        batch_op.create_index("ix_faq_answers_entry_helpful", ["entry_id", "helpful"], unique=False)
        batch_op.create_index(batch_op.f("ix_faq_answers_created_at"), ["created_at"], unique=False)

    if sa.inspect(op.get_bind()).has_table("bot_answer_feedback"):
        op.execute(
            "INSERT INTO faq_answers (nonce, question, lang, channel, decision, entry_id,"
            " suggested, score, helpful, picked, created_at) "
            "SELECT nonce, NULL, lang, 'line', 'answer', entry_id, '[]', 0.0, helpful, NULL, created_at "
            "FROM bot_answer_feedback"
        )


def downgrade() -> None:
    with op.batch_alter_table("faq_answers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_faq_answers_created_at"))
        batch_op.drop_index("ix_faq_answers_entry_helpful")
    op.drop_table("faq_answers")

    with op.batch_alter_table("faq_unanswered", schema=None) as batch_op:
        batch_op.drop_constraint("uq_faq_unanswered_lang_key", type_="unique")
        batch_op.drop_index(batch_op.f("ix_faq_unanswered_last_seen"))
        batch_op.drop_column("resolved_entry")
        batch_op.drop_column("last_seen")
        batch_op.drop_column("count")
        batch_op.drop_column("key")

    with op.batch_alter_table("faq_entries", schema=None) as batch_op:
        batch_op.drop_column("label")
