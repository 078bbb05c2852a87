"""The report API over the app: phoned-in reports, listing with filters, status workflow with history,
GeoJSON, CSV and staff-only photos."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy.orm import Session, sessionmaker

from app.languages import LANGUAGES
from reports.reports_tables import ReportNotice
from tests.conftest import sign_in_as
from tests.reports.photo_samples import GIF, jpeg_with_gps


def phone(client: TestClient, **form: Any) -> Any:
    photo = form.pop("photo", None)
    files = {"photo": ("p.jpg", photo, "image/jpeg")} if photo is not None else None
    return client.post("/api/v1/reports", data=form, files=files)


def test_categories_have_labels_in_each_language(client: TestClient) -> None:
    cats = client.get("/api/v1/report-categories").json()
    assert [c["id"] for c in cats][:3] == ["building", "road", "flood"]
    assert (
        cats[1]["labels"]["ja"] == "道路の被害・通行止め" and cats[1]["labels"]["vi"] == "Hư hỏng/chặn đường"
    )
    assert len(cats) == 8
    assert all(list(c["labels"]) == list(LANGUAGES) for c in cats)
    assert all(0 < len(label) <= 20 for c in cats for label in c["labels"].values())


def test_a_phoned_in_report_with_photo_is_listed_and_exported(staff_client: TestClient) -> None:
    r = phone(
        staff_client,
        category="flood",
        note="田中太郎さん宅の前が冠水 090-1234-5678",
        lat="34.7595",
        lon="135.5168",
        photo=jpeg_with_gps(),
    )
    assert r.status_code == 201, r.text
    report = r.json()
    assert report["source"] == "phone" and report["status"] == "new" and report["confirmed"] is True
    assert "090-1234-5678" not in report["note"] and "冠水" in report["note"]
    [photo] = report["photos"]
    image = staff_client.get(photo["url"])
    assert image.status_code == 200 and image.headers["content-type"] == "image/jpeg"
    assert len(Image.open(io.BytesIO(image.content)).getexif()) == 0
    assert staff_client.get(photo["thumbnail_url"]).status_code == 200

    listed = staff_client.get("/api/v1/reports").json()
    assert [x["id"] for x in listed["reports"]] == [report["id"]]
    assert listed["counts"] == {"new": 1}

    geo = staff_client.get("/api/v1/reports.geojson")
    assert geo.headers["content-type"] == "application/geo+json"
    [feature] = geo.json()["features"]
    assert feature["geometry"] == {"type": "Point", "coordinates": [135.5168, 34.7595]}
    assert set(feature["properties"]) == {"id", "category", "status", "source", "created_at", "note"}
    assert "090-1234-5678" not in feature["properties"]["note"]

    text = staff_client.get("/api/v1/reports.csv").text
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0]["id"] == str(report["id"]) and rows[0]["category_label"] == "冠水・浸水"


@pytest.mark.parametrize(
    ("form", "status", "why"),
    [
        ({"category": "volcano", "address": "吹田市役所"}, 422, "unknown category"),
        ({"category": "fire"}, 422, "give lat and lon, or address"),
        ({"category": "fire", "lat": "34.7"}, 422, "both lat and lon"),
        ({"category": "fire", "lat": "134.7", "lon": "135"}, 422, ""),
        ({"category": "fire", "address": "千里山", "photo": GIF}, 422, "JPEG or PNG"),
    ],
)
def test_bad_phoned_in_reports_are_refused_and_nothing_is_stored(
    staff_client: TestClient, form: dict[str, Any], status: int, why: str
) -> None:
    r = phone(staff_client, **form)
    assert r.status_code == status, r.text
    assert why in r.text
    assert staff_client.get("/api/v1/reports").json()["reports"] == []


def test_filters(staff_client: TestClient) -> None:
    for category in ("fire", "flood", "fire"):
        assert phone(staff_client, category=category, address="吹田市").status_code == 201
    assert len(staff_client.get("/api/v1/reports?category=fire").json()["reports"]) == 2
    assert len(staff_client.get("/api/v1/reports?source=line").json()["reports"]) == 0
    assert len(staff_client.get("/api/v1/reports?since=2999-01-01T00:00:00").json()["reports"]) == 0
    assert len(staff_client.get("/api/v1/reports?limit=1").json()["reports"]) == 1
    # nothing to draw without coordinates
    assert staff_client.get("/api/v1/reports.geojson").json()["features"] == []


def test_status_workflow_keeps_history_and_merges_duplicates(
    staff_client: TestClient, sessions: sessionmaker[Session]
) -> None:
    first = phone(staff_client, category="road", address="江坂町1丁目").json()["id"]
    second = phone(staff_client, category="road", address="江坂町1丁目").json()["id"]

    def move(report: int, **body: Any) -> Any:
        return staff_client.post(f"/api/v1/reports/{report}/status", json=body)

    assert move(first, status="checking", note="現地確認へ").status_code == 200
    done = move(first, status="handled", note="通行止め解除")
    assert done.json()["status"] == "handled"
    assert [(h["from"], h["to"], h["actor"]) for h in done.json()["history"]] == [
        (None, "new", "kouhou"),
        ("new", "checking", "kouhou"),
        ("checking", "handled", "kouhou"),
    ]
    assert move(second, status="duplicate").status_code == 422  # needs duplicate_of
    assert move(second, status="duplicate", duplicate_of=second).status_code == 422
    merged = move(second, status="duplicate", duplicate_of=first, note="同じ場所")
    assert merged.json()["duplicate_of"] == first
    assert move(first, status="handled").status_code == 422  # already handled
    assert move(999, status="handled").status_code == 404
    assert move(first, status="lost").status_code == 422
    detail = staff_client.get(f"/api/v1/reports/{second}").json()
    assert detail["history"][-1]["note"] == f"R-{first:06d} に統合 / merged into — 同じ場所"
    with sessions() as s:  # no LINE reporter: nobody to push to
        assert s.query(ReportNotice).count() == 0


def test_staff_only_and_editor_only(client: TestClient, sessions: sessionmaker[Session]) -> None:
    assert client.get("/api/v1/reports").status_code == 401
    assert client.get("/api/v1/reports.geojson").status_code == 401
    assert client.get("/api/v1/reports/photos/1").status_code == 401
    assert client.get("/reports", follow_redirects=False).status_code in (302, 303)
    sign_in_as(client, sessions, "viewer")
    assert client.get("/api/v1/reports").status_code == 200
    assert phone(client, category="fire", address="吹田市").status_code == 403
    assert client.patch("/api/v1/reports/1", json={"category": "fire"}).status_code == 403


def test_staff_correct_category_and_place_recorded_in_history(staff_client: TestClient) -> None:
    made = phone(staff_client, category="other", note="倒木", address="吹田市内").json()
    rid = made["id"]

    def fix(**body: Any) -> Any:
        return staff_client.patch(f"/api/v1/reports/{rid}", json=body)

    moved = fix(category="landslide", lat=34.7612, lon=135.5155)
    assert moved.status_code == 200, moved.text
    r = moved.json()
    assert (r["category"], r["lat"], r["lon"], r["status"]) == ("landslide", 34.7612, 135.5155, "new")
    last = r["history"][-1]
    assert (last["from"], last["to"], last["actor"]) == ("new", "new", "kouhou")
    assert (
        "その他 → 倒木・がけ崩れ" in last["note"]
        and "— 吹田市内 → 34.761200, 135.515500 吹田市内" in last["note"]
    )
    named = fix(address="千里山西1丁目 公園の北")
    assert named.json()["address"] == "千里山西1丁目 公園の北" and named.json()["lat"] == 34.7612
    assert "place" in named.json()["history"][-1]["note"]
    features = staff_client.get("/api/v1/reports.geojson").json()["features"]
    assert [f["geometry"]["coordinates"] for f in features if f["id"] == rid] == [[135.5155, 34.7612]]
    cleared = fix(address="")
    assert cleared.json()["address"] is None
    bad: list[dict[str, Any]] = [
        {"category": "volcano"},
        {"lat": 34.7},  # lon missing
        {"lat": 95, "lon": 135},
        {},  # nothing to change
        {"category": "landslide"},  # the same
    ]
    for body in bad:
        assert fix(**body).status_code == 422, body
    assert staff_client.patch("/api/v1/reports/999", json={"category": "fire"}).status_code == 404
    assert len(staff_client.get(f"/api/v1/reports/{rid}").json()["history"]) == 4
