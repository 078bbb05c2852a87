from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from app import privacy
from faq import unanswered_log
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


def test_long_questions_are_cut_before_masking(session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[int] = []

    def mask_pii(text: str) -> str:
        seen.append(len(text))
        return privacy.mask_pii(text)

    monkeypatch.setattr(unanswered_log, "mask_pii", mask_pii)
    # a phone number across the cut at 1,000 characters is still masked whole
    row = log_unanswered(session, "あ" * 990 + "090-1234-5678" + "x" * 20_000, lang="ja", channel="api")
    assert seen and max(seen) <= 1_100
    assert row.text == "あ" * 990 + "[電話]" + "x" * 6
