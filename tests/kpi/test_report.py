"""Report math: growth per month, the next target, the pace and the projection, JSON and CSV."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest

from kpi.report import MIN_BASIS_DAYS, build_report, monthly_growth, next_target, pace, project
from kpi.report_export import report_csv, report_json
from kpi.series import Point, Reading, build_series
from kpi.targets import PLAN_TARGETS, Target

D = dt.date


def line(start: D, days: int, first: int, per_day: float, estimated_last: bool = False) -> list[Point]:
    points = [Point(start + dt.timedelta(days=i), round(first + per_day * i)) for i in range(days)]
    if estimated_last:
        points[-1] = Point(points[-1].date, points[-1].followers, True)
    return points


@pytest.mark.parametrize(
    ("points", "expected"),
    [
        ([], []),
        (
            [Point(D(2024, 1, 10), 100), Point(D(2024, 1, 31), 130), Point(D(2024, 2, 29), 125)],
            [("2024-01", 130, None, None, False), ("2024-02", 125, -5, "2024-01", False)],
        ),
        (  # a month without figures: the change is computed from the month before it, and says so
            [Point(D(2024, 1, 31), 100), Point(D(2024, 3, 31), 160)],
            [("2024-01", 100, None, None, False), ("2024-03", 160, 60, "2024-01", False)],
        ),
        (  # a measured figure is the month's figure even when carried ones come later
            [Point(D(2024, 1, 31), 100), Point(D(2024, 2, 20), 110), Point(D(2024, 2, 21), 110, True)],
            [("2024-01", 100, None, None, False), ("2024-02", 110, 10, "2024-01", False)],
        ),
        (  # a month with only carried figures still has one, flagged estimated
            [Point(D(2024, 1, 31), 100), Point(D(2024, 2, 1), 100, True)],
            [("2024-01", 100, None, None, False), ("2024-02", 100, 0, "2024-01", True)],
        ),
        (  # across the year end
            [Point(D(2023, 12, 31), 90), Point(D(2024, 1, 31), 100)],
            [("2023-12", 90, None, None, False), ("2024-01", 100, 10, "2023-12", False)],
        ),
    ],
    ids=["empty", "decrease", "month-gap", "measured-first", "estimated-month", "year-end"],
)
def test_monthly_growth(
    points: list[Point], expected: list[tuple[str, int, int | None, str | None, bool]]
) -> None:
    found = [(m.month, m.followers, m.change, m.since, m.estimated) for m in monthly_growth(points)]
    assert found == expected


T = [Target("total", D(2023, 3, 31), 83_200), Target("total", D(2024, 3, 31), 90_400)]


@pytest.mark.parametrize(
    ("latest", "expected"),
    [
        (None, None),
        (Point(D(2022, 12, 1), 80_000), T[0]),
        (Point(D(2023, 3, 31), 80_000), T[0]),  # due today: still the one to report
        (Point(D(2023, 4, 1), 85_000), T[1]),
        (Point(D(2025, 1, 1), 88_000), T[1]),  # every date passed, not reached: overdue
        (Point(D(2025, 1, 1), 91_000), None),  # every target reached
    ],
)
def test_next_target(latest: Point | None, expected: Target | None) -> None:
    assert next_target(T, latest) == expected


@pytest.mark.parametrize(
    ("points", "expected_pace"),
    [
        (line(D(2024, 1, 1), 100, 1000, 10), 10.0),
        (line(D(2024, 1, 1), 100, 1000, -3), -3.0),
        (line(D(2024, 1, 1), MIN_BASIS_DAYS, 1000, 10), None),  # too short a basis
        (line(D(2024, 1, 1), 1, 1000, 10), None),
        ([Point(D(2023, 3, 31), 1000), Point(D(2024, 3, 31), 1366)], 1.0),  # sparse: last two figures
        (line(D(2024, 1, 1), 30, 1000, 10, estimated_last=True), 10.0),
    ],
)
def test_pace(points: list[Point], expected_pace: float | None) -> None:
    measured = pace(points, 90)
    assert (None if measured is None else round(measured[0], 6)) == expected_pace


def test_pace_uses_only_the_recent_window() -> None:
    points = line(D(2023, 1, 1), 300, 1000, 1) + line(D(2023, 10, 28), 90, 1300, 20)
    rate, (since, until) = pace(points, 60)  # type: ignore[misc]
    assert rate == pytest.approx(20) and (until - since).days == 60


@pytest.mark.parametrize(
    ("points", "target", "reached", "reached_on", "on_track"),
    [
        (
            line(D(2024, 1, 1), 31, 1000, 10),
            Target("total", D(2024, 3, 1), 1500),
            False,
            D(2024, 2, 20),
            True,
        ),
        (
            line(D(2024, 1, 1), 31, 1000, 10),
            Target("total", D(2024, 2, 1), 1500),
            False,
            D(2024, 2, 20),
            False,
        ),
        (line(D(2024, 1, 1), 31, 1000, 0), Target("total", D(2024, 3, 1), 1500), False, None, False),
        (line(D(2024, 1, 1), 31, 1000, -5), Target("total", D(2024, 3, 1), 1500), False, None, False),
        (
            line(D(2024, 1, 1), 31, 1000, 10),
            Target("total", D(2024, 1, 20), 1100),
            True,
            D(2024, 1, 11),
            True,
        ),
        (line(D(2024, 1, 1), 31, 1000, 0.001), Target("total", D(2024, 3, 1), 9_000_000), False, None, False),
        (line(D(2024, 1, 1), 3, 1000, 10), Target("total", D(2024, 3, 1), 1500), False, None, False),
    ],
    ids=["on-track", "behind", "flat", "declining", "already-reached", "over-a-century", "basis-too-short"],
)
def test_projection(
    points: list[Point], target: Target, reached: bool, reached_on: D | None, on_track: bool
) -> None:
    p = project(points, target, 90)
    assert (p.reached, p.reached_on, p.on_track) == (reached, reached_on, on_track)


def _sample_report() -> dict[str, object]:
    readings = [
        Reading(ch, acc, D(2024, 1, 1) + dt.timedelta(days=i), base + step * i)
        for ch, acc, base, step in (("line", "@suita", 40_000, 20), ("x", "suita_city", 20_000, 5))
        for i in range(60)
    ]
    start, end = D(2024, 1, 1), D(2024, 3, 1)
    series = build_series(readings, [], start, end, carry_days=7)
    targets = [*PLAN_TARGETS, Target("line", D(2024, 3, 31), 42_000)]
    return report_json(build_report(series, targets, start, end, window_days=30))


def test_json_shape_and_values() -> None:
    data = json.loads(json.dumps(_sample_report()))
    assert {"total", "channels", "targets", "projection"} <= set(data)
    assert data["total"][0] == {"date": "2024-01-01", "followers": 60_000, "estimated": False}
    assert data["total"][-1] == {"date": "2024-03-01", "followers": 60_000 + 25 * 59, "estimated": True}
    assert set(data["channels"]) == {"line", "x"}
    assert data["channels"]["x"][1] == {"date": "2024-01-02", "followers": 20_005, "estimated": False}
    assert [t["followers"] for t in data["targets"]] == [53_051, 83_200, 90_400]
    assert data["channel_targets"]["line"][0]["followers"] == 42_000
    proj = data["projection"]
    assert proj["target"] == 90_400 and proj["target_date"] == "2024-03-31"
    assert proj["pace_per_day"] == 25.0 and proj["reached"] is False
    gap = 90_400 - (60_000 + 25 * 59)
    assert proj["reached_on"] == (D(2024, 3, 1) + dt.timedelta(days=-(-gap // 25))).isoformat()
    assert data["next_target"]["gap"] == gap and data["next_target"]["days_left"] == 30
    assert data["monthly"][1] == {
        "month": "2024-02",
        "date": "2024-02-29",
        "followers": 60_000 + 25 * 59,
        "change": 25 * 29,
        "since": "2024-01",
        "estimated": False,
    }


def test_csv_has_one_row_per_date_and_leaves_unknowns_empty() -> None:
    readings = [Reading("x", "a", D(2024, 1, n), 100 + n) for n in (1, 2, 5)]
    series = build_series(readings, [], D(2024, 1, 1), D(2024, 1, 5), carry_days=0)
    targets = [Target("total", D(2024, 1, 3), 150)]
    rows = list(
        csv.DictReader(io.StringIO(report_csv(build_report(series, targets, D(2024, 1, 1), D(2024, 1, 5)))))
    )
    assert [r["date"] for r in rows] == ["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-05"]
    assert rows[2] == {"date": "2024-01-03", "total": "", "estimated": "", "x": "", "target": "150"}
    assert rows[3]["total"] == "105" and rows[3]["x"] == "105"
