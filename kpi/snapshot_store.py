"""Database access of the KPI area: snapshot upserts and what the report reads.

Writes that several workers may race on are single `INSERT … ON CONFLICT` statements, identical in
effect on SQLite and PostgreSQL, so a rerun or a concurrent run leaves exactly one row.

Every read takes one side: the real accounts' figures, or (`demo=True`) the figures of channels bound
to the app's fakes in demo mode (`DEMO_ACCOUNT`), which are never mixed into real history.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, case, func, select, union_all
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from kpi.kpi_tables import FollowerFetch, FollowerSnapshot
from kpi.series import AccountKey, Failure, ReadingRow
from notifier.channels.channel_base import DEMO_ACCOUNT
from storage.base import Base, utcnow

SNAPSHOT_FIELDS = ("followers", "platform_followers", "targeted_reaches", "blocks", "fan_count", "source")


def insert_for(session: Session, model: type[Base]) -> Any:
    """An INSERT into `model`'s table that supports `on_conflict_do_*` on the session's database."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    return insert(model)


@dataclass(frozen=True)
class SnapshotValues:
    """One account's figures for one date, ready to store."""

    channel: str
    account: str
    date: dt.date
    followers: int
    source: str
    platform_followers: int | None = None
    targeted_reaches: int | None = None
    blocks: int | None = None
    fan_count: int | None = None

    def row(self) -> dict[str, Any]:
        return {
            "channel": self.channel,
            "account": self.account,
            "date": self.date,
            **{name: getattr(self, name) for name in SNAPSHOT_FIELDS},
            "collected_at": utcnow(),
        }


def upsert_snapshots(session: Session, values: Sequence[SnapshotValues]) -> None:
    """Insert or replace the snapshots (one row per channel, account and date). The caller commits."""
    if not values:
        return
    stmt = insert_for(session, FollowerSnapshot)
    stmt = stmt.on_conflict_do_update(
        index_elements=["channel", "account", "date"],
        set_={name: stmt.excluded[name] for name in (*SNAPSHOT_FIELDS, "collected_at")},
    )
    session.execute(stmt, [v.row() for v in values])


def has_snapshot(session: Session, channel: str, account: str, date: dt.date) -> bool:
    stmt = select(FollowerSnapshot.id).where(
        FollowerSnapshot.channel == channel,
        FollowerSnapshot.account == account,
        FollowerSnapshot.date == date,
    )
    return session.scalar(stmt) is not None


def side(account: Any, demo: bool) -> ColumnElement[bool]:
    """The rows of the demo accounts, or of every real account."""
    return account == DEMO_ACCOUNT if demo else account != DEMO_ACCOUNT  # type: ignore[no-any-return]


def load_readings(
    session: Session, start: dt.date | None, end: dt.date | None, *, demo: bool = False
) -> Sequence[ReadingRow]:
    """Snapshots from `start` to `end` (None: unbounded), as plain tuples, ordered by date with, on
    one date, imported figures before collected ones and older before newer (so a reader keeping the
    last figure per channel and date keeps the collected one). Without bounds the table is scanned,
    which beats the date index when the range covers (nearly) all of it."""
    s = FollowerSnapshot
    imported_first = case((s.source == "import", 0), else_=1)
    stmt = (
        select(s.channel, s.account, s.date, s.followers)
        .where(side(s.account, demo))
        .order_by(s.date, imported_first, s.collected_at)
    )
    if start is not None:
        stmt = stmt.where(s.date >= start)
    if end is not None:
        stmt = stmt.where(s.date <= end)
    # Core rows on the session's connection, as they are: no ORM processing, no per-row objects
    return session.connection().execute(stmt).all()


def load_failures(
    session: Session, start: dt.date | None, end: dt.date | None, *, demo: bool = False
) -> list[Failure]:
    """Fetches that ended without a figure (unready or error), with their reasons."""
    f = FollowerFetch
    stmt = select(f.channel, f.account, f.date, f.status, f.reason).where(
        f.status.in_(("unready", "error")), side(f.account, demo)
    )
    if start is not None:
        stmt = stmt.where(f.date >= start)
    if end is not None:
        stmt = stmt.where(f.date <= end)
    return [Failure(*row) for row in session.execute(stmt.order_by(f.date))]


def load_bounds(session: Session, *, demo: bool = False) -> dict[AccountKey, tuple[dt.date, dt.date]]:
    """Per account: its first snapshot and its last activity (a snapshot or a failed fetch), over all
    history. An account is in service between the two; after that it was removed."""
    s, f = FollowerSnapshot, FollowerFetch
    snaps = select(s.channel, s.account, s.date.label("d")).where(side(s.account, demo))
    fails = select(f.channel, f.account, f.date.label("d")).where(
        f.status.in_(("unready", "error")), side(f.account, demo)
    )
    both = union_all(snaps, fails).subquery()
    first = (
        select(s.channel, s.account, func.min(s.date))
        .where(side(s.account, demo))
        .group_by(s.channel, s.account)
    )
    last = select(both.c.channel, both.c.account, func.max(both.c.d)).group_by(both.c.channel, both.c.account)
    firsts = {(c, a): d for c, a, d in session.execute(first)}
    lasts = {(c, a): d for c, a, d in session.execute(last)}
    return {key: (begin, max(begin, lasts.get(key, begin))) for key, begin in firsts.items()}


def load_daily_since(session: Session, *, demo: bool = False) -> dict[AccountKey, dt.date]:
    """Per account, its first figure that was collected (not imported from CSV)."""
    s = FollowerSnapshot
    stmt = (
        select(s.channel, s.account, func.min(s.date))
        .where(s.source != "import", side(s.account, demo))
        .group_by(s.channel, s.account)
    )
    return {(c, a): d for c, a, d in session.execute(stmt)}


def snapshot_span(session: Session, *, demo: bool = False) -> tuple[dt.date, dt.date] | None:
    """The first and last snapshot dates, or None when there is none."""
    s = FollowerSnapshot
    first, last = session.execute(
        select(func.min(s.date), func.max(s.date)).where(side(s.account, demo))
    ).one()
    return (first, last) if first is not None else None


def channel_accounts(session: Session, *, demo: bool = False) -> dict[str, str]:
    """Per channel, the account of its newest figure (on a tie, the one collected most recently):
    the name the report gives the channel's one account."""
    s = FollowerSnapshot
    collected = func.max(case((s.source != "import", s.date)))
    stmt = (
        select(s.channel, s.account, func.max(s.date), collected)
        .where(side(s.account, demo))
        .group_by(s.channel, s.account)
    )
    best: dict[str, tuple[tuple[dt.date, dt.date], str]] = {}
    for channel, account, newest, last_collected in session.execute(stmt):
        key = (newest, last_collected or dt.date.min)
        if channel not in best or key > best[channel][0]:
            best[channel] = (key, account)
    return {channel: account for channel, (_key, account) in best.items()}


def existing_snapshots(session: Session, keys: Iterable[tuple[str, str, dt.date]]) -> dict[Any, int]:
    """Followers already stored for the given (channel, account, date) keys."""
    wanted = set(keys)
    if not wanted:
        return {}
    dates = [d for _, _, d in wanted]
    s = FollowerSnapshot
    stmt = select(s.channel, s.account, s.date, s.followers).where(s.date >= min(dates), s.date <= max(dates))
    return {(c, a, d): n for c, a, d, n in session.execute(stmt) if (c, a, d) in wanted}
