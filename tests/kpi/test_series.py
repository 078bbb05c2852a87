"""The daily series rules: carried days, missing days, accounts added later or removed, decreases."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection

import pytest

from kpi.series import Failure, Reading, build_series


def d(day: int) -> dt.date:
    return dt.date(2024, 1, 1) + dt.timedelta(days=day - 1)


def run(account: str, days: range, start: int, step: int = 10, channel: str = "x") -> list[Reading]:
    return [Reading(channel, account, d(n), start + step * (n - days.start)) for n in days]


def fail(account: str, days: range, reason: str = "HTTP 500", channel: str = "x") -> list[Failure]:
    return [Failure(channel, account, d(n), "error", reason) for n in days]


A = run("a", range(1, 11), 100)  # 100, 110, ..., 190
A_TOTALS = {n: 100 + 10 * (n - 1) for n in range(1, 11)}


def totals(
    b: dict[int, int], estimated: Collection[int] = (), days: range = range(1, 11)
) -> list[tuple[dt.date, int, bool]]:
    return [(d(n), A_TOTALS[n] + b.get(n, 0), n in estimated) for n in days]


CASES = {
    "complete": (
        A + run("b", range(1, 11), 1000, 0),
        [],
        totals(dict.fromkeys(range(1, 11), 1000)),
        [],
    ),
    "one day missing is carried and flagged": (
        A + run("b", range(1, 3), 1000, 5) + run("b", range(4, 11), 1015, 5),
        [],
        totals({1: 1000, 2: 1005, 3: 1005, **{n: 1015 + 5 * (n - 4) for n in range(4, 11)}}, {3}),
        [],
    ),
    "missing beyond the carry limit is a gap, not zero": (
        A + run("b", range(1, 3), 1000, 0) + run("b", range(7, 11), 1000, 0),
        [],
        [t for t in totals(dict.fromkeys(range(1, 11), 1000), {3, 4}) if t[0] not in (d(5), d(6))],
        [("b", 5, 6, ("no data recorded",))],
    ),
    "recorded failures give the gap its reason": (
        A + run("b", range(1, 3), 1000, 0) + run("b", range(7, 11), 1000, 0),
        fail("b", range(3, 7), "TimeoutError"),
        [t for t in totals(dict.fromkeys(range(1, 11), 1000), {3, 4}) if t[0] not in (d(5), d(6))],
        [("b", 5, 6, ("error: TimeoutError",))],
    ),
    "account added later adds nothing before its first figure": (
        A + run("b", range(5, 11), 1000, 0),
        [],
        totals(dict.fromkeys(range(5, 11), 1000)),
        [],
    ),
    "account removed: carried, then no longer counted": (
        A + run("b", range(1, 5), 1000, 0),
        [],
        totals(dict.fromkeys(range(1, 7), 1000), {5, 6}),
        [],
    ),
    "account still failing at the end: missing, not removed": (
        A + run("b", range(1, 5), 1000, 0),
        fail("b", range(5, 11), "401 Unauthorized"),
        totals(dict.fromkeys(range(1, 7), 1000), {5, 6}, range(1, 7)),
        [("b", 7, 10, ("error: 401 Unauthorized",))],
    ),
    "followers going down are reported as they are": (
        A + run("b", range(1, 11), 1000, -50),
        [],
        totals({n: 1000 - 50 * (n - 1) for n in range(1, 11)}),
        [],
    ),
}


@pytest.mark.parametrize(("readings", "failures", "expected", "gaps"), CASES.values(), ids=CASES.keys())
def test_total_series(
    readings: list[Reading], failures: list[Failure], expected: list[tuple], gaps: list[tuple]
) -> None:
    series = build_series(readings, failures, d(1), d(10), carry_days=2)
    assert [(p.date, p.followers, p.estimated) for p in series.total] == expected
    assert [(g.account, g.start, g.end, g.reasons) for g in series.gaps] == [
        (acc, d(s), d(e), why) for acc, s, e, why in gaps
    ]


def test_channels_sum_their_accounts_and_stay_separate() -> None:
    readings = (
        run("a", range(1, 4), 100, 0) + run("b", range(1, 4), 200, 0) + run("l", range(1, 4), 5, 0, "line")
    )
    series = build_series(readings, [], d(1), d(3), carry_days=2)
    assert [p.followers for p in series.channels["x"]] == [300, 300, 300]
    assert [p.followers for p in series.channels["line"]] == [5, 5, 5]
    assert [p.followers for p in series.total] == [305, 305, 305]


def test_a_gap_in_one_channel_leaves_the_other_channels_known() -> None:
    readings = run("a", range(1, 11), 100, 0) + [Reading("line", "l", d(n), 5) for n in (1, 2, 10)]
    series = build_series(readings, [], d(1), d(10), carry_days=2)
    assert len(series.channels["x"]) == 10
    assert [p.date for p in series.channels["line"]] == [d(1), d(2), d(3), d(4), d(10)]
    assert [p.date for p in series.total] == [d(1), d(2), d(3), d(4), d(10)]


def test_carry_reaches_back_before_the_range_start() -> None:
    series = build_series(run("a", range(1, 2), 100), [], d(2), d(5), carry_days=2)
    assert [(p.date, p.estimated) for p in series.total] == [(d(2), True), (d(3), True)]


def test_bounds_from_all_history_mark_days_missing_not_absent() -> None:
    """Readings loaded for a window only: the account's first figure is older than the window."""
    series = build_series(
        run("a", range(5, 7), 100),
        [],
        d(1),
        d(6),
        carry_days=2,
        bounds={("x", "a"): (dt.date(2023, 1, 1), d(6))},
    )
    assert [p.date for p in series.total] == [d(5), d(6)]
    assert [(g.start, g.end) for g in series.gaps] == [(d(1), d(4))]


def test_gaps_between_imported_monthly_figures_are_not_listed() -> None:
    monthly = [Reading("x", "a", dt.date(2024, 1, 31), 100), Reading("x", "a", dt.date(2024, 2, 29), 120)]
    daily = [Reading("x", "a", dt.date(2024, 3, n), 130) for n in (1, 2, 5)]
    series = build_series(
        monthly + daily,
        [],
        dt.date(2024, 1, 31),
        dt.date(2024, 3, 5),
        carry_days=0,
        daily_since={("x", "a"): dt.date(2024, 3, 1)},
    )
    assert [(g.start, g.end) for g in series.gaps] == [(dt.date(2024, 3, 3), dt.date(2024, 3, 4))]
    assert [p.date for p in series.total][:2] == [dt.date(2024, 1, 31), dt.date(2024, 2, 29)]


def test_empty_and_inverted_ranges() -> None:
    assert build_series([], [], d(1), d(5)).total == []
    assert build_series(A, [], d(5), d(1)).total == []
