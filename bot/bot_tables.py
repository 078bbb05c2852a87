"""Bot tables. Residents and their topics: only what the bot needs is kept (the LINE user ID, the chosen
language, the profile language and the topics); unfollow deletes the row (and, by cascade, its
subscriptions). The webhook inbox holds events between the 200 and the reply, the dead letters keep
what could not be parsed, and the follow counters are anonymous. (What residents asked, picked and
voted is the FAQ's: `faq.answer_log`.)"""

from __future__ import annotations

from datetime import date, datetime
from typing import cast

from sqlalchemy import BigInteger, Boolean, Date, ForeignKey, Index, Integer, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base, UTCDateTime, utcnow


class LineUser(Base):
    __tablename__ = "line_users"

    user_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    language: Mapped[str | None] = mapped_column(String(8), nullable=True)  # chosen in the menu
    profile_language: Mapped[str | None] = mapped_column(String(16), nullable=True)  # from the LINE profile
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class TopicSubscription(Base):
    __tablename__ = "topic_subscriptions"
    __table_args__ = (Index("ix_topic_subscriptions_topic_user", "topic", "user_id"),)

    user_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("line_users.user_id", ondelete="CASCADE"), primary_key=True
    )
    topic: Mapped[str] = mapped_column(String(32), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class InboxEvent(Base):
    """One webhook event, stored before the 200: the unique `event_id` (webhookEventId) de-duplicates
    redeliveries across processes. `payload` (the message text or postback data) is dropped once the
    reply is prepared; `outbox` holds the prepared reply until LINE accepted it.

    status: pending → prepared → done, or failed (`error` says why); `skipped` (kind too) for an event
    of a type line-bot-sdk does not know: stored finished, without chat or payload, so a redelivery is
    recognised and operators can count them by type (in `error`)."""

    __tablename__ = "line_inbox"
    __table_args__ = (Index("ix_line_inbox_chat_status", "chat_id", "status", "event_ts"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[str] = mapped_column(String(64), unique=True)
    chat_id: Mapped[str | None] = mapped_column(String(64), nullable=True)  # NULL once the user left
    channel: Mapped[str] = mapped_column(String(16), default="line")  # line | simulator
    kind: Mapped[str] = mapped_column(String(16))
    event_ts: Mapped[int] = mapped_column(BigInteger)  # LINE's timestamp, milliseconds
    payload: Mapped[str | None] = mapped_column(Text, nullable=True)
    reply_token: Mapped[str | None] = mapped_column(String(255), nullable=True)
    outbox: Mapped[str | None] = mapped_column(Text, nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_try_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    error: Mapped[str | None] = mapped_column(String(500), nullable=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class InboxLock(Base):
    """Who is handling one chat's events now, so each chat's events run in order in one process."""

    __tablename__ = "line_inbox_locks"

    chat_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    owner: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class DeadLetter(Base):
    """A signed webhook body (or one event of it) that could not be handled, with the reason.
    Personal details and user IDs are masked before storing."""

    __tablename__ = "line_dead_letters"

    id: Mapped[int] = mapped_column(primary_key=True)
    reason: Mapped[str] = mapped_column(String(500))
    body: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class FollowStat(Base):
    """Anonymous daily counts of follows and unfollows (what stays after residents leave)."""

    __tablename__ = "bot_follow_stats"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    follows: Mapped[int] = mapped_column(Integer, default=0)
    unfollows: Mapped[int] = mapped_column(Integer, default=0)


# The inbox's tables for Core statements: the webhook and the worker run these many times a second,
# and Core skips the ORM's per-statement bookkeeping.
EVENTS = cast(Table, InboxEvent.__table__)
LOCKS = cast(Table, InboxLock.__table__)
DEAD_LETTERS = cast(Table, DeadLetter.__table__)


class DisasterModeRow(Base):
    """Disaster mode (one row, id 1): on or off, the city's headline and link, who changed it and when,
    and the rich menus involved (the disaster menu while on; the normal default to return to)."""

    __tablename__ = "bot_disaster_mode"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    on: Mapped[bool] = mapped_column(Boolean, default=False)
    headline: Mapped[str] = mapped_column(String(200), default="")
    link: Mapped[str | None] = mapped_column(String(2000), nullable=True)
    changed_by: Mapped[str] = mapped_column(String(64), default="")
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    disaster_menu_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    normal_menu_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    rich_menu_note: Mapped[str] = mapped_column(String(500), default="")
