"""FAQ fixtures: the shipped corpus's service is built once per session (the index is immutable)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from faq import answer_log
from faq.answer_types import Decision, Suggestion
from faq.service import FaqIndexService
from storage.db import session_scope

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared"


def shared_file(*parts: str) -> Path:
    """A file under ../shared, or skip the test when the shared folder is absent."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} not available")
    return path


@pytest.fixture(scope="session")
def suita() -> FaqIndexService:
    return FaqIndexService.from_file()


def record_downvote_and_pick(sessions: sessionmaker[Session]) -> None:
    """What the bot records: 「パスポートどこ」 answered with `passport` and voted 👎, and
    「本をスマホで読む」 offered suggestions of which the resident picked `e-library`."""
    suggest = Decision("suggest", None, None, 0.4, [Suggestion("e-library", "…", 0.4)])
    answer = Decision("answer", "…", "passport", 0.9)
    with session_scope(sessions) as s:
        answer_log.record_question(
            s, nonce="n1", question="パスポートどこ", decision=answer, lang="ja", channel="line"
        )
        answer_log.record_vote(s, nonce="n1", entry_id="passport", helpful=False, lang="ja")
        answer_log.record_question(
            s, nonce="n2", question="本をスマホで読む", decision=suggest, lang="ja", channel="line"
        )
        answer_log.record_pick(s, nonce="n2", entry_id="e-library", lang="ja")
