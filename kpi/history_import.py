"""Import follower history from CSV: `date,channel,followers[,account]`, all or nothing.

- Dates: YYYY-MM-DD, YYYY/MM/DD, YYYYMMDD, or YYYY-MM for a monthly figure (stored on the month's
  last day: the plan's figures are "as of the end of the month").
- Channels: line, x (or twitter), facebook, mastodon, bluesky. Followers: whole numbers, "53,051" ok.
- `followers` is the figure that counts toward the KPI (for LINE: effective friends, followers − blocks).
- Without an `account` column a row belongs to the channel's configured account (one account per
  channel: imported history and live counts are one series); `demo` is reserved for demo mode.
- Headers may be Japanese (日付, チャネル, フォロワー数, アカウント). UTF-8 (with or without BOM) or
  Shift_JIS (Excel) files are read.
- Any bad row stops the import: every error is reported with its line number, Japanese first, and
  nothing is stored. A row that would change an already stored figure is an error unless `replace`.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from kpi.jst_dates import parse_date
from kpi.kpi_channels import CHANNELS
from kpi.snapshot_store import SnapshotValues, channel_accounts, existing_snapshots, upsert_snapshots
from notifier.channels.channel_base import DEMO_ACCOUNT
from storage.db import storable_text

HEADERS = {
    "date": "date", "日付": "date", "年月日": "date",
    "channel": "channel", "sns": "channel", "チャネル": "channel", "チャンネル": "channel",
    "followers": "followers", "フォロワー数": "followers", "登録者数": "followers", "友だち数": "followers",
    "account": "account", "アカウント": "account",
}  # fmt: skip
ALIASES = {"twitter": "x", "fb": "facebook", "ライン": "line"}
MAX_REPORTED = 50
MAX_FOLLOWERS = 1_000_000_000  # more than any account has; the column holds 32-bit integers
MAX_ACCOUNT = 128  # the snapshot's account column


class CsvImportError(ValueError):
    """The file was refused; `errors` lists each problem as "N 行目: … / line N: …"."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = errors
        shown = errors[:MAX_REPORTED]
        more = f"\n... and {len(errors) - MAX_REPORTED} more" if len(errors) > MAX_REPORTED else ""
        super().__init__("何も取り込んでいません / nothing imported:\n" + "\n".join(shown) + more)


class HistoryRowError(ValueError):
    """A bad row, in Japanese and in English."""

    def __init__(self, ja: str, en: str) -> None:
        super().__init__(en)
        self.ja, self.en = ja, en


def at_line(line: int, ja: str, en: str) -> str:
    """An error of line `line`: Japanese first, then English."""
    return f"{line} 行目: {ja} / line {line}: {en}"


HEADER_HINT = "date,channel,followers[,account]"


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
            ja, en = "UTF-8 でも Shift_JIS でもありません", "the file is neither UTF-8 nor Shift_JIS text"
            raise CsvImportError([at_line(1, ja, en)]) from None


def _columns(header: list[str]) -> tuple[dict[str, int], list[str]]:
    columns: dict[str, int] = {}
    for i, name in enumerate(header):
        key = HEADERS.get(unicodedata.normalize("NFKC", name).strip().lower())
        if key and key not in columns:
            columns[key] = i
    missing = ", ".join(name for name in ("date", "channel", "followers") if name not in columns)
    ja = f"列 {missing} がありません(見出し: {HEADER_HINT})"
    en = f"missing column(s) {missing} (header: {HEADER_HINT})"
    return columns, [at_line(1, ja, en)] if missing else []


def _row(
    cells: list[str], columns: dict[str, int], accounts: Mapping[str, str], today: dt.date
) -> SnapshotValues:
    def cell(name: str) -> str:
        i = columns.get(name)
        return unicodedata.normalize("NFKC", cells[i]).strip() if i is not None and i < len(cells) else ""

    try:
        date = parse_date(cell("date"), allow_month=True)
    except ValueError as exc:
        raise HistoryRowError(
            f"日付 {cell('date')!r} が正しくありません(YYYY-MM-DD か YYYY-MM)", str(exc)
        ) from None
    if date > today:
        raise HistoryRowError(f"日付 {date} は未来です", f"date {date} is in the future")
    channel = ALIASES.get(cell("channel").lower(), cell("channel").lower())
    if channel not in CHANNELS:
        known = ", ".join(CHANNELS)
        raise HistoryRowError(
            f"チャネル {cell('channel')[:40]!r} はありません({known} のどれか)",
            f"unknown channel {cell('channel')[:40]!r} (use one of {known})",
        )
    text = cell("followers").replace(",", "").replace("_", "")
    if not text.isdigit():
        raise HistoryRowError(
            f"フォロワー数は 0 以上の整数にしてください({cell('followers')[:40]!r})",
            f"followers must be a whole number of zero or more, got {cell('followers')[:40]!r}",
        )
    if len(text) > len(str(MAX_FOLLOWERS)) or int(text) > MAX_FOLLOWERS:
        raise HistoryRowError(
            f"フォロワー数は {MAX_FOLLOWERS:,} 以下にしてください({text[:40]})",
            f"followers must be at most {MAX_FOLLOWERS:,}, got {text[:40]}",
        )
    account = cell("account") or accounts.get(channel, "")
    if len(account) > MAX_ACCOUNT or not storable_text(account):
        raise HistoryRowError(
            f"アカウント名は {MAX_ACCOUNT} 文字以内の文字列にしてください",
            f"account must be at most {MAX_ACCOUNT} characters of text",
        )
    if account == DEMO_ACCOUNT:
        raise HistoryRowError(
            f"アカウント名 {DEMO_ACCOUNT!r} はデモ用です",
            f"the account name {DEMO_ACCOUNT!r} is kept for demo mode",
        )
    return SnapshotValues(channel, account, date, int(text), source="import")


def parse_csv(
    text: str, *, today: dt.date, accounts: Mapping[str, str] | None = None
) -> tuple[list[tuple[int, SnapshotValues]], list[str]]:
    """(line number, row) pairs and errors ("line N: ..."); pure, nothing stored."""
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff")))
    try:
        return _parse_rows(reader, today, accounts)
    except csv.Error as exc:  # a field over the csv module's limit (128 KiB), ...
        return [], [at_line(reader.line_num or 1, f"CSV として読めません({exc})", f"unreadable CSV ({exc})")]


def _parse_rows(
    reader: Any, today: dt.date, accounts: Mapping[str, str] | None
) -> tuple[list[tuple[int, SnapshotValues]], list[str]]:
    header = next(reader, None)
    if header is None:
        return [], [
            at_line(
                1, f"ファイルが空です(見出し: {HEADER_HINT})", f"the file is empty (header: {HEADER_HINT})"
            )
        ]
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
        except HistoryRowError as exc:
            errors.append(at_line(line, exc.ja, exc.en))
            continue
        key = (row.channel, row.account, row.date)
        if key in seen:
            first = seen[key]
            ja = f"{row.channel} {row.date} は {first} 行目にもあります"
            errors.append(at_line(line, ja, f"{row.channel} {row.date} already given on line {first}"))
            continue
        seen[key] = line
        rows.append((line, row))
    if not rows and not errors:
        errors.append(at_line(2, "データの行がありません", "no data rows"))
    return rows, errors


def default_accounts(session: Session, configured: Mapping[str, str]) -> dict[str, str]:
    """Per channel, the account a row without one belongs to: the configured account (`configured`:
    the channels with credentials), else the account the channel's history already has."""
    return {**channel_accounts(session), **configured}


def import_csv(
    session: Session,
    text: str,
    *,
    today: dt.date,
    replace: bool = False,
    accounts: Mapping[str, str] | None = None,
) -> ImportResult:
    """Validate the whole file, then store it in one transaction (the caller commits); raises
    `CsvImportError` listing every problem and stores nothing when any row is bad. Rows without an
    account belong to the channel's configured account (`accounts`, see `default_accounts`)."""
    parsed, errors = parse_csv(text, today=today, accounts=default_accounts(session, accounts or {}))
    stored = existing_snapshots(session, [(r.channel, r.account, r.date) for _, r in parsed])
    changed: list[SnapshotValues] = []
    for line, r in parsed:
        old = stored.get((r.channel, r.account, r.date), r.followers)
        if old != r.followers:
            changed.append(r)
            if not replace:
                ja = (
                    f"{r.channel} {r.date} は {old:,} と記録済みですが、ファイルでは {r.followers:,} です"
                    "(置き換えるには --replace / 「置き換える」)"
                )
                en = (
                    f"{r.channel} {r.date} is stored as {old:,}, the file says {r.followers:,} "
                    "(use --replace to overwrite)"
                )
                errors.append(at_line(line, ja, en))
    if errors:
        raise CsvImportError(sorted(errors, key=_line_number))
    rows = [r for _, r in parsed]
    fresh = [r for r in rows if (r.channel, r.account, r.date) not in stored]
    upsert_snapshots(session, fresh + changed)
    return ImportResult(
        added=len(fresh), replaced=len(changed), unchanged=len(rows) - len(fresh) - len(changed)
    )


def _line_number(error: str) -> int:
    return int(error.split(" ", 1)[0])
