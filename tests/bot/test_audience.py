from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from bot.audience import Recipient, effective_language, recipients
from bot.bot_tables import LineUser, TopicSubscription


@pytest.mark.parametrize(
    ("chosen", "profile", "expected"),
    [
        ("en", "ja", "en"),
        ("ja", "en", "ja"),
        (None, "ja", "ja"),
        (None, "ja-JP", "ja"),
        (None, "en-US", "en"),
        (None, "zh-TW", "en"),
        (None, None, "ja"),
        ("xx", None, "ja"),
    ],
)
def test_effective_language(chosen: str | None, profile: str | None, expected: str) -> None:
    assert effective_language(chosen, profile) == expected


def _users(session: Session) -> None:
    for i, (lang, topics) in enumerate(
        [("ja", ["bousai"]), ("en", ["bousai", "event"]), (None, []), (None, ["event"])]
    ):
        uid = f"U{i:032x}"
        session.add(LineUser(user_id=uid, language=lang, profile_language="en" if i == 3 else "ja"))
        session.flush()
        session.add_all(TopicSubscription(user_id=uid, topic=t) for t in topics)
    session.commit()


def test_recipients_by_topic_and_everyone(session: Session) -> None:
    _users(session)
    assert recipients(session, "bousai") == [Recipient(f"U{0:032x}", "ja"), Recipient(f"U{1:032x}", "en")]
    assert [r.language for r in recipients(session, "event")] == ["en", "en"]
    assert len(recipients(session, None)) == 4
    assert recipients(session, "shisei") == []


def test_recipients_keyset_pages(session: Session) -> None:
    _users(session)
    first = recipients(session, None, limit=3)
    rest = recipients(session, None, after=first[-1].user_id, limit=3)
    assert [r.user_id for r in first + rest] == [f"U{i:032x}" for i in range(4)]


def test_unfollow_cascade_removes_subscriptions(session: Session) -> None:
    _users(session)
    session.delete(session.get(LineUser, f"U{1:032x}"))
    session.commit()
    assert session.query(TopicSubscription).filter_by(user_id=f"U{1:032x}").count() == 0
