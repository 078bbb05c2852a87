"""The improvement loop's data: questions behind answers, votes, picks, and the monthly report."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from faq import answer_log, monthly_report
from faq.answer_types import Decision, Suggestion
from faq.faq_tables import ShownAnswer
from faq.unanswered_log import Retention, recent_unanswered
from storage.base import utcnow

ANSWER = Decision("answer", "…", "passport", 0.9)
SUGGEST = Decision("suggest", None, None, 0.4, [Suggestion("a", "A?", 0.4), Suggestion("b", "B?", 0.3)])
FALLBACK = Decision("fallback", None, None, 0.05)
CHAT = Decision("small_talk", None, None, 1.0, small_talk="thanks")


def record(session: Session, nonce: str, question: str, decision: Decision) -> None:
    answer_log.record_question(
        session, nonce=nonce, question=question, decision=decision, lang="ja", channel="line"
    )


def test_questions_are_kept_masked_only_where_staff_learn_from_them(session: Session) -> None:
    record(session, "n1", "パスポート 090-1234-5678", ANSWER)
    record(session, "n2", "コンビニ", SUGGEST)
    record(session, "n3", "粗大ごみ", FALLBACK)
    record(session, "n4", "ありがとう", CHAT)
    record(session, "n1", "redelivered", ANSWER)  # the same reply again changes nothing
    session.commit()
    rows = {r.nonce: r for r in session.scalars(select(ShownAnswer))}
    assert rows["n1"].question == "パスポート [電話]" and rows["n1"].entry_id == "passport"
    assert rows["n2"].suggested == ["a", "b"] and rows["n2"].entry_id is None
    assert rows["n3"].question is None and rows["n4"].question is None
    assert [r.text for r in recent_unanswered(session)] == ["粗大ごみ"]  # small talk is not logged


def test_votes_and_picks(session: Session) -> None:
    record(session, "n1", "パスポートどこ", ANSWER)
    answer_log.record_vote(session, nonce="n1", entry_id="passport", helpful=True, lang="ja")
    answer_log.record_vote(session, nonce="n1", entry_id="passport", helpful=False, lang="ja")  # replaces
    record(session, "n2", "コンビニ", SUGGEST)
    answer_log.record_pick(session, nonce="n2", entry_id="b", lang="ja")
    answer_log.record_vote(session, nonce="n2", entry_id="b", helpful=False, lang="ja")
    answer_log.record_vote(session, nonce="old", entry_id="b", helpful=True, lang="ja")  # before the log
    session.commit()
    votes = answer_log.votes(session)
    assert [(v.entry_id, v.helpful, v.not_helpful) for v in votes] == [("passport", 0, 1), ("b", 1, 1)]
    assert answer_log.downvoted_questions(session, "passport") == ["パスポートどこ"]
    (pick,) = answer_log.picked_suggestions(session)
    assert (pick.question, pick.entry_id, pick.count) == ("コンビニ", "b", 1)


def test_old_rows_are_forgotten(session: Session) -> None:
    record(session, "n1", "パスポート", ANSWER)
    session.flush()
    row = session.get(ShownAnswer, "n1")
    assert row is not None
    row.created_at = utcnow() - timedelta(days=181)
    assert answer_log.prune_answers(session, Retention(days=180)) == 1


@pytest.mark.parametrize(
    ("month", "previous", "start_utc"),
    [
        ("2026-01", "2025-12", "2025-12-31T15:00:00+00:00"),
        ("2026-12", "2026-11", "2026-11-30T15:00:00+00:00"),
    ],
)
def test_month_ranges_are_japan_time(month: str, previous: str, start_utc: str) -> None:
    start, end = monthly_report.month_range(month)
    assert start.isoformat() == start_utc and end > start
    assert monthly_report.previous_month(month) == previous
    with pytest.raises(ValueError):
        monthly_report.month_range("2026-13")


def test_monthly_report_numbers_and_csv(session: Session) -> None:
    record(session, "n1", "パスポート", ANSWER)
    record(session, "n2", "コンビニ", SUGGEST)
    record(session, "n3", "=粗大ごみ", FALLBACK)
    record(session, "n4", "ありがとう", CHAT)
    answer_log.record_vote(session, nonce="n1", entry_id="passport", helpful=True, lang="ja")
    session.commit()
    month = monthly_report.this_month()
    data = monthly_report.report(session, month, lambda _t, _l: 1.0)
    assert data["numbers"] | {} == {
        "questions": 3,
        "answered": 1,
        "suggested": 1,
        "fallback": 1,
        "small_talk": 1,
        "answered_rate": 0.3333,
        "suggested_rate": 0.3333,
        "fallback_rate": 0.3333,
    }
    assert data["previous"]["questions"] == 0
    assert data["votes"] == [{"entry_id": "passport", "helpful": 1, "not_helpful": 0}]
    assert data["unanswered_groups"][0]["examples"] == ["=粗大ごみ"]
    text = monthly_report.to_csv(data)
    assert text.startswith("\ufeffsection,item,") and "numbers,answered_rate,0.3333,0.0" in text
    assert "'=粗大ごみ" in text  # never a spreadsheet formula
