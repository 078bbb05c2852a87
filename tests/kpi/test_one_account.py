"""One account per channel: imported history and live counts are one series (never added up), the
migration merges accounts split by the old import, demo figures are kept apart, and history is
imported from the page's API (editor role, all or nothing, line-numbered errors)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from app.settings import Settings
from kpi import collection_job
from kpi.jst_dates import jst_date
from kpi.report_loader import Options, load_report
from kpi.series import Reading, one_account_per_channel
from kpi.snapshot_store import SnapshotValues, upsert_snapshots
from notifier.channels.channel_base import DEMO_ACCOUNT
from storage import migrate
from storage.base import utcnow
from storage.db import session_scope
from tests.conftest import sign_in_as
from tests.platform_fakes import Fakes, run_async

D = dt.date


@pytest.fixture
def settings(channel_settings: Settings) -> Settings:
    return channel_settings


def csv_file(text: str) -> dict[str, tuple[str, bytes, str]]:
    return {"file": ("history.csv", text.encode(), "text/csv")}


def test_an_imported_figure_and_a_live_count_are_one_account(
    staff_client: TestClient, settings: Settings, sessions: sessionmaker[Session], fakes: Fakes
) -> None:
    """Yesterday's X figure from a CSV without an account column and today's live count: one X
    account in the report, today's total is the live count alone (no carried 24,500 added)."""
    today = jst_date(utcnow())
    yesterday = today - dt.timedelta(days=1)
    r = staff_client.post(
        "/api/v1/kpi/import", files=csv_file(f"date,channel,followers\n{yesterday},x,24500\n")
    )
    assert r.status_code == 200 and r.json() == {"added": 1, "replaced": 0, "unchanged": 0}
    fakes.x.platform.followers = 12_345  # type: ignore[attr-defined]
    run_async(collection_job.run_due(sessions, settings))  # today's live counts (LINE: not ready)

    report = staff_client.get("/api/v1/kpi/report", params={"from": yesterday.isoformat()}).json()
    assert report["channels"]["x"] == [
        {"date": yesterday.isoformat(), "followers": 24_500, "estimated": False},
        {"date": today.isoformat(), "followers": 12_345, "estimated": False},
    ]
    others = sum(points[-1]["followers"] for name, points in report["channels"].items() if name != "x")
    assert report["latest"] == 12_345 + others
    with sessions() as s:
        accounts = s.execute(sa.text("SELECT DISTINCT account FROM kpi_snapshots WHERE channel = 'x'")).all()
    assert [a for (a,) in accounts] == ["1500000000000000001"]  # the configured X account


def test_the_report_never_adds_a_channels_accounts(sessions: sessionmaker[Session]) -> None:
    """Even when history is stored under two names (a configured account that changed), the channel
    is one account: on a day with both, the collected figure counts."""
    with session_scope(sessions) as s:
        upsert_snapshots(
            s,
            [
                SnapshotValues("x", "", D(2026, 3, 1), 24_000, "import"),
                SnapshotValues("x", "", D(2026, 3, 2), 24_500, "import"),
                SnapshotValues("x", "1500", D(2026, 3, 2), 12_345, "collect"),
                SnapshotValues("x", "1500", D(2026, 3, 3), 12_400, "collect"),
            ],
        )
    with sessions() as s:
        report = load_report(s, None, None, today=D(2026, 3, 3), options=Options(), names={"x": "1500"})
    assert [(p.date.day, p.followers) for p in report.series.total] == [(1, 24_000), (2, 12_345), (3, 12_400)]


def test_one_account_per_channel_keeps_the_last_figure_of_a_day() -> None:
    rows = [
        ("x", "", D(2026, 3, 2), 24_500),
        ("x", "1500", D(2026, 3, 2), 12_345),
        ("line", "o", D(2026, 3, 2), 5),
    ]
    assert sorted(one_account_per_channel(rows, {"x": "acct"})) == [
        Reading("line", "o", D(2026, 3, 2), 5),
        Reading("x", "acct", D(2026, 3, 2), 12_345),
    ]


def test_kpi_0002_merges_the_accounts_the_old_import_split(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    migrate.upgrade(url, "kpi_0001")
    engine = sa.create_engine(url)
    rows = [
        ("x", "", "2026-03-01", 24_000, "import"),
        ("x", "", "2026-03-02", 24_500, "import"),
        ("x", "1500", "2026-03-02", 12_345, "collect"),
        ("x", "1500", "2026-03-03", 12_400, "collect"),
        ("line", "", "2026-03-01", 40_000, "import"),  # one account only: untouched
        ("x", DEMO_ACCOUNT, "2026-03-03", 12_345, "collect"),  # demo: untouched
    ]
    with engine.begin() as conn:
        for channel, account, day, followers, source in rows:
            conn.execute(
                sa.text(
                    "INSERT INTO kpi_snapshots (channel, account, date, followers, source, collected_at)"
                    " VALUES (:c, :a, :d, :n, :s, '2026-03-03 00:00:00')"
                ),
                {"c": channel, "a": account, "d": day, "n": followers, "s": source},
            )
        conn.execute(
            sa.text(
                "INSERT INTO kpi_fetches (channel, account, date, status, attempts, updated_at)"
                " VALUES ('x', '', '2026-03-02', 'error', 1, '2026-03-02 00:00:00')"
            )
        )
    migrate.upgrade(url, "heads")
    with engine.connect() as conn:
        after = conn.execute(
            sa.text(
                "SELECT channel, account, date, followers FROM kpi_snapshots ORDER BY channel, account, date"
            )
        ).all()
        fetches = conn.execute(sa.text("SELECT channel, account FROM kpi_fetches")).all()
    engine.dispose()
    assert [tuple(r) for r in after] == [
        ("line", "", "2026-03-01", 40_000),
        ("x", "1500", "2026-03-01", 24_000),
        ("x", "1500", "2026-03-02", 12_345),  # the collected figure stays
        ("x", "1500", "2026-03-03", 12_400),
        ("x", DEMO_ACCOUNT, "2026-03-03", 12_345),
    ]
    assert [tuple(f) for f in fetches] == [("x", "1500")]


def test_demo_figures_are_labelled_and_kept_apart(
    staff_client: TestClient, sessions: sessionmaker[Session]
) -> None:
    today = jst_date(utcnow())
    with session_scope(sessions) as s:
        upsert_snapshots(s, [SnapshotValues("x", DEMO_ACCOUNT, today, 12_345, "collect")])
    real = staff_client.get("/api/v1/kpi/report").json()
    assert real["latest"] is None and real["demo"] is False
    demo = staff_client.get("/api/v1/kpi/report", params={"demo": "true"}).json()
    assert demo["latest"] == 12_345 and demo["demo"] is True
    page = staff_client.get("/kpi")  # only demo figures: the page shows them, labelled
    assert "デモの数値" in page.text and "Demo figures" in page.text and "chart.svg?" in page.text
    assert "demo=true" in page.text

    with session_scope(sessions) as s:
        upsert_snapshots(s, [SnapshotValues("x", "SuitaCity", today, 20_000, "collect")])
    page = staff_client.get("/kpi")  # real figures exist: they are the default, demo one link away
    assert "デモモードの数値を見る" in page.text and "デモの数値</strong>" not in page.text
    assert staff_client.get("/api/v1/kpi/report").json()["latest"] == 20_000  # never 32,345


def test_importing_from_the_page_is_for_editors_all_or_nothing(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    sign_in_as(client, sessions, "viewer")
    assert (
        client.post("/api/v1/kpi/import", files=csv_file("date,channel,followers\n2024-01,x,1\n")).status_code
        == 403
    )
    assert 'id="kpi-import"' not in client.get("/kpi").text
    client.post("/logout")
    sign_in_as(client, sessions, "editor")
    bad = client.post(
        "/api/v1/kpi/import",
        files=csv_file("date,channel,followers\n2024-01,x,1\n2024-02,myspace,5\n2099-01,x,3\n"),
    )
    assert bad.status_code == 422
    errors = bad.json()["detail"]["errors"]
    assert [e.split(":", 1)[0] for e in errors] == ["3 行目", "4 行目"]
    assert "line 3: unknown channel 'myspace'" in errors[0]
    assert client.get("/api/v1/kpi/report").json()["latest"] is None  # nothing stored
    good = client.post(
        "/api/v1/kpi/import", files=csv_file("date,channel,followers\n2024-01,x,100\n2024-02,x,130\n")
    )
    assert good.json() == {"added": 2, "replaced": 0, "unchanged": 0}
    change = csv_file("date,channel,followers\n2024-02,x,140\n")
    refused = client.post("/api/v1/kpi/import", files=change)
    assert refused.status_code == 422 and "is stored as 130" in refused.json()["detail"]["errors"][0]
    replaced = client.post("/api/v1/kpi/import", files=change, data={"replace": "true"})
    assert replaced.json() == {"added": 0, "replaced": 1, "unchanged": 0}
    big = client.post("/api/v1/kpi/import", files=csv_file("date,channel,followers\n" + "x" * 2_100_000))
    assert big.status_code == 413
    page = client.get("/kpi", params={"from": "2024-01-01", "to": "2024-03-31"})
    assert "+40" in page.text  # the monthly change, computed from the two months' figures
