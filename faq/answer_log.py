"""What residents asked and what they made of it: the data of the FAQ's improvement loop (PDCA).

The bot calls, in the transaction that stores its reply:

- `record_question` for every message the FAQ decided on (one row per reply `nonce`): the decision,
  the entry shown or offered, and the masked question for answers and suggestions (the ones staff
  can learn from: a 👎 or a picked suggestion). A fallback is also counted in the unanswered log;
  small talk is counted, never logged as a question.
- `record_pick` when the resident taps one of the offered suggestions (evidence for a new phrasing).
- `record_vote` for 👍/👎 on a shown answer; a second tap replaces the first.

No user ID is stored. Rows older than `Retention.days` are deleted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Table, case, delete, func, select
from sqlalchemy.orm import Session

from app.privacy import mask_pii
from faq.answer_types import Decision
from faq.faq_tables import ShownAnswer
from faq.normalize import has_words
from faq.unanswered_log import MAX_STORED_CHARS, Retention, log_unanswered, prune_due, question_key
from storage.base import utcnow
from storage.upsert import insert_for

KEPT_TEXT = ("answer", "suggest")  # decisions whose question text is kept (for 👎 and picks)
# Core statements for the writes: the bot runs one for every message, and Core skips the ORM's
# per-statement bookkeeping.
ANSWERS = cast(Table, ShownAnswer.__table__)


def _masked(text: str) -> str:
    return mask_pii(text[:MAX_STORED_CHARS])[:MAX_STORED_CHARS]  # cut first: masking is slow on long text


def record_question(
    session: Session,
    *,
    nonce: str,
    question: str,
    decision: Decision,
    lang: str,
    channel: str,
    retention: Retention | None = None,
) -> None:
    """Store what the FAQ decided for one message (the caller commits); a redelivery changes nothing."""
    entry_id = decision.entry_id if decision.decision == "answer" else None
    stmt = insert_for(session, ANSWERS).values(
        nonce=nonce[:32],
        question=_masked(question) if decision.decision in KEPT_TEXT else None,
        lang=lang,
        channel=channel,
        decision=decision.decision,
        entry_id=entry_id[:64] if entry_id else None,
        suggested=[s.entry_id for s in decision.suggestions][:10],
        score=round(float(decision.score), 4),
        created_at=utcnow(),
    )
    inserted = session.execute(stmt.on_conflict_do_nothing().returning(ANSWERS.c.nonce)).first()
    if inserted is not None and decision.decision == "fallback" and has_words(question):
        log_unanswered(
            session, question, lang=lang, channel=channel, score=decision.score, retention=retention
        )
    if prune_due():
        prune_answers(session, retention or Retention())


def record_pick(session: Session, *, nonce: str, entry_id: str, lang: str) -> None:
    """The resident tapped the suggestion `entry_id` offered in reply `nonce`."""
    stmt = insert_for(session, ANSWERS).values(
        nonce=nonce[:32], lang=lang, decision="suggest", entry_id=entry_id[:64], picked=entry_id[:64]
    )
    session.execute(
        stmt.on_conflict_do_update(
            index_elements=["nonce"], set_={"picked": entry_id[:64], "entry_id": entry_id[:64]}
        )
    )


def record_vote(session: Session, *, nonce: str, entry_id: str, helpful: bool, lang: str) -> None:
    """👍 (`helpful`) or 👎 on the answer shown in reply `nonce`; a second tap replaces the first."""
    stmt = insert_for(session, ANSWERS).values(
        nonce=nonce[:32], lang=lang, decision="answer", entry_id=entry_id[:64], helpful=helpful
    )
    session.execute(
        stmt.on_conflict_do_update(
            index_elements=["nonce"],
            set_={"helpful": helpful, "entry_id": func.coalesce(ANSWERS.c.entry_id, entry_id[:64])},
        )
    )


def prune_answers(session: Session, retention: Retention, *, now: datetime | None = None) -> int:
    """Forget replies older than `retention.days`."""
    cutoff = (now or utcnow()) - timedelta(days=retention.days)
    result = session.execute(delete(ShownAnswer).where(ShownAnswer.created_at < cutoff))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


# ---- what staff read ----------------------------------------------------------------------------


@dataclass(frozen=True)
class EntryVotes:
    entry_id: str
    helpful: int
    not_helpful: int


def votes(
    session: Session, *, start: datetime | None = None, end: datetime | None = None
) -> list[EntryVotes]:
    """👍/👎 per entry, the most 👎 first."""
    down = func.sum(case((ShownAnswer.helpful.is_(False), 1), else_=0))
    up = func.sum(case((ShownAnswer.helpful.is_(True), 1), else_=0))
    stmt = (
        select(ShownAnswer.entry_id, up, down)
        .where(ShownAnswer.helpful.is_not(None), ShownAnswer.entry_id.is_not(None))
        .group_by(ShownAnswer.entry_id)
        .order_by(down.desc(), up.asc(), ShownAnswer.entry_id)
    )
    if start is not None:
        stmt = stmt.where(ShownAnswer.created_at >= start)
    if end is not None:
        stmt = stmt.where(ShownAnswer.created_at < end)
    return [EntryVotes(str(e), int(u or 0), int(d or 0)) for e, u, d in session.execute(stmt)]


def downvoted_questions(session: Session, entry_id: str, *, limit: int = 5) -> list[str]:
    """The (masked) questions whose answer `entry_id` got a 👎, newest first."""
    stmt = (
        select(ShownAnswer.question)
        .where(
            ShownAnswer.entry_id == entry_id,
            ShownAnswer.helpful.is_(False),
            ShownAnswer.question.is_not(None),
        )
        .order_by(ShownAnswer.created_at.desc())
        .limit(limit)
    )
    return [q for q in session.scalars(stmt) if q]


@dataclass(frozen=True)
class Pick:
    """A question residents asked and the offered entry they picked, with how often."""

    question: str
    lang: str
    entry_id: str
    count: int
    last_seen: datetime


def picked_suggestions(session: Session, *, limit: int = 50, scan: int = 2000) -> list[Pick]:
    """Questions whose suggestion residents picked, grouped by normalised question and entry."""
    stmt = (
        select(ShownAnswer.question, ShownAnswer.lang, ShownAnswer.picked, ShownAnswer.created_at)
        .where(ShownAnswer.picked.is_not(None), ShownAnswer.question.is_not(None))
        .order_by(ShownAnswer.created_at.desc())
        .limit(scan)
    )
    groups: dict[tuple[str, str, str], list[tuple[str, datetime]]] = {}
    for question, lang, picked, at in session.execute(stmt):
        if question is None or picked is None:
            continue
        groups.setdefault((question_key(question), lang, picked), []).append((question, at))
    picks = [
        Pick(rows[0][0], lang, entry_id, len(rows), max(at for _, at in rows))
        for (_, lang, entry_id), rows in groups.items()
    ]
    picks.sort(key=lambda p: (-p.count, -p.last_seen.timestamp(), p.question))
    return picks[:limit]


def decision_counts(session: Session, start: datetime, end: datetime) -> dict[str, int]:
    """How many messages got each decision in [start, end)."""
    stmt = (
        select(ShownAnswer.decision, func.count())
        .where(ShownAnswer.created_at >= start, ShownAnswer.created_at < end)
        .group_by(ShownAnswer.decision)
    )
    return {str(kind): int(n) for kind, n in session.execute(stmt)}
