"""The inbox forgets finished events once LINE can no longer redeliver them (`inbox_store.purge`)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.bot_tables import DEAD_LETTERS, EVENTS
from bot.inbox import inbox_store
from bot.intake.webhook_events import InboxItem, UnknownEvent
from storage.base import utcnow

OLD = dt.timedelta(days=8)
KEEP = dt.timedelta(days=7)

# (event ID, status, age): which rows a purge keeping 7 days leaves
ROWS = [
    ("pending-old", "pending", OLD),
    ("prepared-old", "prepared", OLD),
    ("done-old", "done", OLD),
    ("failed-old", "failed", OLD),
    ("done-new", "done", dt.timedelta(days=1)),
]


def test_finished_and_skipped_events_go_after_the_retention_unfinished_ones_stay(
    sessions: sessionmaker[Session],
) -> None:
    now = utcnow()
    items = [InboxItem(event_id, "U" + "1" * 32, None, "text", 1, "hi") for event_id, _, _ in ROWS]
    unknown = [
        UnknownEvent("skipped-old", 1, "brandNewEvent"),
        UnknownEvent("skipped-new", 1, "brandNewEvent"),
    ]
    with sessions.begin() as s:
        inbox_store.store(s, items, [("reason", "{}")], unknown)
        for event_id, status, age in [
            *ROWS,
            ("skipped-old", "skipped", OLD),
            ("skipped-new", "skipped", KEEP / 7),
        ]:
            s.execute(
                update(EVENTS)
                .where(EVENTS.c.event_id == event_id)
                .values(status=status, received_at=now - age)
            )
        s.execute(update(DEAD_LETTERS).values(received_at=now - dt.timedelta(days=31)))
    with sessions.begin() as s:
        removed = inbox_store.purge(s, keep_events=KEEP, keep_dead=dt.timedelta(days=30))
    with sessions() as s:
        left = sorted(s.scalars(select(EVENTS.c.event_id)))
        letters = s.execute(select(DEAD_LETTERS)).all()
    assert removed == 3
    assert left == ["done-new", "pending-old", "prepared-old", "skipped-new"]
    assert letters == []
