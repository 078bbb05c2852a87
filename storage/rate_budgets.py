"""Rate budgets in the database, shared by every process and area: the one place that decides whether
a call to an outside platform may be made now.

- **Token buckets** per key (`ensure`, `reserve`, `block`, `observe`; table `channel_limits`): the
  documented limits (LINE broadcast and narrowcast 60 per hour, multicast 200 per second) and what the
  platform says (a 429's reset time, or a response reporting zero calls left), which blocks the key
  until then. A reservation is ONE `UPDATE … RETURNING` that refills and takes tokens only when they
  are there, so concurrent workers never overdraw a bucket.
- **Rolling windows** (`reserve_in_window`, `next_free_in_window`; table `kpi_rate_slots`): N calls in
  any hour, for APIs whose limit is a sliding window (LINE insight: 60 per hour). A key has N slot
  rows; a call takes the slot last used more than a window ago, in one `UPDATE … RETURNING` (under
  `BEGIN IMMEDIATE` on SQLite, `FOR UPDATE SKIP LOCKED` on PostgreSQL).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import case, func, or_, select, update
from sqlalchemy.orm import Session

from storage.budget_tables import ChannelLimit, RateSlot
from storage.db import begin_immediate
from storage.upsert import insert_for


@dataclass(frozen=True)
class Bucket:
    """A documented token-bucket limit: `capacity` calls, refilled evenly over `per_seconds`."""

    capacity: int
    per_seconds: float


def ensure(session: Session, key: str, bucket: Bucket | None) -> None:
    """Create the key's row (a full bucket) or update its declared capacity and rate."""
    capacity = float(bucket.capacity) if bucket else None
    rate = bucket.capacity / bucket.per_seconds if bucket else None
    values = {"key": key, "capacity": capacity, "rate": rate, "tokens": capacity or 0.0}
    stmt = insert_for(session, ChannelLimit).values(**values, refilled_at=0.0, blocked_until=0.0)
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


def observe(
    session: Session, key: str, *, remaining: int | None, reset_at: dt.datetime | None, now: dt.datetime
) -> None:
    """Remember what the platform's headers said; zero calls left blocks the key until the reset."""
    values: dict[str, object] = {"remaining": remaining, "reset_at": reset_at}
    if remaining == 0 and reset_at is not None and reset_at > now:
        values["blocked_until"] = reset_at.timestamp()
    session.execute(update(ChannelLimit).where(ChannelLimit.key == key).values(**values))


def block(session: Session, key: str, until: dt.datetime) -> None:
    """A 429: nobody calls `key` before `until`."""
    session.execute(
        update(ChannelLimit)
        .where(ChannelLimit.key == key, ChannelLimit.blocked_until < until.timestamp())
        .values(blocked_until=until.timestamp(), remaining=0, reset_at=until)
    )


def blocked_beyond(session: Session, when: dt.datetime) -> list[tuple[str, dt.datetime]]:
    """The keys nobody may call before some time after `when`, with that time, soonest first."""
    rows = session.execute(
        select(ChannelLimit.key, ChannelLimit.blocked_until)
        .where(ChannelLimit.blocked_until > when.timestamp())
        .order_by(ChannelLimit.blocked_until, ChannelLimit.key)
    ).all()
    return [(r.key, dt.datetime.fromtimestamp(r.blocked_until, dt.UTC)) for r in rows]


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


# ---- rolling windows ----

WINDOW = dt.timedelta(hours=1)


def _ensure_slots(session: Session, key: str, per_hour: int) -> None:
    have = session.scalar(select(func.count()).where(RateSlot.key == key, RateSlot.slot < per_hour))
    if have == per_hour:
        return
    stmt = insert_for(session, RateSlot)
    rows = [{"key": key, "slot": n, "used_at": None} for n in range(per_hour)]
    session.execute(stmt.on_conflict_do_nothing(index_elements=["key", "slot"]), rows)


def reserve_in_window(session: Session, key: str, per_hour: int, now: dt.datetime) -> bool:
    """Take one call from `key`'s budget, as the first statement of the caller's transaction (commit it
    at once); False when `per_hour` calls were taken in the hour before `now`."""
    begin_immediate(session)
    _ensure_slots(session, key, per_hour)
    free = (
        select(RateSlot.id)
        .where(
            RateSlot.key == key,
            RateSlot.slot < per_hour,
            or_(RateSlot.used_at.is_(None), RateSlot.used_at <= now - WINDOW),
        )
        .order_by(RateSlot.used_at.nulls_first(), RateSlot.slot)
        .limit(1)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    taken = session.execute(
        update(RateSlot).where(RateSlot.id == free).values(used_at=now).returning(RateSlot.id)
    ).first()
    return taken is not None


def next_free_in_window(session: Session, key: str, per_hour: int, now: dt.datetime) -> dt.datetime:
    """When the next call of `key` will be allowed (`now` if one is free)."""
    slots = select(RateSlot.used_at).where(RateSlot.key == key, RateSlot.slot < per_hour)
    used = session.scalars(slots).all()
    if len(used) < per_hour or any(u is None or u <= now - WINDOW for u in used):
        return now
    return min(u for u in used if u is not None) + WINDOW
