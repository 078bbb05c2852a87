"""CSV import of history: accepted forms, every bad row reported with its line number, all or nothing."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from kpi.history_import import CsvImportError, decode, import_csv, parse_csv
from kpi.kpi_tables import FollowerSnapshot
from kpi.snapshot_store import SnapshotValues, upsert_snapshots

TODAY = dt.date(2026, 4, 2)


def rows(session: Session) -> list[tuple[str, str, dt.date, int, str]]:
    s = FollowerSnapshot
    result = session.execute(
        select(s.channel, s.account, s.date, s.followers, s.source).order_by(s.date, s.channel)
    )
    return [tuple(r) for r in result]  # type: ignore[misc]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("date,channel,followers\n2020-03-31,line,30000\n", ("line", "", dt.date(2020, 3, 31), 30_000)),
        ('date,channel,followers\n2020-03,twitter,"15,051"\n', ("x", "", dt.date(2020, 3, 31), 15_051)),
        ("date,channel,followers\n2020/3/1,Facebook,8000\n", ("facebook", "", dt.date(2020, 3, 1), 8_000)),
        (
            "date,channel,followers,account\n20240229,bluesky,12,suita.bsky.social\n",
            ("bluesky", "suita.bsky.social", dt.date(2024, 2, 29), 12),
        ),
        ("日付,チャネル,フォロワー数\n2021-02,LINE,40000\n", ("line", "", dt.date(2021, 2, 28), 40_000)),
        (
            "\ufeffdate,channel,followers,note\r\n2020-03-31,x,１５０５１,月次報告\r\n",
            ("x", "", dt.date(2020, 3, 31), 15_051),
        ),
    ],
    ids=[
        "plain",
        "month-and-twitter-and-comma",
        "slashes",
        "account",
        "japanese-header",
        "bom-crlf-fullwidth-extra-col",
    ],
)
def test_accepted_rows(text: str, expected: tuple[str, str, dt.date, int]) -> None:
    parsed, errors = parse_csv(text, today=TODAY)
    assert errors == []
    ((_line, row),) = parsed
    assert (row.channel, row.account, row.date, row.followers) == expected


BAD = """date,channel,followers
2020-03-31,line,30000
2020-13-01,line,1

2020-04-31,x,5
2020-04-30,myspace,5
2020-04-30,x,-4
2020-04-30,x,1.5
2020-04-30,x,
2099-01-01,x,5
2020-03-31,LINE,30001
"""


def english(errors: list[str]) -> list[str]:
    """Each error's English half (every error is "N 行目: … / line N: …", Japanese first)."""
    assert all(re.match(r"^\d+ 行目: .+ / line \d+: ", e) for e in errors), errors
    return [e.split(" / ", 1)[1] for e in errors]


def test_every_bad_row_is_reported_with_its_line_number() -> None:
    parsed, errors = parse_csv(BAD, today=TODAY)
    assert errors[2].startswith("6 行目: チャネル 'myspace' はありません")
    assert english(errors) == [
        "line 3: not a valid date '2020-13-01' (expected YYYY-MM-DD or YYYY-MM)",
        "line 5: not a valid date '2020-04-31' (expected YYYY-MM-DD or YYYY-MM)",
        "line 6: unknown channel 'myspace' (use one of line, x, facebook, mastodon, bluesky)",
        "line 7: followers must be a whole number of zero or more, got '-4'",
        "line 8: followers must be a whole number of zero or more, got '1.5'",
        "line 9: followers must be a whole number of zero or more, got ''",
        "line 10: date 2099-01-01 is in the future",
        "line 11: line 2020-03-31 already given on line 2",
    ]
    assert len(parsed) == 1


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("", "line 1: the file is empty"),
        ("day,sns,count\n2020-03-31,x,1\n", "line 1: missing column(s) date, followers"),
        ("date,channel,followers\n", "line 2: no data rows"),
    ],
)
def test_unusable_files(text: str, error: str) -> None:
    _parsed, errors = parse_csv(text, today=TODAY)
    assert len(errors) == 1 and english(errors)[0].startswith(error)


def test_a_bad_file_imports_nothing(session: Session) -> None:
    with pytest.raises(CsvImportError) as err:
        import_csv(session, BAD, today=TODAY)
    session.rollback()
    assert rows(session) == []
    assert len(err.value.errors) == 8
    assert str(err.value).startswith("何も取り込んでいません / nothing imported:\n3 行目:")


def test_import_is_idempotent_and_refuses_silent_overwrites(session: Session) -> None:
    text = "date,channel,followers\n2020-03,line,30000\n2020-03,x,15051\n2020-03,facebook,8000\n"
    assert import_csv(session, text, today=TODAY).added == 3
    session.commit()
    again = import_csv(session, text, today=TODAY)
    assert (again.added, again.replaced, again.unchanged) == (0, 0, 3)
    changed = text.replace("15051", "15052") + "2020-04,x,15100\n"
    with pytest.raises(
        CsvImportError, match=r"line 3: x 2020-03-31 is stored as 15,051, the file says 15,052"
    ):
        import_csv(session, changed, today=TODAY)
    session.rollback()
    assert len(rows(session)) == 3
    result = import_csv(session, changed, today=TODAY, replace=True)
    session.commit()
    assert (result.added, result.replaced, result.unchanged) == (1, 1, 2)
    assert ("x", "", dt.date(2020, 3, 31), 15_052, "import") in rows(session)


def test_rows_without_account_join_the_channels_account(session: Session) -> None:
    upsert_snapshots(session, [SnapshotValues("x", "SuitaCity", dt.date(2026, 4, 1), 20_000, "collect")])
    import_csv(session, "date,channel,followers\n2026-03,x,19000\n", today=TODAY)
    session.commit()
    assert ("x", "SuitaCity", dt.date(2026, 3, 31), 19_000, "import") in rows(session)


def test_rows_without_account_belong_to_the_configured_account(session: Session) -> None:
    """The configured account wins over what the history has; `demo` is never a real account."""
    upsert_snapshots(session, [SnapshotValues("x", "", dt.date(2026, 3, 1), 18_000, "import")])
    accounts = {"x": "1500000000000000001"}
    import_csv(session, "date,channel,followers\n2026-03,x,19000\n", today=TODAY, accounts=accounts)
    session.commit()
    assert ("x", "1500000000000000001", dt.date(2026, 3, 31), 19_000, "import") in rows(session)
    with pytest.raises(CsvImportError, match="kept for demo mode"):
        import_csv(session, "date,channel,followers,account\n2026-03,x,1,demo\n", today=TODAY)


def test_shift_jis_files_from_excel_are_read() -> None:
    data = "日付,チャネル,フォロワー数\r\n2021-02,LINE,40000\r\n".encode("cp932")
    parsed, errors = parse_csv(decode(data), today=TODAY)
    assert errors == [] and parsed[0][1].followers == 40_000
    with pytest.raises(CsvImportError, match="neither UTF-8 nor Shift_JIS"):
        decode(b"date\xff\x81")
