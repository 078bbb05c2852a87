"""faq_0003 on a database with data: unanswered rows merged per normalised question, the bot's
feedback copied into faq_answers."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from storage import migrate


def test_faq_0003_merges_the_unanswered_log_and_copies_the_bots_feedback(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    migrate.upgrade(url, "faq_0002")
    migrate.upgrade(url, "bot@head")
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        for text, at in [
            ("粗大ごみの出し方", "2026-01-01"),
            ("粗大ゴミの出し方？", "2026-02-01"),
            ("火星", "2026-01-15"),
        ]:
            conn.execute(
                sa.text(
                    "INSERT INTO faq_unanswered (text, lang, channel, score, created_at)"
                    " VALUES (:t, 'ja', 'line', 0.0, :at)"
                ),
                {"t": text, "at": at},
            )
        conn.execute(
            sa.text(
                "INSERT INTO bot_answer_feedback (nonce, entry_id, lang, helpful, created_at)"
                " VALUES ('n1', 'passport', 'ja', 0, '2026-01-02')"
            )
        )
    migrate.upgrade(url, "heads")
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT text, count, created_at, last_seen FROM faq_unanswered ORDER BY count DESC")
        ).all()
        votes = conn.execute(sa.text("SELECT nonce, entry_id, helpful, decision FROM faq_answers")).all()
    engine.dispose()
    (gomi, mars) = (row._mapping for row in rows)  # by name: `row.count` is also the tuple method
    assert gomi["count"] == 2 and gomi["text"] == "粗大ゴミの出し方？"  # the newest wording stays
    assert str(gomi["created_at"]).startswith("2026-01-01")
    assert str(gomi["last_seen"]).startswith("2026-02-01")
    assert mars["count"] == 1
    assert [tuple(v) for v in votes] == [("n1", "passport", 0, "answer")]
