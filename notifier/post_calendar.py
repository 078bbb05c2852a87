"""The posts calendar: a week (Monday to Sunday) or a month of scheduled and sent posts, in Japan time,
with each channel's delivery state; optionally one channel only. Drafts and cancelled posts are not
on it. `/api/v1/posts/calendar` answers it as JSON and `/posts/calendar` draws it."""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from app.tokyo_time import JST
from notifier.ledger_tables import Post

View = Literal["week", "month"]
SHOWN_STATES = ("scheduled", "sending", "done")
MAX_POSTS = 1000  # a month of posts is far below this; the query stays bounded whatever is stored


@dataclass(frozen=True)
class ChannelState:
    """One channel of a post on the calendar: its delivery state and when it was sent."""

    channel: str
    state: str
    sent_at: dt.datetime | None = None


@dataclass(frozen=True)
class CalendarEntry:
    """A post on its day: time (JST), title, urgency, the post's state and its channels."""

    post_id: int
    at: dt.datetime
    title: str
    urgency: str
    state: str
    channels: tuple[ChannelState, ...]


@dataclass
class Day:
    date: dt.date
    entries: list[CalendarEntry] = field(default_factory=list)


@dataclass(frozen=True)
class Calendar:
    """The days from `start` to `end` with their posts, and the neighbouring periods' dates."""

    view: View
    start: dt.date
    end: dt.date
    today: dt.date
    channel: str | None
    days: list[Day]

    @property
    def previous(self) -> dt.date:
        return self.start - dt.timedelta(days=1)

    @property
    def following(self) -> dt.date:
        return self.end + dt.timedelta(days=1)

    def as_json(self) -> dict[str, Any]:
        return {
            "view": self.view,
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "today": self.today.isoformat(),
            "previous": self.previous.isoformat(),
            "next": self.following.isoformat(),
            "channel": self.channel,
            "days": [
                {
                    "date": day.date.isoformat(),
                    "posts": [
                        {
                            "id": e.post_id,
                            "time": e.at.strftime("%H:%M"),
                            "title": e.title,
                            "urgency": e.urgency,
                            "state": e.state,
                            "channels": [
                                {
                                    "channel": c.channel,
                                    "state": c.state,
                                    "sent_at": c.sent_at.astimezone(JST).replace(microsecond=0).isoformat()
                                    if c.sent_at
                                    else None,
                                }
                                for c in e.channels
                            ],
                        }
                        for e in day.entries
                    ],
                }
                for day in self.days
            ],
        }


def period(view: View, day: dt.date) -> tuple[dt.date, dt.date]:
    """The week (Monday to Sunday) or the calendar month that contains `day`."""
    if view == "week":
        start = day - dt.timedelta(days=day.weekday())
        return start, start + dt.timedelta(days=6)
    last = calendar.monthrange(day.year, day.month)[1]
    return day.replace(day=1), day.replace(day=last)


def entry(post: Post, channel: str | None) -> CalendarEntry | None:
    """The post as the calendar shows it (None: not on the calendar, or not on `channel`)."""
    if post.scheduled_at is None or post.state not in SHOWN_STATES:
        return None
    if channel is not None and channel not in post.channels:
        return None
    by_channel = {d.channel: d for d in post.deliveries}
    states = tuple(
        ChannelState(name, d.state, d.sent_at)
        if (d := by_channel.get(name))
        else ChannelState(name, "pending")
        for name in post.channels
        if channel is None or name == channel
    )
    return CalendarEntry(
        post.id, post.scheduled_at.astimezone(JST), post.title, post.urgency, post.state, states
    )


def build_calendar(
    posts: list[Post], view: View, start: dt.date, end: dt.date, today: dt.date, channel: str | None
) -> Calendar:
    """Place the posts on the days of the period (pure)."""
    days = [Day(start + dt.timedelta(days=i)) for i in range((end - start).days + 1)]
    for post in posts:
        item = entry(post, channel)
        if item is not None and start <= item.at.date() <= end:
            days[(item.at.date() - start).days].entries.append(item)
    for day in days:
        day.entries.sort(key=lambda e: (e.at, e.post_id))
    return Calendar(view, start, end, today, channel, days)


def load_calendar(
    session: Session, view: View, day: dt.date | None, now: dt.datetime, *, channel: str | None = None
) -> Calendar:
    """The calendar of the week or month around `day` (default: today in Japan time)."""
    today = now.astimezone(JST).date()
    start, end = period(view, day or today)
    begin = dt.datetime.combine(start, dt.time(), JST)
    finish = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), JST)
    stmt = (
        select(Post)
        .options(selectinload(Post.deliveries))
        .where(Post.state.in_(SHOWN_STATES), Post.scheduled_at >= begin, Post.scheduled_at < finish)
        .order_by(Post.scheduled_at, Post.id)
        .limit(MAX_POSTS)
    )
    return build_calendar(list(session.scalars(stmt)), view, start, end, today, channel)
