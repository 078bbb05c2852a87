"""`suita kpi ...` (also `python -m kpi` and `python -m notifier kpi`), in process, as operators run it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import Result

from tests.cli_runner import suita

HISTORY = """date,channel,followers
2020-03,line,30000
2020-03,twitter,"15,051"
2020-03,facebook,8000
2021-03,line,40000
2021-03,x,18000
2021-03,facebook,8500
"""


def kpi(db_url: str, *args: str, env: dict[str, str] | None = None) -> Result:
    """Run `suita kpi ARGS` against the database at `db_url`."""
    return suita("kpi", *args, env={"DATABASE_URL": db_url, **(env or {})})


def test_import_then_report_in_every_format(db_url: str, tmp_path: Path) -> None:
    history = tmp_path / "history.csv"
    history.write_text(HISTORY, encoding="utf-8")
    r = kpi(db_url, "import", str(history))
    assert r.exit_code == 0 and "6 added" in r.stdout, r.stderr
    r = kpi(db_url, "report", "--json", "--from", "2020-03-31", "--to", "2021-12-31")
    assert r.exit_code == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["total"][0] == {"date": "2020-03-31", "followers": 53_051, "estimated": False}
    assert data["channels"]["x"][-1]["followers"] == 18_000
    assert data["targets"][0] == {
        "date": "2020-03-31",
        "followers": 53_051,
        "label": data["targets"][0]["label"],
    }
    assert data["projection"]["target"] == 83_200 and data["projection"]["reached_on"] == "2022-07-05"
    r = kpi(db_url, "report", "--csv", "--to", "2021-12-31")
    assert r.stdout.splitlines()[:2] == [
        "date,total,estimated,line,x,facebook,target",
        "2020-03-31,53051,0,30000,15051,8000,53051",
    ]
    for fmt, magic in (("png", b"\x89PNG"), ("svg", b"<?xml")):
        out = tmp_path / f"chart.{fmt}"
        r = kpi(db_url, "report", f"--{fmt}", str(out))
        assert r.exit_code == 0 and out.read_bytes().startswith(magic), r.stderr
    r = kpi(db_url, "report", "--to", "2021-12-31")
    assert "latest total: 66,500" in r.stdout and "next target: 83,200 by 2023-03-31" in r.stdout


def test_a_bad_csv_is_refused_with_line_numbers(db_url: str, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(HISTORY + "2021-13,x,1\n2021-04,x,lots\n", encoding="utf-8")
    r = kpi(db_url, "import", str(bad))
    assert r.exit_code == 2
    assert (
        "line 8: not a valid date '2021-13'" in r.stderr
        and "line 9: followers must be a whole number" in r.stderr
    )
    assert json.loads(kpi(db_url, "report", "--json").stdout)["total"] == []


@pytest.mark.parametrize(
    ("args", "code", "fragment"),
    [
        (("report", "--json", "--csv"), 2, "choose one of --json, --csv"),
        (("report", "--from", "2024-02-30"), 2, "not a valid date '2024-02-30'"),
        (("report", "--from", "2024-02-01", "--to", "2024-01-01"), 2, "is after to"),
        (("collect",), 1, "no channel is configured for follower counts"),
        (("import", "/nonexistent.csv"), 2, "does not exist"),
        (("targets", "set", "2027-03-31", "100", "--scope", "myspace"), 2, "unknown target scope"),
    ],
)
def test_bad_input_gets_a_clear_error(db_url: str, args: tuple[str, ...], code: int, fragment: str) -> None:
    r = kpi(db_url, *args)
    assert r.exit_code == code and fragment in r.stderr


def test_targets_commands(db_url: str) -> None:
    assert kpi(db_url, "targets", "set", "2028-03-31", "110000", "--label", "第5期").exit_code == 0
    listed = kpi(db_url, "targets").stdout.splitlines()
    assert listed[-1] == "total\t2028-03-31\t110000\t第5期" and len(listed) == 4
    assert kpi(db_url, "targets", "remove", "2028-03-31").exit_code == 0
    assert kpi(db_url, "targets", "remove", "2028-03-31").exit_code == 2
    assert kpi(db_url, "targets", "reset").exit_code == 0


def test_an_unmigrated_database_is_named(tmp_path: Path) -> None:
    r = kpi(f"sqlite:///{tmp_path / 'empty.db'}", "report")
    assert r.exit_code == 1 and "run `python -m app migrate`" in r.stderr
