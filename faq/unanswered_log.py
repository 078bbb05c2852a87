"""Log of questions the FAQ could not answer, with personal details masked before storing.

One row per normalised question and language: the same question asked 2,000 times is one row with
`count` 2000 and its first and last time seen. The log keeps at most `Retention.max_rows` rows and
forgets questions not seen for `Retention.days` days (settings `FAQ_LOG_MAX_ROWS`, `FAQ_LOG_DAYS`).
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from app.privacy import mask_pii
from app.settings import Settings
from faq.faq_tables import UnansweredQuestion
from faq.normalize import fold_kana, normalize
from storage.base import utcnow
from storage.upsert import insert_for

MAX_STORED_CHARS = 1000
_MASK_MARGIN = 64
MAX_KEY_CHARS = 200
PRUNE_EVERY_SECONDS = 60.0  # each process prunes at most this often while logging
_NOT_KEY = re.compile(r"[\s!！?？。、,.・~〜…「」『』()\[\]\"'`ー-]+")


@dataclass(frozen=True)
class Retention:
    """How long and how much of the question logs is kept."""

    days: int = 180
    max_rows: int = 10_000

    @classmethod
    def of(cls, settings: Settings) -> Retention:
        """The retention the settings ask for (`FAQ_LOG_DAYS`, `FAQ_LOG_MAX_ROWS`)."""
        return cls(days=settings.faq_log_days, max_rows=settings.faq_log_max_rows)


class _Pruner:
    """Rate-limits pruning to once per `PRUNE_EVERY_SECONDS` per process (pruning is a DELETE)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last = float("-inf")

    def due(self) -> bool:
        with self._lock:
            now = time.monotonic()
            if now - self._last < PRUNE_EVERY_SECONDS:
                return False
            self._last = now
            return True


_pruner = _Pruner()


def prune_due() -> bool:
    """True at most once per `PRUNE_EVERY_SECONDS` in this process: time to prune the logs."""
    return _pruner.due()


def question_key(text: str) -> str:
    """The de-duplication key: normalised (NFKC, lower case, kana folded), without spaces and
    punctuation."""
    norm = fold_kana(normalize(text))
    return (_NOT_KEY.sub("", norm) or norm)[:MAX_KEY_CHARS]


def log_unanswered(
    session: Session,
    text: str,
    *,
    lang: str,
    channel: str,
    score: float = 0.0,
    retention: Retention | None = None,
) -> None:
    """Count a masked copy of an unanswered question (the caller commits)."""
    # cut before masking (bounded work), with a margin so a phone number across the cut is masked whole;
    # without what no database column can hold (NUL, lone surrogates)
    cut = text[: MAX_STORED_CHARS + _MASK_MARGIN].replace("\x00", "")
    cut = cut.encode("utf-8", "replace").decode("utf-8")
    masked = mask_pii(cut)[:MAX_STORED_CHARS]
    now = utcnow()
    stmt = insert_for(session, UnansweredQuestion).values(
        text=masked,
        key=question_key(masked),
        lang=lang,
        channel=channel,
        score=round(float(score), 4),
        count=1,
        created_at=now,
        last_seen=now,
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=["lang", "key"],
        set_={
            "count": UnansweredQuestion.count + 1,
            "last_seen": now,
            "channel": channel,
            "score": round(float(score), 4),
            "text": masked,
        },
    )
    session.execute(stmt)
    if prune_due():
        prune_unanswered(session, retention or Retention(), now=now)


def prune_unanswered(session: Session, retention: Retention, *, now: datetime | None = None) -> int:
    """Forget questions not seen for `retention.days`, then the least recent beyond `max_rows`."""
    cutoff = (now or utcnow()) - timedelta(days=retention.days)
    gone = session.execute(delete(UnansweredQuestion).where(UnansweredQuestion.last_seen < cutoff))
    removed = int(gone.rowcount or 0)  # type: ignore[attr-defined]
    total = session.scalar(select(func.count()).select_from(UnansweredQuestion)) or 0
    if total > retention.max_rows:
        keep = (
            select(UnansweredQuestion.id)
            .order_by(UnansweredQuestion.last_seen.desc(), UnansweredQuestion.id.desc())
            .limit(retention.max_rows)
            .scalar_subquery()
        )
        over = session.execute(delete(UnansweredQuestion).where(UnansweredQuestion.id.not_in(keep)))
        removed += int(over.rowcount or 0)  # type: ignore[attr-defined]
    return removed


def recent_unanswered(
    session: Session, *, limit: int = 100, include_resolved: bool = False
) -> list[UnansweredQuestion]:
    """Most recently seen first, for the staff views."""
    stmt = select(UnansweredQuestion).order_by(
        UnansweredQuestion.last_seen.desc(), UnansweredQuestion.id.desc()
    )
    if not include_resolved:
        stmt = stmt.where(UnansweredQuestion.resolved_entry.is_(None))
    return list(session.scalars(stmt.limit(limit)))


def resolve(session: Session, ids: Sequence[int], entry_id: str) -> int:
    """Mark logged questions as answered by `entry_id` (they leave the open list)."""
    if not ids:
        return 0
    result = session.execute(
        update(UnansweredQuestion)
        .where(UnansweredQuestion.id.in_(list(ids)), UnansweredQuestion.resolved_entry.is_(None))
        .values(resolved_entry=entry_id[:64])
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
