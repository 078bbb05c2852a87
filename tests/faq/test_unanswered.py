from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import privacy
from faq import unanswered_log
from faq.faq_tables import UnansweredQuestion
from faq.unanswered_log import Retention, log_unanswered, prune_unanswered, question_key, recent_unanswered
from storage.base import utcnow


def test_unanswered_questions_are_masked_before_storing(session: Session) -> None:
    log_unanswered(
        session, "粗大ごみの件で 090-1234-5678 に電話ください", lang="ja", channel="line", score=0.12
    )
    log_unanswered(session, "x" * 5000, lang="en", channel="api")
    session.commit()
    newest, older = recent_unanswered(session)
    assert len(newest.text) == 1000 and newest.lang == "en"
    assert "090-1234-5678" not in older.text and "[電話]" in older.text
    assert older.score == 0.12 and older.channel == "line"


def test_long_questions_are_cut_before_masking(session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[int] = []

    def mask_pii(text: str) -> str:
        seen.append(len(text))
        return privacy.mask_pii(text)

    monkeypatch.setattr(unanswered_log, "mask_pii", mask_pii)
    # a phone number across the cut at 1,000 characters is still masked whole
    log_unanswered(session, "あ" * 990 + "090-1234-5678" + "x" * 20_000, lang="ja", channel="api")
    assert seen and max(seen) <= 1_100
    (row,) = recent_unanswered(session)
    assert row.text == "あ" * 990 + "[電話]" + "x" * 6


def test_identical_fallbacks_make_one_row(session: Session) -> None:
    for _ in range(2000):
        log_unanswered(session, "粗大ごみの出し方", lang="ja", channel="line")
    log_unanswered(session, "粗大ゴミの出し方？", lang="ja", channel="api")  # differs only in form
    log_unanswered(session, "粗大ごみの出し方", lang="en", channel="line")  # another language
    session.commit()
    rows = recent_unanswered(session)
    assert sorted(r.count for r in rows) == [1, 2001]
    ja = next(r for r in rows if r.lang == "ja")
    assert ja.channel == "api" and ja.created_at <= ja.last_seen


def test_question_key_ignores_width_case_spaces_and_punctuation() -> None:
    assert question_key("ＷｉＦｉ 使える？") == question_key("wifi使える")
    assert question_key("粗大ごみ") != question_key("粗大ゴミ袋")


def test_retention_by_days_and_rows(session: Session) -> None:
    now = utcnow()
    for i in range(5):
        log_unanswered(session, f"質問{i}", lang="ja", channel="line")
    session.flush()
    old = session.scalars(select(UnansweredQuestion).order_by(UnansweredQuestion.id)).first()
    assert old is not None
    old.last_seen = now - timedelta(days=200)
    session.flush()
    assert prune_unanswered(session, Retention(days=180, max_rows=3), now=now) == 2
    session.commit()
    left = [r.text for r in recent_unanswered(session)]
    assert len(left) == 3 and "質問0" not in left
    assert session.scalar(select(func.count()).select_from(UnansweredQuestion)) == 3
