"""Who receives a LINE push: residents subscribed to a topic (or every known follower), with the
language each one reads. The notifier pages through them with `recipients(...)`."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.topics import LANGUAGES
from bot.bot_tables import LineUser, TopicSubscription


@dataclass(frozen=True)
class Recipient:
    user_id: str
    language: str  # "ja" or "en"


def effective_language(chosen: str | None, profile: str | None) -> str:
    """The resident's choice wins; otherwise Japanese unless the LINE profile language is another one."""
    if chosen in LANGUAGES:
        return chosen
    if profile and not profile.lower().startswith("ja"):
        return "en"
    return "ja"


def recipients(
    session: Session, topic: str | None, *, after: str | None = None, limit: int = 500
) -> list[Recipient]:
    """One page of recipients ordered by user ID (keyset pagination: pass the last ID as `after`).

    `topic=None` means every follower the bot knows of.
    """
    stmt = select(LineUser.user_id, LineUser.language, LineUser.profile_language).order_by(LineUser.user_id)
    if topic is not None:
        stmt = stmt.join(TopicSubscription, TopicSubscription.user_id == LineUser.user_id).where(
            TopicSubscription.topic == topic
        )
    if after is not None:
        stmt = stmt.where(LineUser.user_id > after)
    rows = session.execute(stmt.limit(limit)).all()
    return [Recipient(uid, effective_language(lang, profile)) for uid, lang, profile in rows]


def subscriber_count(session: Session, topic: str) -> int:
    """How many residents the bot knows are subscribed to `topic` (who a LINE topic push reaches)."""
    stmt = (
        select(func.count())
        .select_from(LineUser)
        .join(TopicSubscription, TopicSubscription.user_id == LineUser.user_id)
        .where(TopicSubscription.topic == topic)
    )
    return int(session.scalar(stmt) or 0)
