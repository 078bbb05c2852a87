"""The webhook inbox in the database: events are stored before the webhook answers 200 and handled after.

- `store`: one INSERT … ON CONFLICT (webhookEventId) DO NOTHING per body: a redelivered or duplicate
  event is stored once, also when several processes receive it at the same time.
- `claim` / `release`: a lease on one chat, so one process at a time handles a chat's events, in
  timestamp order; a lease left by a dead process expires and the sweeper takes the chat over.
- `work_for`: the chat's unfinished events; `finish`, `retry_later`, `fail`: their outcome.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Dialect, bindparam, delete, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bot.bot_tables import DEAD_LETTERS, EVENTS, LOCKS
from bot.intake.webhook_events import InboxItem, ParsedBody, UnknownEvent
from storage.aio import Batched
from storage.base import utcnow
from storage.leases import Lease, acquire
from storage.upsert import insert_for

UNFINISHED = ("pending", "prepared")
SKIPPED = "skipped"  # kind and status of an event of a type line-bot-sdk does not know


@dataclass(frozen=True)
class Work:
    """One stored event to handle (`outbox` is set once its reply is prepared)."""

    id: int
    event_id: str
    chat_id: str
    user_id: str | None
    channel: str
    kind: str
    event_ts: int
    data: str
    reply_token: str | None
    status: str
    attempts: int
    received_at: dt.datetime
    next_try_at: dt.datetime | None
    outbox: list[dict[str, Any]] | None
    raw: dict[str, Any] | None = None  # the event as received, until the SDK parsed it (kind "event")
    redelivered: bool = False  # LINE redelivered it: the reply token dates from `event_ts`


def store(
    session: Session,
    items: Sequence[InboxItem],
    dead: Sequence[tuple[str, str]],
    unknown: Sequence[UnknownEvent] = (),
) -> None:
    """Insert new events (duplicates are ignored), dead letters and events of unknown types (finished
    at once, status `skipped`); the caller commits."""
    if items:
        events = _events_insert(session.get_bind().dialect)
        now = events.received_at(utcnow())
        rows = [
            (
                i.event_id,
                i.chat_id,
                i.channel,
                i.kind,
                i.timestamp,
                _payload(i),
                i.reply_token,
                "pending",
                0,
                now,
            )
            for i in items
        ]
        events.run(session, rows)
    if dead:
        now = utcnow()
        letters = [{"reason": reason[:500], "body": body, "received_at": now} for reason, body in dead]
        session.execute(insert(DEAD_LETTERS), letters)
    if unknown:
        _store_unknown(session, unknown)


def _store_unknown(session: Session, unknown: Sequence[UnknownEvent]) -> None:
    """Events of types the SDK does not know: their ID (a redelivery is stored once), time and type."""
    now = utcnow()
    rows = [
        {
            "event_id": u.event_id,
            "chat_id": None,
            "channel": u.channel,
            "kind": SKIPPED,
            "event_ts": u.timestamp,
            "status": SKIPPED,
            "attempts": 0,
            "error": f"event type {u.event_type!r} is unknown to line-bot-sdk: skipped",
            "received_at": now,
            "done_at": now,
        }
        for u in unknown
    ]
    session.execute(insert_for(session, EVENTS).on_conflict_do_nothing(index_elements=["event_id"]), rows)


# the columns of the rows `store` inserts, in their order
STORED = (
    "event_id", "chat_id", "channel", "kind", "event_ts", "payload", "reply_token", "status", "attempts",
    "received_at",
)  # fmt: skip


class EventsInsert:
    """The webhook's hot statement compiled once for a database: `INSERT … ON CONFLICT (event_id) DO
    NOTHING` run as one DBAPI `executemany` of plain rows (SQLAlchemy's per-row binding cost as much
    as the rest of the insert), and the converter for the rows' shared `received_at` value."""

    def __init__(self, dialect: Dialect) -> None:
        table = postgresql.insert(EVENTS) if dialect.name == "postgresql" else sqlite.insert(EVENTS)
        stmt = table.values({name: bindparam(name) for name in STORED}).inline()  # no RETURNING
        compiled = stmt.on_conflict_do_nothing(index_elements=["event_id"]).compile(dialect=dialect)
        for name in STORED[:-1]:  # plain columns: no conversion needed (checked, not assumed)
            if EVENTS.c[name].type.bind_processor(dialect) is not None:
                raise TypeError(f"inbox_events.{name} needs a bind processor on {dialect.name}")
        self.sql = str(compiled)
        self.positional = bool(compiled.positional)
        order = [STORED.index(name) for name in compiled.positiontup or ()]
        self.order = None if order == list(range(len(STORED))) or not self.positional else order
        convert = EVENTS.c.received_at.type.bind_processor(dialect)
        self.received_at: Callable[[Any], Any] = convert or (lambda value: value)

    def run(self, session: Session, rows: list[tuple[Any, ...]]) -> None:
        """Insert `rows` (values in the order of `STORED`)."""
        params: list[Any] = rows
        if not self.positional:
            params = [dict(zip(STORED, row, strict=True)) for row in rows]
        elif self.order is not None:
            params = [tuple(row[i] for i in self.order) for row in rows]
        session.connection().exec_driver_sql(self.sql, params)


_inserts: dict[tuple[str, str], EventsInsert] = {}


def _events_insert(dialect: Dialect) -> EventsInsert:
    key = (dialect.name, dialect.driver)
    if key not in _inserts:
        _inserts[key] = EventsInsert(dialect)
    return _inserts[key]


def _payload(item: InboxItem) -> str:
    """What the worker needs of the event and drops once the reply is prepared: the user and the text
    or postback data (and `r` for a redelivered event), or the whole event when the SDK has not parsed
    it yet."""
    if item.raw is not None:
        return json.dumps({"u": item.user_id, "e": item.raw}, ensure_ascii=False)
    extra = {"r": 1} if item.redelivered else {}
    return json.dumps({"u": item.user_id, "d": item.data, **extra}, ensure_ascii=False)


def kept_payload(work: Work) -> str | None:
    """The payload once the reply is prepared: nothing of the resident, only whether LINE redelivered
    the event (its reply token's age counts from the event)."""
    return json.dumps({"r": 1}) if work.redelivered else None


def _store_bodies(session: Session, bodies: list[ParsedBody]) -> None:
    store(
        session,
        [i for b in bodies for i in b.items],
        [d for b in bodies for d in b.dead],
        [u for b in bodies for u in b.unknown],
    )


# `await db.write(STORE_BODIES, parsed)`: the webhooks of one group commit share one INSERT
STORE_BODIES = Batched(_store_bodies)


CHAT_LEASE = Lease(until=LOCKS.c.expires_at, owner=LOCKS.c.owner)


def claim(session: Session, chat_id: str, owner: str, lease: float) -> bool:
    """Take (or renew) the lease on a chat; False while another live owner holds it."""
    return acquire(session, LOCKS, {"chat_id": chat_id}, CHAT_LEASE, owner=owner, now=utcnow(), seconds=lease)


def lock_owner(session: Session, chat_id: str) -> str | None:
    return session.scalar(select(LOCKS.c.owner).where(LOCKS.c.chat_id == chat_id))


def take_over(session: Session, chat_id: str, dead_owner: str, owner: str, lease: float) -> bool:
    """Take a chat from an owner known to be dead (before its lease expires)."""
    result = session.execute(
        update(LOCKS)
        .where(LOCKS.c.chat_id == chat_id, LOCKS.c.owner == dead_owner)
        .values(CHAT_LEASE.take(owner, utcnow(), lease))
    )
    return bool(getattr(result, "rowcount", 0))


def release(session: Session, chat_id: str, owner: str) -> None:
    session.execute(delete(LOCKS).where(LOCKS.c.chat_id == chat_id, LOCKS.c.owner == owner))


def work_for(session: Session, chat_id: str) -> list[Work]:
    """The chat's unfinished events in timestamp order."""
    stmt = (
        select(EVENTS)
        .where(EVENTS.c.chat_id == chat_id, EVENTS.c.status.in_(UNFINISHED))
        .order_by(EVENTS.c.event_ts, EVENTS.c.id)
    )
    return [_work(row) for row in session.execute(stmt)]


def _work(row: Any) -> Work:
    payload = json.loads(row.payload) if row.payload else {}
    return Work(
        id=row.id,
        event_id=row.event_id,
        chat_id=row.chat_id or "",
        user_id=payload.get("u"),
        channel=row.channel,
        kind=row.kind,
        event_ts=row.event_ts,
        data=payload.get("d", ""),
        reply_token=row.reply_token,
        status=row.status,
        attempts=row.attempts,
        received_at=row.received_at,
        next_try_at=row.next_try_at,
        outbox=json.loads(row.outbox) if row.outbox else None,
        raw=payload.get("e"),
        redelivered=bool(payload.get("r")),
    )


def finish(session: Session, event_id: int) -> None:
    """Delivered (or nothing to send): drop the reply and the token."""
    session.execute(
        update(EVENTS)
        .where(EVENTS.c.id == event_id)
        .values(status="done", outbox=None, reply_token=None, payload=None, done_at=utcnow(), error=None)
    )


def retry_later(session: Session, event_id: int, attempts: int, delay: float, error: str) -> None:
    until = utcnow() + dt.timedelta(seconds=delay)
    session.execute(
        update(EVENTS)
        .where(EVENTS.c.id == event_id)
        .values(attempts=attempts, next_try_at=until, error=error[:500])
    )


def fail(session: Session, event_id: int, error: str) -> None:
    """Give up on an event: keep the reason, drop everything personal."""
    session.execute(
        update(EVENTS)
        .where(EVENTS.c.id == event_id)
        .values(
            status="failed", outbox=None, reply_token=None, payload=None, error=error[:500], done_at=utcnow()
        )
    )


def dead_letter(session: Session, event_id: int, reason: str, body: str) -> None:
    """An event the SDK refused after the 200: keep it as a dead letter, and the ID (for de-duplication)
    with the reason."""
    session.execute(insert(DEAD_LETTERS).values(reason=reason[:500], body=body, received_at=utcnow()))
    fail(session, event_id, reason)


def has_work(session: Session, chat_id: str) -> bool:
    stmt = select(EVENTS.c.id).where(EVENTS.c.chat_id == chat_id, EVENTS.c.status.in_(UNFINISHED))
    return session.execute(stmt.limit(1)).first() is not None


def stale_chats(session: Session, *, older_than: float, limit: int = 200) -> list[str]:
    """Chats with unfinished events received more than `older_than` seconds ago and due now: what a
    dead process left behind, or what waits for a retry."""
    now = utcnow()
    stmt = (
        select(EVENTS.c.chat_id)
        .where(
            EVENTS.c.status.in_(UNFINISHED),
            EVENTS.c.chat_id.is_not(None),
            EVENTS.c.received_at < now - dt.timedelta(seconds=older_than),
            or_(EVENTS.c.next_try_at.is_(None), EVENTS.c.next_try_at <= now),
        )
        .distinct()
        .limit(limit)
    )
    return [c for c in session.scalars(stmt) if c]


def purge(session: Session, *, keep_events: dt.timedelta, keep_dead: dt.timedelta) -> int:
    """Delete finished events (their IDs only matter while LINE may redeliver) and old dead letters."""
    now = utcnow()
    done = session.execute(
        delete(EVENTS).where(
            EVENTS.c.status.in_(("done", "failed", SKIPPED)), EVENTS.c.received_at < now - keep_events
        )
    )
    session.execute(delete(DEAD_LETTERS).where(DEAD_LETTERS.c.received_at < now - keep_dead))
    session.execute(delete(LOCKS).where(LOCKS.c.expires_at < now - dt.timedelta(hours=1)))
    return int(getattr(done, "rowcount", 0) or 0)
