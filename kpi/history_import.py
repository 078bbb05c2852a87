"""Import follower history from CSV: `date,channel,followers[,account]`, all or nothing.

- Dates: YYYY-MM-DD, YYYY/MM/DD, YYYYMMDD, or YYYY-MM for a monthly figure (stored on the month's
  last day: the plan's figures are "as of the end of the month").
- Channels: line, x (or twitter), facebook, mastodon, bluesky. Followers: whole numbers, "53,051" ok.
- `followers` is the figure that counts toward the KPI (for LINE: effective friends, followers − blocks).
- Without an `account` column the channel's only known account is used.
- Headers may be Japanese (日付, チャネル, フォロワー数, アカウント). UTF-8 (with or without BOM) or
  Shift_JIS (Excel) files are read.
- Any bad row stops the import: every error is reported with its line number and nothing is stored.
  A row that would change an already stored figure is an error unless `replace` is set.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from kpi.jst_dates import parse_date
from kpi.kpi_channels import CHANNELS
from kpi.kpi_tables import FollowerSnapshot
from kpi.snapshot_store import SnapshotValues, existing_snapshots, upsert_snapshots

HEADERS = {
    "date": "date", "日付": "date", "年月日": "date",
    "channel": "channel", "sns": "channel", "チャネル": "channel", "チャンネル": "channel",
    "followers": "followers", "フォロワー数": "followers", "登録者数": "followers", "友だち数": "followers",
    "account": "account", "アカウント": "account",
}  # fmt: skip
ALIASES = {"twitter": "x", "fb": "facebook", "ライン": "line"}
MAX_REPORTED = 50


class CsvImportError(ValueError):
    """The file was refused; `errors` lists each problem as "line N: ..."."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = errors
        shown = errors[:MAX_REPORTED]
        more = f"\n... and {len(errors) - MAX_REPORTED} more" if len(errors) > MAX_REPORTED else ""
        super().__init__("nothing imported:\n" + "\n".join(shown) + more)


@dataclass(frozen=True)
class ImportResult:
    """What an import stored."""

    added: int
    replaced: int
    unchanged: int


def decode(data: bytes) -> str:
    """UTF-8 (BOM allowed), else Shift_JIS/CP932 as Excel writes it in Japan."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            return data.decode("cp932")
        except UnicodeDecodeError:
            raise CsvImportError(["line 1: the file is neither UTF-8 nor Shift_JIS text"]) from None


def _columns(header: list[str]) -> tuple[dict[str, int], list[str]]:
    columns: dict[str, int] = {}
    for i, name in enumerate(header):
        key = HEADERS.get(unicodedata.normalize("NFKC", name).strip().lower())
        if key and key not in columns:
            columns[key] = i
    missing = [name for name in ("date", "channel", "followers") if name not in columns]
    errors = [f"line 1: missing column(s) {', '.join(missing)} (header: date,channel,followers[,account])"]
    return columns, errors if missing else []


def _row(
    cells: list[str], columns: dict[str, int], accounts: Mapping[str, str], today: dt.date
) -> SnapshotValues:
    def cell(name: str) -> str:
        i = columns.get(name)
        return unicodedata.normalize("NFKC", cells[i]).strip() if i is not None and i < len(cells) else ""

    date = parse_date(cell("date"), allow_month=True)
    if date > today:
        raise ValueError(f"date {date} is in the future")
    channel = ALIASES.get(cell("channel").lower(), cell("channel").lower())
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {cell('channel')!r} (use one of {', '.join(CHANNELS)})")
    text = cell("followers").replace(",", "").replace("_", "")
    if not text.isdigit():
        raise ValueError(f"followers must be a whole number of zero or more, got {cell('followers')!r}")
    account = cell("account") or accounts.get(channel, "")
    return SnapshotValues(channel, account, date, int(text), source="import")


def parse_csv(
    text: str, *, today: dt.date, accounts: Mapping[str, str] | None = None
) -> tuple[list[tuple[int, SnapshotValues]], list[str]]:
    """(line number, row) pairs and errors ("line N: ..."); pure, nothing stored."""
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff")))
    header = next(reader, None)
    if header is None:
        return [], ["line 1: the file is empty (header: date,channel,followers[,account])"]
    columns, errors = _columns(header)
    if errors:
        return [], errors
    rows: list[tuple[int, SnapshotValues]] = []
    seen: dict[tuple[str, str, dt.date], int] = {}
    for cells in reader:
        line = reader.line_num
        if not any(c.strip() for c in cells):
            continue
        try:
            row = _row(cells, columns, accounts or {}, today)
        except ValueError as exc:
            errors.append(f"line {line}: {exc}")
            continue
        key = (row.channel, row.account, row.date)
        if key in seen:
            errors.append(f"line {line}: {row.channel} {row.date} already given on line {seen[key]}")
            continue
        seen[key] = line
        rows.append((line, row))
    if not rows and not errors:
        errors.append("line 2: no data rows")
    return rows, errors


def known_accounts(session: Session) -> dict[str, str]:
    """Per channel, its account when exactly one is known (the default for rows without one)."""
    pairs = session.execute(select(FollowerSnapshot.channel, FollowerSnapshot.account).distinct()).all()
    by_channel: dict[str, set[str]] = {}
    for channel, account in pairs:
        by_channel.setdefault(channel, set()).add(account)
    return {channel: next(iter(accs)) for channel, accs in by_channel.items() if len(accs) == 1}


def import_csv(session: Session, text: str, *, today: dt.date, replace: bool = False) -> ImportResult:
    """Validate the whole file, then store it in one transaction (the caller commits); raises
    `CsvImportError` listing every problem and stores nothing when any row is bad."""
    parsed, errors = parse_csv(text, today=today, accounts=known_accounts(session))
    stored = existing_snapshots(session, [(r.channel, r.account, r.date) for _, r in parsed])
    changed: list[SnapshotValues] = []
    for line, r in parsed:
        old = stored.get((r.channel, r.account, r.date), r.followers)
        if old != r.followers:
            changed.append(r)
            if not replace:
                errors.append(
                    f"line {line}: {r.channel} {r.date} is stored as {old:,}, the file says "
                    f"{r.followers:,} (use --replace to overwrite)"
                )
    if errors:
        raise CsvImportError(sorted(errors, key=_line_number))
    rows = [r for _, r in parsed]
    fresh = [r for r in rows if (r.channel, r.account, r.date) not in stored]
    upsert_snapshots(session, fresh + changed)
    return ImportResult(
        added=len(fresh), replaced=len(changed), unchanged=len(rows) - len(fresh) - len(changed)
    )


def _line_number(error: str) -> int:
    return int(error.split(":", 1)[0].removeprefix("line "))
