"""Reading a report out of the database: the glue between `store` and the pure `series`/`report`."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.settings import Settings
from kpi.kpi_tables import FollowerSnapshot
from kpi.report import Report, build_report
from kpi.series import build_series
from kpi.snapshot_store import load_bounds, load_daily_since, load_failures, load_readings, snapshot_span
from kpi.targets import load_targets


class RangeError(ValueError):
    """A report range that cannot be served (e.g. `from` after `to`)."""


@dataclass(frozen=True)
class Options:
    """How the report treats gaps and measures the pace (settings KPI_*)."""

    carry_days: int = 7
    window_days: int = 90

    @classmethod
    def from_settings(cls, settings: Settings) -> Options:
        return cls(settings.kpi_carry_days, settings.kpi_projection_window_days)


def resolve_range(
    span: tuple[dt.date, dt.date] | None, start: dt.date | None, end: dt.date | None, today: dt.date
) -> tuple[dt.date, dt.date]:
    """Defaults: from the first snapshot to today (JST). `to` after today is today (there are no
    figures in the future), `from` before the first snapshot is the first snapshot's date."""
    if start is not None and end is not None and start > end:
        raise RangeError(f"from ({start}) is after to ({end})")
    end = min(end or today, today)
    first = span[0] if span else end
    start = max(start or first, min(first, end))
    if start > end:
        raise RangeError(f"from ({start}) is after today ({today})")
    return start, end


def load_report(
    session: Session, start: dt.date | None, end: dt.date | None, *, today: dt.date, options: Options
) -> Report:
    """The report for a date range (see `resolve_range` for the defaults)."""
    span = snapshot_span(session)
    start, end = resolve_range(span, start, end, today)
    lookback = start - dt.timedelta(days=options.carry_days)
    # When the range covers all history, read it unbounded and derive each account's bounds from it
    whole = span is None or (lookback <= span[0] and end >= span[1])
    readings = load_readings(session, None if whole else lookback, None if whole else end)
    failures = load_failures(session, None if whole else start, None if whole else end)
    series = build_series(
        readings,
        failures,
        start,
        end,
        carry_days=options.carry_days,
        bounds=None if whole else load_bounds(session),
        daily_since=load_daily_since(session),
    )
    return build_report(series, load_targets(session), start, end, window_days=options.window_days)


def latest_snapshots(session: Session, end: dt.date) -> list[FollowerSnapshot]:
    """Each account's newest snapshot on or before `end`, with its platform details."""
    s = FollowerSnapshot
    newest = (
        select(s.channel, s.account, func.max(s.date).label("d"))
        .where(s.date <= end)
        .group_by(s.channel, s.account)
        .subquery()
    )
    stmt = select(s).join(
        newest, (s.channel == newest.c.channel) & (s.account == newest.c.account) & (s.date == newest.c.d)
    )
    return list(session.scalars(stmt.order_by(s.channel, s.account)))
