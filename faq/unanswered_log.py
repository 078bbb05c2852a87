"""Log of questions the FAQ could not answer, with personal details masked before storing."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.privacy import mask_pii
from faq.faq_tables import UnansweredQuestion

MAX_STORED_CHARS = 1000
# masked with a little more than is kept, so a phone number across the cut is still recognised whole
_MASK_MARGIN = 64


def log_unanswered(
    session: Session, text: str, *, lang: str, channel: str, score: float = 0.0
) -> UnansweredQuestion:
    """Store a masked copy of the start of an unanswered question (the caller commits); the text is
    cut before masking, so the work is bounded whatever its length."""
    masked = mask_pii(text[: MAX_STORED_CHARS + _MASK_MARGIN])[:MAX_STORED_CHARS]
    row = UnansweredQuestion(text=masked, lang=lang, channel=channel, score=round(float(score), 4))
    session.add(row)
    return row


def recent_unanswered(session: Session, *, limit: int = 100) -> list[UnansweredQuestion]:
    """Newest first, for the staff view."""
    stmt = select(UnansweredQuestion).order_by(
        UnansweredQuestion.created_at.desc(), UnansweredQuestion.id.desc()
    )
    return list(session.scalars(stmt.limit(limit)))
