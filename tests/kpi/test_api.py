"""The KPI API and page over HTTP (staff only)."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from fastapi.testclient import TestClient

from tests.kpi.conftest import Seeded


@pytest.mark.parametrize(
    "path", ["/api/v1/kpi/report", "/api/v1/kpi/report.csv", "/api/v1/kpi/chart.png", "/api/v1/kpi/chart.svg"]
)
def test_api_needs_staff_sign_in(client: TestClient, path: str) -> None:
    r = client.get(path)
    assert r.status_code == 401 and "sign-in required" in r.json()["detail"]


def test_page_sends_visitors_to_sign_in(client: TestClient) -> None:
    r = client.get("/kpi?from=2024-01-01", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login?next=%2Fkpi%3Ffrom%3D2024-01-01"


def test_json_report(staff_client: TestClient, seeded: Seeded) -> None:
    data = staff_client.get("/api/v1/kpi/report").json()
    assert data["from"] == seeded.first.isoformat() and data["to"] == seeded.today.isoformat()
    last = data["total"][-1]
    assert last == {
        "date": seeded.today.isoformat(),
        "followers": 40_000 + 20 * 59 + 20_000 + 5 * 60,
        "estimated": True,
    }
    assert data["channels"]["line"][0] == {
        "date": seeded.first.isoformat(),
        "followers": 40_000,
        "estimated": False,
    }
    gap_days = {p["date"] for p in data["total"]} & {
        (seeded.gap[0] + dt.timedelta(days=i)).isoformat() for i in range(10)
    }
    assert len(gap_days) == 7  # carried for the default 7 days, then missing (not zero)
    assert data["gaps"] == [
        {
            "channel": "x",
            "account": "SuitaCity",
            "from": (seeded.gap[0] + dt.timedelta(days=7)).isoformat(),
            "to": seeded.gap[1].isoformat(),
            "reasons": ["error: HTTP 503 Service Unavailable"],
        }
    ]
    assert data["projection"]["target"] == 90_400 and data["projection"]["pace_per_day"] == 25.0
    assert data["projection"]["reached_on"] is not None and data["projection"]["on_track"] is False


def test_json_report_for_a_range(staff_client: TestClient, seeded: Seeded) -> None:
    start, end = seeded.first + dt.timedelta(days=3), seeded.first + dt.timedelta(days=5)
    data = staff_client.get(f"/api/v1/kpi/report?from={start}&to={end}").json()
    assert [p["date"] for p in data["total"]] == [
        (start + dt.timedelta(days=i)).isoformat() for i in range(3)
    ]


@pytest.mark.parametrize(
    ("query", "fragment"),
    [
        ("from=2025-02-01&to=2025-01-01", "from (2025-02-01) is after to (2025-01-01)"),
        ("from=2025-02-30", "valid date"),
        ("to=yesterday", "valid date"),
    ],
)
def test_bad_ranges_get_a_clear_error(staff_client: TestClient, query: str, fragment: str) -> None:
    r = staff_client.get(f"/api/v1/kpi/report?{query}")
    assert r.status_code == 422 and fragment in r.text


def test_csv_export(staff_client: TestClient, seeded: Seeded) -> None:
    r = staff_client.get("/api/v1/kpi/report.csv")
    assert r.status_code == 200 and r.headers["content-type"] == "text/csv; charset=utf-8"
    assert r.headers["content-disposition"].startswith('attachment; filename="suita-sns-followers_')
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert list(rows[0]) == ["date", "total", "estimated", "line", "x", "target"]
    missing = next(row for row in rows if row["date"] == seeded.gap[1].isoformat())
    assert missing["total"] == "" and missing["x"] == "" and missing["line"] != ""


@pytest.mark.parametrize(
    ("fmt", "media", "magic"), [("png", "image/png", b"\x89PNG"), ("svg", "image/svg+xml", b"<?xml")]
)
def test_chart(staff_client: TestClient, seeded: Seeded, fmt: str, media: str, magic: bytes) -> None:
    r = staff_client.get(f"/api/v1/kpi/chart.{fmt}?channels=false")
    assert r.status_code == 200 and r.headers["content-type"] == media
    assert r.content.startswith(magic) and len(r.content) > 5_000


def test_empty_database(staff_client: TestClient) -> None:
    data = staff_client.get("/api/v1/kpi/report").json()
    assert data["total"] == [] and data["latest"] is None and data["projection"]["reached_on"] is None
    page = staff_client.get("/kpi")
    assert page.status_code == 200 and "まだ数値がありません / No figures yet" in page.text
    assert "53,051 → 83,200 → 90,400" in page.text and "suita kpi import FILE.csv" in page.text
    assert 'id="kpi-import"' in page.text  # an editor can import from the page
    assert staff_client.get("/api/v1/kpi/chart.png").content.startswith(b"\x89PNG")


def test_page_renders_for_staff(staff_client: TestClient, seeded: Seeded) -> None:
    r = staff_client.get("/kpi")
    assert r.status_code == 200
    assert "SNS フォロワー数 KPI" in r.text and "HTTP 503 Service Unavailable" in r.text
    assert "ブロック / blocks 4,000" in r.text
    bad = staff_client.get("/kpi?from=2025-02-01&to=2025-01-01")
    assert bad.status_code == 422 and 'role="alert"' in bad.text
