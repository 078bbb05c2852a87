"""bot_0003 drops the bot's feedback table only after faq_0003 copied its votes, and a downgrade
brings them back."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command

from storage import migrate


def _tables(engine: sa.Engine) -> set[str]:
    return set(sa.inspect(engine).get_table_names())


def test_the_votes_move_to_faq_answers_before_the_table_is_dropped(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    migrate.upgrade(url, "bot_0002")  # the bot's table, before the FAQ took its votes over
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO bot_answer_feedback (nonce, entry_id, lang, helpful, created_at)"
                " VALUES ('n1', 'passport', 'ja', 1, '2026-01-02 00:00:00.000000')"
            )
        )
    migrate.upgrade(url, "bot@head")  # depends on faq_0003: the copy runs first
    assert "bot_answer_feedback" not in _tables(engine) and "faq_answers" in _tables(engine)
    with engine.connect() as conn:
        votes = conn.execute(sa.text("SELECT nonce, entry_id, helpful FROM faq_answers")).all()
    assert [tuple(v) for v in votes] == [("n1", "passport", 1)]

    command.downgrade(migrate.alembic_config(url), "bot_0002")
    with engine.connect() as conn:
        back = conn.execute(sa.text("SELECT nonce, entry_id, lang, helpful FROM bot_answer_feedback")).all()
    engine.dispose()
    assert [tuple(v) for v in back] == [("n1", "passport", "ja", 1)]
