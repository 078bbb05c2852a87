"""Daily follower series from stored snapshots: pure functions, no database.

How days without a figure are treated (the report's rules):

- Before an account's first snapshot it did not exist yet (added later): it adds nothing, no gap.
- A day without its own figure takes the last known figure for up to `carry_days` days; such points
  are flagged `estimated`.
- Later, while the account is still in service (a later snapshot or a recorded failed fetch exists),
  the day is missing: the channel's and the total's figure for that day is unknown, never zero, and
  the gap is listed with the recorded reason.
- After its last activity plus `carry_days` the account was removed: it adds nothing any more.

Each channel is one account (`one_account_per_channel`): imported history and live counts of the same
channel are one series, never added up; on a day with both, the collected figure counts.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from kpi.kpi_channels import CHANNELS

AccountKey = tuple[str, str]  # (channel, account)
ONE_DAY = dt.timedelta(days=1)


class Reading(NamedTuple):
    """A stored figure: the account's followers counted toward the KPI on a JST date."""

    channel: str
    account: str
    date: dt.date
    followers: int


# What `build_series` reads: a `Reading` or any (channel, account, date, followers) row
ReadingRow = tuple[str, str, dt.date, int]


class Failure(NamedTuple):
    """A fetch that gave no figure (`unready` or `error`) with its reason."""

    channel: str
    account: str
    date: dt.date
    status: str
    reason: str | None


class Point(NamedTuple):
    """One day's figure; `estimated` when part of it was carried forward from an earlier day."""

    date: dt.date
    followers: int
    estimated: bool = False


@dataclass(frozen=True)
class Gap:
    """Consecutive days on which an account in service has no figure."""

    channel: str
    account: str
    start: dt.date
    end: dt.date
    reasons: tuple[str, ...]


@dataclass
class Series:
    """Total and per-channel daily points (missing days absent) and the gaps that caused absences."""

    total: list[Point] = field(default_factory=list)
    channels: dict[str, list[Point]] = field(default_factory=dict)
    gaps: list[Gap] = field(default_factory=list)


class _Absent:
    """The account is not in service that day (not added yet, or removed): it adds nothing."""


ABSENT = _Absent()
# One account's day: (figure, carried forward?), None when missing, or ABSENT
DayValue = tuple[int, bool] | _Absent | None


def one_account_per_channel(readings: Iterable[ReadingRow], names: Mapping[str, str]) -> list[Reading]:
    """Every account of a channel as the channel's one account, named `names[channel]` (else as its
    last row): one figure per channel and day, the last one given for that day (`load_readings`
    orders imported figures before collected ones)."""
    figures: dict[tuple[str, dt.date], int] = {}
    last_name: dict[str, str] = {}
    for channel, account, date, followers in readings:
        figures[(channel, date)] = followers
        last_name[channel] = account
    named = {**last_name, **names}
    return [Reading(c, named[c], d, n) for (c, d), n in figures.items()]


def merge_bounds(
    bounds: Mapping[AccountKey, tuple[dt.date, dt.date]], names: Mapping[str, str]
) -> dict[AccountKey, tuple[dt.date, dt.date]]:
    """Per channel's one account: the earliest first figure and the latest activity of its accounts."""
    merged: dict[AccountKey, tuple[dt.date, dt.date]] = {}
    for (channel, account), (first, last) in bounds.items():
        key = (channel, names.get(channel, account))
        old = merged.get(key)
        merged[key] = (min(first, old[0]), max(last, old[1])) if old else (first, last)
    return merged


def merge_since(since: Mapping[AccountKey, dt.date], names: Mapping[str, str]) -> dict[AccountKey, dt.date]:
    """Per channel's one account: the first collected figure of any of its accounts."""
    merged: dict[AccountKey, dt.date] = {}
    for (channel, account), day in since.items():
        key = (channel, names.get(channel, account))
        merged[key] = min(day, merged.get(key, day))
    return merged


def rename_failures(failures: Iterable[Failure], names: Mapping[str, str]) -> list[Failure]:
    """Failed fetches, each under its channel's one account."""
    return [f._replace(account=names.get(f.channel, f.account)) for f in failures]


def account_days(
    figures: Mapping[dt.date, int],
    bounds: tuple[dt.date, dt.date],
    start: dt.date,
    end: dt.date,
    carry_days: int,
) -> list[DayValue]:
    """The state of one account on each day from `start` to `end` (see the module's rules)."""
    first, last_active = bounds
    known = [d for d in figures if d < start]
    last = (max(known), figures[max(known)]) if known else None
    out: list[DayValue] = []
    day = start
    while day <= end:
        if day in figures:
            last = (day, figures[day])
            out.append((last[1], False))
        elif day < first:
            out.append(ABSENT)
        elif last is not None and (day - last[0]).days <= carry_days:
            out.append((last[1], True))
        elif day <= last_active:
            out.append(None)
        else:
            out.append(ABSENT)
        day += ONE_DAY
    return out


def bounds_from(
    figures: Mapping[AccountKey, Mapping[dt.date, int]], failures: Iterable[Failure]
) -> dict[AccountKey, tuple[dt.date, dt.date]]:
    """First figure and last activity (figure or failure) per account, from the given rows only."""
    bounds = {key: (min(days), max(days)) for key, days in figures.items() if days}
    for f in failures:
        key = (f.channel, f.account)
        if key in bounds and f.date > bounds[key][1]:
            bounds[key] = (bounds[key][0], f.date)
    return bounds


def _combine(columns: Sequence[list[DayValue]]) -> list[DayValue]:
    """Add accounts (or channels) day by day: missing if any is missing, absent if all are absent.
    (Plain loops: this runs for every day of ten years and every account.)"""
    out: list[DayValue] = []
    for values in zip(*columns, strict=True):
        total, carried, present = 0, False, False
        for value in values:
            if value is None:
                out.append(None)
                break
            if value is not ABSENT:
                total += value[0]
                carried = carried or value[1]
                present = True
        else:
            out.append((total, carried) if present else ABSENT)
    return out


def _points(column: list[DayValue], dates: list[dt.date]) -> list[Point]:
    return [Point(day, v[0], v[1]) for day, v in zip(dates, column, strict=True) if isinstance(v, tuple)]


def _gaps(
    key: AccountKey,
    values: list[DayValue],
    start: dt.date,
    reasons: Mapping[dt.date, str],
    daily_since: dt.date,
) -> list[Gap]:
    """Runs of missing days. Runs before daily collection began are listed only with a recorded
    failure: between imported monthly figures no daily figure is expected."""
    gaps: list[Gap] = []
    run: list[dt.date] = []
    for i, value in enumerate([*values, ABSENT]):
        if value is None:
            run.append(start + i * ONE_DAY)
        elif run:
            why = tuple(dict.fromkeys(reasons[d] for d in run if d in reasons))
            if why or run[-1] >= daily_since:
                gaps.append(Gap(key[0], key[1], run[0], run[-1], why or ("no data recorded",)))
            run = []
    return gaps


def _channel_order(channel: str) -> tuple[int, str]:
    return (CHANNELS.index(channel) if channel in CHANNELS else len(CHANNELS), channel)


def build_series(
    readings: Iterable[ReadingRow],
    failures: Iterable[Failure],
    start: dt.date,
    end: dt.date,
    *,
    carry_days: int = 7,
    bounds: Mapping[AccountKey, tuple[dt.date, dt.date]] | None = None,
    daily_since: Mapping[AccountKey, dt.date] | None = None,
) -> Series:
    """Total and per-channel daily series from `start` to `end`. `readings` must include the
    `carry_days` days before `start`; `bounds` (first snapshot, last activity over all history)
    default to what the given rows show; `daily_since` (first collected, not imported, figure per
    account) limits which gaps are listed (default: all)."""
    failures = list(failures)
    figures: dict[AccountKey, dict[dt.date, int]] = defaultdict(dict)
    for channel, account, date, followers in readings:  # plain unpacking: fast for database rows too
        figures[(channel, account)][date] = followers
    bounds = bounds if bounds is not None else bounds_from(figures, failures)
    reasons: dict[AccountKey, dict[dt.date, str]] = defaultdict(dict)
    for f in failures:
        reasons[(f.channel, f.account)][f.date] = f"{f.status}: {f.reason}" if f.reason else f.status
    series = Series()
    if end < start:
        return series
    columns: dict[AccountKey, list[DayValue]] = {}
    for key, (first, last_active) in sorted(bounds.items()):
        if first > end or last_active + carry_days * ONE_DAY < start:
            continue
        columns[key] = account_days(figures.get(key, {}), (first, last_active), start, end, carry_days)
        since = (daily_since or {}).get(key, dt.date.min if daily_since is None else dt.date.max)
        series.gaps += _gaps(key, columns[key], start, reasons[key], since)
    dates = [start + i * ONE_DAY for i in range((end - start).days + 1)]
    by_channel: dict[str, list[DayValue]] = {}
    for channel in sorted({key[0] for key in columns}, key=_channel_order):
        by_channel[channel] = _combine([v for k, v in columns.items() if k[0] == channel])
        if points := _points(by_channel[channel], dates):
            series.channels[channel] = points
    if by_channel:
        series.total = _points(_combine(list(by_channel.values())), dates)
    series.gaps.sort(key=lambda g: (g.start, g.channel, g.account))
    return series
