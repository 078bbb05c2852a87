"""The report as JSON (the API and `kpi report --json`) and CSV (`--csv`, the CSV export)."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

from kpi.report import Month, Report
from kpi.series import Point
from kpi.targets import Target

KPI_DEFINITION = (
    "Followers counted toward the KPI: LINE effective friends (insight followers − blocks), "
    "X followers_count, Facebook followers_count, Mastodon followers_count, Bluesky followersCount."
)


def _points(points: Sequence[Point]) -> list[dict[str, Any]]:
    return [{"date": p.date.isoformat(), "followers": p.followers, "estimated": p.estimated} for p in points]


def _targets(targets: Sequence[Target]) -> list[dict[str, Any]]:
    return [{"date": t.date.isoformat(), "followers": t.followers, "label": t.label} for t in targets]


def _months(months: Sequence[Month]) -> list[dict[str, Any]]:
    return [
        {
            "month": m.month,
            "date": m.date.isoformat(),
            "followers": m.followers,
            "change": m.change,
            "since": m.since,
            "estimated": m.estimated,
        }
        for m in months
    ]


def _projection(report: Report) -> dict[str, Any]:
    p = report.projection
    return {
        "target": p.target.followers if p.target else None,
        "target_date": p.target.date.isoformat() if p.target else None,
        "reached": p.reached,
        "reached_on": p.reached_on.isoformat() if p.reached_on else None,
        "on_track": p.on_track,
        "pace_per_day": round(p.pace_per_day, 2) if p.pace_per_day is not None else None,
        "basis": {"from": p.basis[0].isoformat(), "to": p.basis[1].isoformat()} if p.basis else None,
        "window_days": report.window_days,
    }


def _next_target(report: Report) -> dict[str, Any] | None:
    target, latest = report.projection.target, report.latest
    if target is None or latest is None or report.projection.reached:
        return None
    return {
        "date": target.date.isoformat(),
        "followers": target.followers,
        "label": target.label,
        "gap": target.followers - latest.followers,
        "days_left": (target.date - latest.date).days,
    }


def report_json(report: Report) -> dict[str, Any]:
    """The report as a JSON-ready dict (shape documented in the README's KPI section)."""
    latest = report.latest
    return {
        "from": report.start.isoformat(),
        "to": report.end.isoformat(),
        "as_of": latest.date.isoformat() if latest else None,
        "latest": latest.followers if latest else None,
        "definition": KPI_DEFINITION,
        "total": _points(report.series.total),
        "channels": {name: _points(points) for name, points in report.series.channels.items()},
        "targets": _targets(report.targets),
        "channel_targets": {name: _targets(ts) for name, ts in report.channel_targets.items()},
        "next_target": _next_target(report),
        "projection": _projection(report),
        "monthly": _months(report.monthly),
        "channel_monthly": {name: _months(ms) for name, ms in report.channel_monthly.items()},
        "gaps": [
            {
                "channel": g.channel,
                "account": g.account,
                "from": g.start.isoformat(),
                "to": g.end.isoformat(),
                "reasons": list(g.reasons),
            }
            for g in report.series.gaps
        ],
    }


def report_csv(report: Report) -> str:
    """One row per date with a figure or a target: date, total, estimated (0/1), one column per
    channel, target. Empty cells are unknown (missing days are never written as zero)."""
    channels = list(report.series.channels)
    rows: dict[str, dict[str, Any]] = {}
    for p in report.series.total:
        rows.setdefault(p.date.isoformat(), {}).update(total=p.followers, estimated=int(p.estimated))
    for name, points in report.series.channels.items():
        for p in points:
            rows.setdefault(p.date.isoformat(), {})[name] = p.followers
    for t in report.targets:
        if report.start <= t.date <= report.end:
            rows.setdefault(t.date.isoformat(), {})["target"] = t.followers
    out = io.StringIO()
    writer = csv.DictWriter(
        out, fieldnames=["date", "total", "estimated", *channels, "target"], lineterminator="\r\n"
    )
    writer.writeheader()
    for day in sorted(rows):
        writer.writerow({"date": day, **rows[day]})
    return out.getvalue()
