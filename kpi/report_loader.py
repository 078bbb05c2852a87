"""Reading a report out of the database: the glue between `store` and the pure `series`/`report`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.settings import Settings
from kpi.kpi_tables import FollowerSnapshot
from kpi.report import Report, build_report
from kpi.series import (
    build_series,
    merge_bounds,
    merge_since,
    one_account_per_channel,
    rename_failures,
)
from kpi.snapshot_store import (
    channel_accounts,
    load_bounds,
    load_daily_since,
    load_failures,
    load_readings,
    side,
    snapshot_span,
)
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
    session: Session,
    start: dt.date | None,
    end: dt.date | None,
    *,
    today: dt.date,
    options: Options,
    demo: bool = False,
    names: Mapping[str, str] | None = None,
) -> Report:
    """The report for a date range (see `resolve_range` for the defaults): of the real accounts, or
    with `demo` of the demo ones only. Each channel is one account, named `names[channel]` (the
    configured account) or else after its newest figure's account."""
    span = snapshot_span(session, demo=demo)
    start, end = resolve_range(span, start, end, today)
    lookback = start - dt.timedelta(days=options.carry_days)
    named = {**channel_accounts(session, demo=demo), **(names or {})}
    # When the range covers all history, read it unbounded and derive each account's bounds from it
    whole = span is None or (lookback <= span[0] and end >= span[1])
    rows = load_readings(session, None if whole else lookback, None if whole else end, demo=demo)
    failures = load_failures(session, None if whole else start, None if whole else end, demo=demo)
    series = build_series(
        one_account_per_channel(rows, named),
        rename_failures(failures, named),
        start,
        end,
        carry_days=options.carry_days,
        bounds=None if whole else merge_bounds(load_bounds(session, demo=demo), named),
        daily_since=merge_since(load_daily_since(session, demo=demo), named),
    )
    return build_report(series, load_targets(session), start, end, window_days=options.window_days)


def latest_snapshots(session: Session, end: dt.date, *, demo: bool = False) -> list[FollowerSnapshot]:
    """Each channel's newest snapshot on or before `end` (a collected one on a tie), with its
    platform details."""
    s = FollowerSnapshot
    newest = (
        select(s.channel, func.max(s.date).label("d"))
        .where(s.date <= end, side(s.account, demo))
        .group_by(s.channel)
        .subquery()
    )
    stmt = select(s).join(newest, (s.channel == newest.c.channel) & (s.date == newest.c.d))
    rows = session.scalars(stmt.where(side(s.account, demo)).order_by(s.channel, s.collected_at))
    by_channel: dict[str, FollowerSnapshot] = {}
    for row in rows:
        if row.channel not in by_channel or row.source != "import":
            by_channel[row.channel] = row
    return list(by_channel.values())
