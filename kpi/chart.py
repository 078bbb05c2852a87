"""Chart of actual followers against the targets (matplotlib, Agg; PNG and SVG).

Labels are Japanese with English whenever a font with Japanese glyphs is installed (Noto CJK, Droid
Sans Fallback, IPA, …: any font that has them), English only otherwise, so no glyph is ever missing.
Each series is one line through its days (a break only after `BREAK_AFTER_DAYS` without figures);
estimated (carried) days are marked with hollow dots. Only the object API is used (no pyplot state),
so concurrent requests can draw at once.
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
from matplotlib.ft2font import FT2Font
from matplotlib.ticker import FuncFormatter

from kpi.kpi_channels import CHANNEL_LABELS
from kpi.report import Report
from kpi.series import Point

# Preferred, in order; failing these, any installed font with Japanese glyphs is used
CJK_FONTS = (
    "Noto Sans CJK JP",
    "Noto Sans JP",
    "Source Han Sans JP",
    "IPAexGothic",
    "IPAGothic",
    "IPAPGothic",
    "TakaoGothic",
    "VL Gothic",
    "Hiragino Sans",
    "Droid Sans Japanese",
    "Droid Sans Fallback",
    "Noto Sans CJK SC",
)
GLYPHS = "吹田市フォロワー数推計目標"  # what the Japanese labels need
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
        "estimated": "推計 / Estimated",
        "y": "フォロワー数 / Followers",
    },
    "en": {
        "title": "Followers of Suita City's official SNS",
        "total": "Total",
        "target": "Target",
        "projection": "Projection",
        "estimated": "Estimated",
        "y": "Followers",
    },
}


@lru_cache(maxsize=1)
def cjk_font() -> str | None:
    """The name of an installed font with Japanese glyphs (a preferred one first), or None."""
    fonts = [(f.name, f.fname) for f in font_manager.fontManager.ttflist]
    names = {name for name, _path in fonts}
    preferred = next((name for name in CJK_FONTS if name in names), None)
    if preferred is not None:
        return preferred
    return next((name for name, path in fonts if has_japanese(path)), None)


def has_japanese(path: str) -> bool:
    """Whether the font file has every glyph the Japanese labels need."""
    try:
        font = FT2Font(path)
    except (OSError, RuntimeError, ValueError):
        return False
    return all(font.get_char_index(ord(char)) for char in GLYPHS)


def _x(dates: Sequence[dt.date]) -> list[float]:
    """Dates as matplotlib date numbers (days since 1970-01-01)."""
    return [float((d - EPOCH).days) for d in dates]


def _joined(points: Sequence[Point]) -> tuple[list[float], list[float]]:
    """Every figure (measured and estimated) as x and y, joined by one line, with a NaN (a break)
    only where figures are missing for longer than `BREAK_AFTER_DAYS`."""
    xs: list[dt.date] = []
    ys: list[float] = []
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
    series: list[tuple[str, Sequence[Point], dict[str, Any], int]] = [
        (text["total"], report.series.total, {"color": "#00693e", "linewidth": 2.5}, 5)
    ]
    if channels:
        series += [
            (CHANNEL_LABELS.get(n, n), p, {"linewidth": 1, "alpha": 0.8}, 3)
            for n, p in report.series.channels.items()
        ]
    estimated_label = text["estimated"]
    for label, points, style, size in series:
        if not points:
            continue
        xs, ys = _joined(points)
        (line,) = ax.plot(xs, ys, label=label, **style, **_markers(xs, size))
        carried = [p for p in points if p.estimated]
        if carried:  # hollow dots on the estimated days, one legend entry for all series
            ax.plot(
                _x([p.date for p in carried]),
                [p.followers for p in carried],
                linestyle="none",
                marker="o",
                markersize=size + 1,
                markerfacecolor="white",
                markeredgecolor=line.get_color(),
                label=estimated_label,
            )
            estimated_label = "_nolegend_"
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
