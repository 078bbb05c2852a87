"""Chart of actual followers against the targets (matplotlib, Agg; PNG and SVG).

Labels are Japanese with English when a CJK font is installed (`fonts-noto-cjk`), English only
otherwise, so no glyph is ever missing. Only the object API is used (no pyplot state), so concurrent
requests can draw at once.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from functools import lru_cache
from typing import Any, Literal

from matplotlib import font_manager
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.ticker import FuncFormatter

from kpi.kpi_channels import CHANNEL_LABELS
from kpi.report import Report
from kpi.series import Point

CJK_FONTS = ("Noto Sans CJK JP", "Noto Sans JP", "IPAexGothic", "IPAGothic", "TakaoGothic", "Hiragino Sans")
BREAK_AFTER_DAYS = 45  # a longer stretch without figures is drawn as a break, not a straight line
PROJECTION_YEARS = 3
SPARSE_POINTS = 400  # the projection line is drawn at most this far ahead
Format = Literal["png", "svg"]
EPOCH = dt.date(1970, 1, 1)  # matplotlib's default date epoch

LABELS = {
    "ja": {
        "title": "吹田市公式SNS フォロワー数 / Followers of Suita City's official SNS",
        "total": "合計 / Total",
        "target": "目標 / Target",
        "projection": "見込み / Projection",
        "y": "フォロワー数 / Followers",
    },
    "en": {
        "title": "Followers of Suita City's official SNS",
        "total": "Total",
        "target": "Target",
        "projection": "Projection",
        "y": "Followers",
    },
}


@lru_cache(maxsize=1)
def cjk_font() -> str | None:
    """The name of an installed font with Japanese glyphs, or None."""
    installed = {f.name for f in font_manager.fontManager.ttflist}
    return next((name for name in CJK_FONTS if name in installed), None)


def _x(dates: Sequence[dt.date]) -> list[float]:
    """Dates as matplotlib date numbers (days since 1970-01-01)."""
    return [float((d - EPOCH).days) for d in dates]


def _broken(points: Sequence[Point]) -> tuple[list[float], list[float]]:
    """Measured figures (estimated ones left out) as x and y, with a NaN wherever figures are
    missing for longer than `BREAK_AFTER_DAYS`."""
    xs: list[dt.date] = []
    ys: list[float] = []
    points = [p for p in points if not p.estimated]
    for prev, p in zip([None, *points], points, strict=False):
        if prev is not None and (p.date - prev.date).days > BREAK_AFTER_DAYS:
            xs.append(prev.date + dt.timedelta(days=1))
            ys.append(float("nan"))
        xs.append(p.date)
        ys.append(float(p.followers))
    return _x(xs), ys


def _markers(xs: Sequence[float], size: float) -> dict[str, Any]:
    """Dots on sparse series (monthly history), so figures without neighbours still show."""
    return {"marker": "o", "markersize": size} if len(xs) <= SPARSE_POINTS else {}


def _projection(ax: Axes, report: Report, label: str) -> None:
    p, latest = report.projection, report.latest
    if latest is None or p.target is None or p.reached or not p.pace_per_day or p.pace_per_day <= 0:
        return
    horizon = latest.date + dt.timedelta(days=365 * PROJECTION_YEARS)
    end = min(p.reached_on or horizon, horizon)
    value = latest.followers + p.pace_per_day * (end - latest.date).days
    ax.plot(
        _x([latest.date, end]),
        [latest.followers, value],
        linestyle=":",
        color="#555555",
        linewidth=2,
        label=label,
    )


def render_chart(report: Report, fmt: Format = "png", *, channels: bool = True) -> bytes:
    """The chart as PNG or SVG bytes."""
    font = cjk_font()
    text = LABELS["ja" if font else "en"]
    family = [font, "DejaVu Sans"] if font else ["DejaVu Sans"]
    fig = Figure(figsize=(10, 5.6), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    if report.series.total:
        xs, ys = _broken(report.series.total)
        ax.plot(xs, ys, color="#00693e", linewidth=2.5, label=text["total"], **_markers(xs, 5))
    if channels:
        for name, points in report.series.channels.items():
            xs, ys = _broken(points)
            label = CHANNEL_LABELS.get(name, name)
            ax.plot(xs, ys, linewidth=1, alpha=0.8, label=label, **_markers(xs, 3))
    if report.targets:
        tx = _x([t.date for t in report.targets])
        ty = [t.followers for t in report.targets]
        ax.plot(tx, ty, linestyle="--", marker="o", color="#b00020", linewidth=1.5, label=text["target"])
    _projection(ax, report, text["projection"])
    locator = AutoDateLocator()  # type: ignore[no-untyped-call]
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))  # type: ignore[no-untyped-call]
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:,.0f}"))
    ax.set_ylim(bottom=0)
    ax.grid(True, alpha=0.3)
    ax.set_title(text["title"], fontfamily=family)
    ax.set_ylabel(text["y"], fontfamily=family)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="upper left", prop=FontProperties(family=family))
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt)
    return buf.getvalue()
