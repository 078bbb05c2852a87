"""Per-account rate limits in the database, shared by every worker.

Two sources: documented limits as token buckets (LINE broadcast and narrowcast 60 per hour, multicast
200 per second), and what the platform says (a 429's reset time, or a response reporting zero calls
left), which blocks the account until then. A reservation is ONE `UPDATE … RETURNING` that refills and
takes a token only when one is available, so concurrent workers never overdraw a bucket.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import case, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from notifier.channels.channel_base import Bucket, RateInfo
from notifier.ledger_tables import ChannelLimit


def ensure(session: Session, key: str, bucket: Bucket | None) -> None:
    """Create the key's row (a full bucket) or update its declared capacity and rate."""
    capacity = float(bucket.capacity) if bucket else None
    rate = bucket.capacity / bucket.per_seconds if bucket else None
    values = {"key": key, "capacity": capacity, "rate": rate, "tokens": capacity or 0.0}
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    stmt = insert(ChannelLimit).values(**values, refilled_at=0.0, blocked_until=0.0)
    session.execute(
        stmt.on_conflict_do_update(index_elements=["key"], set_={"capacity": capacity, "rate": rate})
    )


def reserve(session: Session, key: str, now: float, calls: int = 1) -> float:
    """Take `calls` calls from `key`'s budget (all or none): 0.0 when reserved, else the seconds to
    wait. `calls` larger than the bucket's capacity is treated as the capacity."""
    row = ChannelLimit
    want = case((row.capacity < calls, row.capacity), else_=float(calls))
    refilled = row.tokens + (now - row.refilled_at) * row.rate
    level = case((refilled > row.capacity, row.capacity), else_=refilled)
    taken = session.execute(
        update(row)
        .where(row.key == key, row.blocked_until <= now, row.capacity.is_not(None), level >= want)
        .values(tokens=level - want, refilled_at=now)
        .returning(row.key)
    ).first()
    if taken is not None:
        return 0.0
    state = session.execute(
        select(row.capacity, row.rate, row.tokens, row.refilled_at, row.blocked_until).where(row.key == key)
    ).one()
    needed = min(float(calls), state.capacity) if state.capacity is not None else 1.0
    wait = wait_seconds(
        state.capacity, state.rate, state.tokens, state.refilled_at, state.blocked_until, now, needed
    )
    # a bucket key whose UPDATE took nothing must wait, even if float rounding says a token is there
    return wait if state.capacity is None else max(wait, 0.001)


def wait_seconds(
    capacity: float | None,
    rate: float | None,
    tokens: float,
    refilled_at: float,
    blocked: float,
    now: float,
    needed: float = 1.0,
) -> float:
    """Seconds until `needed` calls are allowed (pure; 0.0 = now)."""
    wait = max(blocked - now, 0.0)
    if capacity is None or not rate:
        return wait
    level = min(capacity, tokens + (now - refilled_at) * rate)
    return max(wait, (needed - level) / rate if level < needed else 0.0)


def observe(session: Session, key: str, info: RateInfo | None, now: dt.datetime) -> None:
    """Remember what the platform's headers said; zero calls left blocks the key until the reset."""
    if info is None:
        return
    values: dict[str, object] = {"remaining": info.remaining, "reset_at": info.reset_at}
    if info.remaining == 0 and info.reset_at is not None and info.reset_at > now:
        values["blocked_until"] = info.reset_at.timestamp()
    session.execute(update(ChannelLimit).where(ChannelLimit.key == key).values(**values))


def block(session: Session, key: str, until: dt.datetime) -> None:
    """A 429: nobody calls `key` before `until`."""
    session.execute(
        update(ChannelLimit)
        .where(ChannelLimit.key == key, ChannelLimit.blocked_until < until.timestamp())
        .values(blocked_until=until.timestamp(), remaining=0, reset_at=until)
    )


def snapshot(session: Session) -> list[dict[str, object]]:
    """Every key's state, for the status API."""
    rows = session.scalars(select(ChannelLimit).order_by(ChannelLimit.key)).all()
    return [
        {
            "key": r.key,
            "capacity": r.capacity,
            "blocked_until": dt.datetime.fromtimestamp(r.blocked_until, dt.UTC) if r.blocked_until else None,
            "remaining": r.remaining,
            "reset_at": r.reset_at,
        }
        for r in rows
    ]
