"""KPI report benchmark: ten years of daily snapshots for six accounts.

    .venv/bin/python bench/kpi_report.py [--database-url URL] [--runs 15]

Times (median of `--runs`, after one warm-up) the JSON report (database read, series, report, JSON
encoding), the same report over HTTP through the app (`GET /api/v1/kpi/report`, signed in), and the
PNG chart; and, as baselines measured in the same run, a plain SELECT of every snapshot row and an
empty matplotlib figure saved as PNG. Budgets: JSON report ≤ 200 ms, PNG ≤ 1 s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import re
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select

from app.auth import create_staff_user
from app.main import create_app
from app.settings import load_settings
from kpi.chart import render_chart
from kpi.jst_dates import jst_date
from kpi.kpi_tables import FollowerSnapshot
from kpi.report_export import report_json
from kpi.report_loader import Options, load_report
from kpi.snapshot_store import SnapshotValues, upsert_snapshots
from storage import migrate
from storage.base import utcnow
from storage.db import make_engine, make_sessionmaker, session_scope

ACCOUNTS = [("line", "@suita"), ("x", "SuitaCity"), ("x", "SuitaBousai"), ("facebook", "1234"),
            ("mastodon", "suita@mastodon.example"), ("bluesky", "suita.bsky.social")]  # fmt: skip
YEARS = 10
PASSWORD = "correct horse battery"


def seed(url: str) -> int:
    """Ten years of daily figures up to today for every account; returns the row count."""
    today = jst_date(utcnow())
    first = today - dt.timedelta(days=365 * YEARS)
    rows = [
        SnapshotValues(ch, acc, first + dt.timedelta(days=i), 1_000 * (k + 1) + 3 * i + (i % 7), "collect")
        for k, (ch, acc) in enumerate(ACCOUNTS)
        for i in range((today - first).days + 1)
    ]
    engine = make_engine(url)
    with session_scope(make_sessionmaker(engine)) as session:
        for n in range(0, len(rows), 5_000):
            upsert_snapshots(session, rows[n : n + 5_000])
        create_staff_user(session, username="bench", password=PASSWORD, role="viewer")
    engine.dispose()
    return len(rows)


def median_ms(fn: Callable[[], object], runs: int) -> tuple[float, float]:
    """Median wall-clock and CPU milliseconds of `fn` (CPU time of this process: on a shared
    machine it moves far less with other jobs' load than wall time does)."""
    fn()
    wall, cpu = [], []
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        wall.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    return statistics.median(wall), statistics.median(cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="an empty database (default: a temporary SQLite file)")
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    tmp = tempfile.TemporaryDirectory()
    url = args.database_url or f"sqlite:///{Path(tmp.name) / 'bench.db'}"
    migrate.upgrade(url)
    count = seed(url)
    settings = load_settings(database_url=url, app_env="test", run_worker_in_app=False)
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    today, options = jst_date(utcnow()), Options.from_settings(settings)

    def select_rows() -> object:
        with sessions() as s:
            return s.execute(
                select(
                    FollowerSnapshot.channel,
                    FollowerSnapshot.account,
                    FollowerSnapshot.date,
                    FollowerSnapshot.followers,
                )
            ).all()

    def json_report() -> object:
        with sessions() as s:
            return json.dumps(report_json(load_report(s, None, None, today=today, options=options)))

    def png() -> object:
        with sessions() as s:
            return render_chart(load_report(s, None, None, today=today, options=options), "png")

    from matplotlib.figure import Figure

    def empty_png() -> object:
        import io

        buf = io.BytesIO()
        Figure(figsize=(10, 5.6), dpi=100).savefig(buf, format="png")
        return buf

    results = {
        "baseline: SELECT all rows": median_ms(select_rows, args.runs),
        "JSON report": median_ms(json_report, args.runs),
    }
    with TestClient(create_app(settings)) as client:
        token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
        assert token is not None, "the sign-in form has no CSRF token"
        form = {"username": "bench", "password": PASSWORD, "csrf_token": token.group(1)}
        assert client.post("/login", data=form, follow_redirects=False).status_code == 303
        assert client.get("/api/v1/kpi/report").status_code == 200
        results["JSON report over HTTP"] = median_ms(
            lambda: client.get("/api/v1/kpi/report").content, args.runs
        )
    results["baseline: empty PNG figure"] = median_ms(empty_png, args.runs)
    results["PNG chart"] = median_ms(png, args.runs)
    engine.dispose()
    print(f"{count} snapshots ({len(ACCOUNTS)} accounts × {YEARS} years), {engine.dialect.name}, "
          f"Python {platform.python_version()}, {platform.machine()}, median of {args.runs}")  # fmt: skip
    print(f"  {'':32s} {'wall':>8s}    {'CPU':>8s}")
    for name, (wall, cpu) in results.items():
        print(f"  {name:32s} {wall:8.1f} ms {cpu:8.1f} ms")
    ratios = {
        "JSON report / SELECT baseline": ("JSON report", "baseline: SELECT all rows"),
        "PNG chart / empty PNG baseline": ("PNG chart", "baseline: empty PNG figure"),
    }
    for name, (num, den) in ratios.items():
        wall, cpu = (results[num][i] / results[den][i] for i in (0, 1))
        print(f"  {name:32s} {wall:8.1f} x  {cpu:8.1f} x")
    tmp.cleanup()


if __name__ == "__main__":
    main()
