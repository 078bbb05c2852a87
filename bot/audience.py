"""Who receives a LINE push: residents subscribed to a topic (or every known follower), with the
language each one reads. The notifier pages through them with `recipients(...)`."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.languages import LANGUAGES, from_profile
from bot.bot_tables import LineUser, TopicSubscription


@dataclass(frozen=True)
class Recipient:
    user_id: str
    language: str  # one of app.languages.LANGUAGES


def effective_language(chosen: str | None, profile: str | None) -> str:
    """The resident's choice wins; otherwise their LINE profile language when it is one of ours
    (`app.languages.from_profile`), English for any other profile language, Japanese without one."""
    if chosen in LANGUAGES:
        return chosen
    if profile:
        return from_profile(profile) or "en"
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
