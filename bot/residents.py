"""What the bot stores about residents: read their state for the conversation, apply its effects.

A row in `line_users` exists only for residents who followed (or changed a setting): a question alone
stores nothing about the resident (what the FAQ decided, the picks and the votes go to `faq.answer_log`
under the reply's nonce, without a user ID). Unfollow deletes the row, the subscriptions (cascade) and every
trace of the resident in the inbox, and counts the unfollow anonymously.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from bot.bot_tables import EVENTS, FollowStat, LineUser, TopicSubscription
from bot.conversation import dialogue as cv
from faq import answer_log
from faq.unanswered_log import Retention
from storage.upsert import insert_for

JST = dt.timezone(dt.timedelta(hours=9))


def load_state(session: Session, user_id: str | None) -> cv.UserState:
    """The resident's stored language and topics (an empty state for unknown residents)."""
    if user_id is None:
        return cv.UserState()
    stmt = (
        select(LineUser.language, LineUser.profile_language, TopicSubscription.topic)
        .outerjoin(TopicSubscription, TopicSubscription.user_id == LineUser.user_id)
        .where(LineUser.user_id == user_id)
    )
    rows = session.execute(stmt).all()
    if not rows:
        return cv.UserState()
    topics = frozenset(topic for _, _, topic in rows if topic is not None)
    return cv.UserState(True, rows[0][0], rows[0][1], topics)


def apply_effects(
    session: Session,
    user_id: str | None,
    effects: Sequence[cv.Effect],
    *,
    channel: str,
    event_ts: int,
    retention: Retention | None = None,
) -> None:
    """Store what the conversation decided (the caller commits); `retention` bounds the FAQ's logs."""
    for effect in effects:
        if isinstance(effect, cv.RecordQuestion):
            answer_log.record_question(
                session,
                nonce=effect.nonce,
                question=effect.question,
                decision=effect.decision,
                lang=effect.lang,
                channel=channel,
                retention=retention,
            )
        elif isinstance(effect, cv.RecordPick):
            answer_log.record_pick(session, nonce=effect.nonce, entry_id=effect.entry_id, lang=effect.lang)
        elif isinstance(effect, cv.RecordVote):
            answer_log.record_vote(
                session,
                nonce=effect.nonce,
                entry_id=effect.entry_id,
                helpful=effect.helpful,
                lang=effect.lang,
            )
        elif user_id is None:
            continue  # a group or room without a user: nothing personal to store
        elif isinstance(effect, cv.Forget):
            forget(session, user_id, event_ts)
        elif isinstance(effect, cv.Remember):
            _user(session, user_id).profile_language = effect.profile_language
            count_follow(session, follows=1)
        elif isinstance(effect, cv.SetLanguage):
            _user(session, user_id).language = effect.language
        elif isinstance(effect, cv.SetTopics):
            set_topics(session, user_id, effect.topics)


def _user(session: Session, user_id: str) -> LineUser:
    user = session.get(LineUser, user_id)
    if user is None:
        user = LineUser(user_id=user_id)
        session.add(user)
        session.flush()
    return user


def set_topics(session: Session, user_id: str, topics: frozenset[str]) -> None:
    _user(session, user_id)
    current = set(
        session.scalars(select(TopicSubscription.topic).where(TopicSubscription.user_id == user_id))
    )
    gone = current - topics
    if gone:
        session.execute(
            delete(TopicSubscription).where(
                TopicSubscription.user_id == user_id, TopicSubscription.topic.in_(gone)
            )
        )
    session.add_all(TopicSubscription(user_id=user_id, topic=t) for t in sorted(topics - current))


def forget(session: Session, user_id: str, event_ts: int) -> None:
    """Delete the resident's data: the row, the subscriptions, and their texts and ID in the inbox up to
    the unfollow (the event IDs stay, without the resident, so redeliveries are still recognised)."""
    session.execute(delete(TopicSubscription).where(TopicSubscription.user_id == user_id))
    session.execute(delete(LineUser).where(LineUser.user_id == user_id))
    session.execute(
        update(EVENTS)
        .where(EVENTS.c.chat_id == user_id, EVENTS.c.event_ts <= event_ts)
        .values(chat_id=None, payload=None, outbox=None, reply_token=None)
    )
    count_follow(session, unfollows=1)


def count_follow(session: Session, *, follows: int = 0, unfollows: int = 0) -> None:
    """Add to today's (JST) anonymous follow/unfollow counts, safely across processes."""
    day = dt.datetime.now(JST).date()
    stmt = insert_for(session, FollowStat).values(day=day, follows=follows, unfollows=unfollows)
    stmt = stmt.on_conflict_do_update(
        index_elements=["day"],
        set_={
            "follows": FollowStat.follows + follows,
            "unfollows": FollowStat.unfollows + unfollows,
        },
    )
    session.execute(stmt)
