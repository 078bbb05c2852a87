"""The KPI report: pure functions over the daily series and the targets.

- Growth per month: each month's last figure (a measured one when the month has any, else the last
  estimated one, flagged) and the change from the previous month that has a figure (`since` names it
  when months without figures lie between).
- The next target: the first one dated on or after the latest figure; when every target date has
  passed, the last target (overdue while not reached; once reached, the projection says when).
- The projection: the pace is the least-squares slope of the measured (not estimated) total over
  the last `window_days` days, or at least its last two figures; the target is reached when the
  latest figure plus pace × days meets it. `reached_on` is null when the pace is not positive, the
  basis spans under `MIN_BASIS_DAYS` days, or it would take over a century.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from kpi.kpi_tables import TOTAL
from kpi.series import Point, Series
from kpi.targets import Target

MIN_BASIS_DAYS = 7
MAX_PROJECTION_DAYS = 36_500


@dataclass(frozen=True)
class Month:
    """A month's last figure and the change from the previous month with a figure (`since`)."""

    month: str  # YYYY-MM
    date: dt.date
    followers: int
    change: int | None
    since: str | None = None  # the month the change is from (None: the first month)
    estimated: bool = False  # the month has only carried (estimated) figures


@dataclass(frozen=True)
class Projection:
    """Where the recent pace leads for one target."""

    target: Target | None = None
    reached: bool = False
    reached_on: dt.date | None = None
    pace_per_day: float | None = None
    basis: tuple[dt.date, dt.date] | None = None

    @property
    def on_track(self) -> bool | None:
        if self.target is None:
            return None
        return self.reached_on is not None and self.reached_on <= self.target.date


@dataclass
class Report:
    """Everything the JSON, CSV, page and chart show."""

    start: dt.date
    end: dt.date
    series: Series
    targets: list[Target]
    channel_targets: dict[str, list[Target]] = field(default_factory=dict)
    monthly: list[Month] = field(default_factory=list)
    channel_monthly: dict[str, list[Month]] = field(default_factory=dict)
    projection: Projection = field(default_factory=Projection)
    window_days: int = 90

    @property
    def latest(self) -> Point | None:
        return self.series.total[-1] if self.series.total else None


def monthly_growth(points: Sequence[Point]) -> list[Month]:
    """Each calendar month's last figure (measured when the month has one, else estimated) and its
    change from the previous month that has a figure: computed wherever two months have figures,
    and naming the month it is from, so a gap is never read as one month's growth."""
    measured: dict[tuple[int, int], Point] = {}
    carried: dict[tuple[int, int], Point] = {}
    for p in points:
        (carried if p.estimated else measured)[(p.date.year, p.date.month)] = p
    months: list[Month] = []
    for key in sorted(measured.keys() | carried.keys()):
        p = measured.get(key) or carried[key]
        prev = months[-1] if months else None
        change = p.followers - prev.followers if prev else None
        months.append(
            Month(
                f"{key[0]:04d}-{key[1]:02d}",
                p.date,
                p.followers,
                change,
                prev.month if prev else None,
                p.estimated,
            )
        )
    return months


def next_target(targets: Sequence[Target], latest: Point | None) -> Target | None:
    """The target to report the gap to (see the module's rules)."""
    if latest is None or not targets:
        return None
    ordered = sorted(targets, key=lambda t: t.date)
    upcoming = [t for t in ordered if t.date >= latest.date]
    if upcoming:
        return upcoming[0]
    return ordered[-1] if latest.followers < ordered[-1].followers else None


def pace(points: Sequence[Point], window_days: int) -> tuple[float, tuple[dt.date, dt.date]] | None:
    """Followers per day (least squares over measured figures, not estimated ones) over the last
    `window_days`, reaching further back when needed to rest on two figures (sparse monthly
    history); with the dates it rests on."""
    measured = [p for p in points if not p.estimated]
    if len(measured) < 2:
        return None
    last = measured[-1].date
    basis = [p for p in measured if (last - p.date).days <= window_days] or measured[-2:]
    if len(basis) < 2:
        basis = measured[-2:]
    if (last - basis[0].date).days < MIN_BASIS_DAYS:
        return None
    xs = [(p.date - basis[0].date).days for p in basis]
    ys = [p.followers for p in basis]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    var = sum((x - mx) ** 2 for x in xs)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / var
    return slope, (basis[0].date, last)


def project(points: Sequence[Point], target: Target | None, window_days: int) -> Projection:
    """When the total reaches `target` at the recent pace (or when it did)."""
    if target is None or not points:
        return Projection(target=target)
    measured = pace(points, window_days)
    rate, basis = measured if measured else (None, None)
    latest = points[-1]
    if latest.followers >= target.followers:
        first = next(p.date for p in points if p.followers >= target.followers)
        return Projection(target, True, first, rate, basis)
    if rate is None or rate <= 0:
        return Projection(target, False, None, rate, basis)
    needed = math.ceil((target.followers - latest.followers) / rate)
    reached_on = latest.date + dt.timedelta(days=needed) if needed <= MAX_PROJECTION_DAYS else None
    return Projection(target, False, reached_on, rate, basis)


def build_report(
    series: Series, targets: Sequence[Target], start: dt.date, end: dt.date, *, window_days: int = 90
) -> Report:
    """Assemble the report from a daily series and every stored target."""
    total_targets = sorted((t for t in targets if t.scope == TOTAL), key=lambda t: t.date)
    per_channel: dict[str, list[Target]] = {}
    for t in sorted(targets, key=lambda t: t.date):
        if t.scope != TOTAL:
            per_channel.setdefault(t.scope, []).append(t)
    latest = series.total[-1] if series.total else None
    goal = next_target(total_targets, latest) or (total_targets[-1] if total_targets else None)
    return Report(
        start=start,
        end=end,
        series=series,
        targets=total_targets,
        channel_targets=per_channel,
        monthly=monthly_growth(series.total),
        channel_monthly={name: monthly_growth(points) for name, points in series.channels.items()},
        projection=project(series.total, goal, window_days),
        window_days=window_days,
    )
