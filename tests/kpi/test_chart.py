"""The chart: PNG and SVG, Japanese labels with a CJK font and English without, never a glyph warning
(pytest turns warnings into errors)."""

from __future__ import annotations

import datetime as dt

import pytest
from matplotlib import font_manager

from kpi import chart
from kpi.report import Report, build_report
from kpi.series import Reading, build_series
from kpi.targets import PLAN_TARGETS
from tests.conftest import system_part_missing


def sample(days: int = 400, step: int = 1) -> Report:
    start = dt.date(2022, 1, 1)
    readings = [
        Reading(ch, "a", start + dt.timedelta(days=i), base + 15 * i)
        for ch, base in (("line", 40_000), ("x", 20_000))
        for i in range(0, days, step)
    ]
    end = start + dt.timedelta(days=days - 1)
    return build_report(build_series(readings, [], start, end, carry_days=7), PLAN_TARGETS, start, end)


@pytest.mark.parametrize("fmt", ["png", "svg"])
@pytest.mark.parametrize("font", ["cjk", "none"])
def test_chart_renders_without_warnings(
    monkeypatch: pytest.MonkeyPatch, fmt: chart.Format, font: str
) -> None:
    if font == "none":
        monkeypatch.setattr(chart, "cjk_font", lambda: None)
    elif chart.cjk_font() is None:
        system_part_missing("no CJK font installed (apt install fonts-noto-cjk)")
    data = chart.render_chart(sample(), fmt)
    assert data.startswith(b"\x89PNG" if fmt == "png" else b"<?xml")
    if fmt == "svg":
        text = data.decode()
        assert "Followers of Suita City" in text
        assert ("吹田市公式SNS" in text) == (font == "cjk")


def test_sparse_history_is_drawn_with_markers_and_a_projection() -> None:
    report = sample(days=700, step=30)
    assert report.projection.reached is False and report.projection.reached_on is not None
    svg = chart.render_chart(report, "svg").decode()
    assert "Projection" in svg and svg.count('id="m') >= 1  # marker definitions


def test_empty_report_still_draws_the_targets() -> None:
    start = dt.date(2024, 1, 1)
    report = build_report(build_series([], [], start, start), PLAN_TARGETS, start, start)
    assert chart.render_chart(report, "png").startswith(b"\x89PNG")


def test_any_font_with_japanese_glyphs_is_found(monkeypatch: pytest.MonkeyPatch) -> None:
    """Not only the preferred names: a font with the glyphs under any name (Droid Sans Fallback, an
    IPA font, …) gives Japanese labels; one without them never does."""
    japanese = next((f for f in font_manager.fontManager.ttflist if chart.has_japanese(f.fname)), None)
    if japanese is None:
        pytest.skip("no CJK font installed (apt install fonts-noto-cjk)")
    latin = next(f for f in font_manager.fontManager.ttflist if f.name == "DejaVu Sans")
    assert not chart.has_japanese(latin.fname) and not chart.has_japanese("/no/such/font.ttf")
    renamed = font_manager.FontEntry(fname=japanese.fname, name="Some Japanese Font")
    monkeypatch.setattr(font_manager.fontManager, "ttflist", [latin, renamed])
    chart.cjk_font.cache_clear()
    try:
        assert chart.cjk_font() == "Some Japanese Font"
        monkeypatch.setattr(font_manager.fontManager, "ttflist", [latin])
        chart.cjk_font.cache_clear()
        assert chart.cjk_font() is None
    finally:
        monkeypatch.undo()
        chart.cjk_font.cache_clear()


def test_series_are_joined_and_estimated_days_marked() -> None:
    """Monthly history with a live count: one line per series through its figures, hollow dots on
    the carried days, an 'Estimated' legend entry."""
    start = dt.date(2024, 1, 31)
    readings = [
        Reading("x", "a", dt.date(2024, 1, 31), 24_000),
        Reading("x", "a", dt.date(2024, 2, 29), 24_500),
        Reading("x", "a", dt.date(2024, 3, 10), 24_700),
    ]
    end = dt.date(2024, 3, 12)
    report = build_report(build_series(readings, [], start, end, carry_days=7), PLAN_TARGETS, start, end)
    xs, ys = chart._joined(report.series.total)
    assert all(y == y for y in ys)  # no NaN: gaps under 45 days are joined
    assert len(xs) == len(report.series.total) > 3
    svg = chart.render_chart(report, "svg").decode()
    assert "Estimated" in svg
