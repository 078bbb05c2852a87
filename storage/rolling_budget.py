"""A rolling-hour call budget shared by every process through the database.

LINE allows 60 insight calls per hour. The budget is `per_hour` slot rows per key; a call takes the
slot last used more than an hour ago, in one `UPDATE … RETURNING` (under `BEGIN IMMEDIATE` on SQLite,
`FOR UPDATE SKIP LOCKED` on PostgreSQL), so concurrent workers can never exceed it together.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from kpi.kpi_tables import RateSlot
from kpi.snapshot_store import insert_for
from storage.db import begin_immediate, session_scope

WINDOW = dt.timedelta(hours=1)


def _ensure_slots(session: Session, key: str, per_hour: int) -> None:
    have = session.scalar(select(func.count()).where(RateSlot.key == key, RateSlot.slot < per_hour))
    if have == per_hour:
        return
    stmt = insert_for(session, RateSlot)
    rows = [{"key": key, "slot": n, "used_at": None} for n in range(per_hour)]
    session.execute(stmt.on_conflict_do_nothing(index_elements=["key", "slot"]), rows)


def reserve(sessions: sessionmaker[Session], key: str, per_hour: int, now: dt.datetime) -> bool:
    """Take one call from `key`'s budget (committed at once); False when `per_hour` calls were taken
    in the hour before `now`."""
    with session_scope(sessions) as session:
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


def next_free_at(sessions: sessionmaker[Session], key: str, per_hour: int, now: dt.datetime) -> dt.datetime:
    """When the next call of `key` will be allowed (`now` if one is free)."""
    with sessions() as session:
        used = session.scalars(
            select(RateSlot.used_at).where(RateSlot.key == key, RateSlot.slot < per_hour)
        ).all()
    if len(used) < per_hour or any(u is None or u <= now - WINDOW for u in used):
        return now
    return min(u for u in used if u is not None) + WINDOW
