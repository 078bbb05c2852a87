"""`suita reports list|export` in process: filters, JSON, GeoJSON and CSV files, clear usage errors."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from click.testing import Result
from sqlalchemy.orm import Session, sessionmaker

from reports import report_store as store
from storage.db import session_scope
from tests.cli_runner import suita


def reports(db_url: str, *args: str) -> Result:
    return suita("reports", *args, env={"DATABASE_URL": db_url})


def seed(sessions: sessionmaker[Session]) -> None:
    with session_scope(sessions) as s:
        store.create(
            s, store.NewReport("flood", "phone", "地下道が冠水 090-1234-5678", 34.7595, 135.5168), "k"
        )
        store.create(s, store.NewReport("road", "line", None, address="江坂町1丁目"), "resident")
        store.create(s, store.NewReport("other", "x", "#吹田市災害 倒木", 34.77, 135.51, author="@a",
                                        link="https://x.com/a/status/1", external_id="1", confirmed=False),
                     "system")  # fmt: skip


def test_list_lines_json_and_filters(db_url: str, sessions: sessionmaker[Session]) -> None:
    seed(sessions)
    listed = reports(db_url, "list")
    assert listed.exit_code == 0, listed.output
    lines = listed.stdout.splitlines()
    assert [line.split()[0] for line in lines] == ["R-000003", "R-000002", "R-000001"]
    assert "要確認" in lines[0] and "江坂町1丁目" in lines[1] and "34.75950,135.51680" in lines[2]
    assert "090-1234-5678" not in listed.stdout and "3 件" in listed.stderr
    flood = json.loads(reports(db_url, "list", "--category", "flood", "--json").stdout)["reports"]
    assert [(r["id"], r["source"], r["status"]) for r in flood] == [(1, "phone", "new")]
    assert reports(db_url, "list", "--unconfirmed").stdout.split()[0] == "R-000003"
    assert reports(db_url, "list", "--status", "handled").stdout == ""
    bad = reports(db_url, "list", "--status", "lost")
    assert bad.exit_code == 2 and "lost" in bad.stderr


def test_export_geojson_and_csv(db_url: str, sessions: sessionmaker[Session], tmp_path: Path) -> None:
    seed(sessions)
    geo, table = tmp_path / "r.geojson", tmp_path / "r.csv"
    done = reports(db_url, "export", "--geojson", str(geo))
    assert done.exit_code == 0 and "2 件" in done.stdout
    collection = json.loads(geo.read_text(encoding="utf-8"))
    assert collection["type"] == "FeatureCollection"
    assert [f["geometry"]["coordinates"] for f in collection["features"]] == [
        [135.51, 34.77],
        [135.5168, 34.7595],
    ]
    assert reports(db_url, "export", "--csv", str(table), "--source", "line").exit_code == 0
    text = table.read_bytes().decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text[1:])))
    assert [(r["id"], r["address"]) for r in rows] == [("2", "江坂町1丁目")]
    for args in [(), ("--geojson", str(geo), "--csv", str(table))]:
        wrong = reports(db_url, "export", *args)
        assert wrong.exit_code == 2 and "exactly one" in wrong.stderr


def test_an_unmigrated_database_is_a_clear_error(tmp_path: Path) -> None:
    result = reports(f"sqlite:///{tmp_path / 'empty.sqlite'}", "list")
    assert result.exit_code == 1 and "migrat" in result.stderr
