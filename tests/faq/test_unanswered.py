from __future__ import annotations

from sqlalchemy.orm import Session

from faq.unanswered_log import log_unanswered, recent_unanswered


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
