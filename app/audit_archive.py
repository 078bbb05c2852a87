"""Archiving the audit log's oldest rows to files without breaking the hash chain (docs/governance.md).

- `archive(sessions, before=…, …)` moves the oldest rows written before `before` (a prefix of the
  chain, never the newest row, which new rows link to) to one JSON Lines file: it first checks their
  chain and the next row's link (a broken chain is refused, naming the row), writes the file (a temp
  file, fsynced), then in ONE transaction, under the appenders' lock, checks the rows are still those
  written, deletes exactly them (`id <= last`) and appends an `audit.archive` event; the file gets its
  name once that transaction has committed. Used by `suita audit archive` and the daily job
  (`notifier/audit_retention_job.py`) when `AUDIT_RETENTION_DAYS` > 0.
- `check_archives(paths)` re-reads archive files in order of their rows: each row's hash and link, each
  file's header, files that follow each other; it returns the last archived row, which the first row
  kept in the database must follow (`suita audit verify --archive FILE …`).

An archive file: a header line `{"format": "suita-audit-archive", "version": 1, "first_id", "last_id",
"rows", "first_prev_hash", "last_hash", "first_at", "last_at", "before", "created_at"}`, then one line per
row with every column of `audit_events` (`at` in UTC, ISO 8601), oldest first.

On PostgreSQL the append-only trigger (migration core_0003) is switched off for the delete only, inside
the archiving transaction (`ALTER TABLE … DISABLE TRIGGER`, DELETE, `ENABLE TRIGGER`): DDL is
transactional, so no other transaction ever sees the table without its trigger, and the ALTER's lock
makes every other writer of the table wait until the commit. It needs the table's owner (the role that
ran the migrations), which is the power that could drop the trigger anyway.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from sqlalchemy import delete, func, select, text
from sqlalchemy.orm import Session, sessionmaker

from app import audit
from app.audit_tables import AuditEvent
from app.tokyo_time import JST
from storage.db import session_scope

FORMAT = "suita-audit-archive"
VERSION = 1
TRIGGER = "audit_events_append_only"  # migration core_0003
COLUMNS = (
    "id",
    "at",
    "actor",
    "actor_role",
    "action",
    "object_type",
    "object_id",
    "summary",
    "request_id",
    "client",
    "prev_hash",
    "hash",
)
ACTION = "audit.archive"


class ArchiveError(Exception):
    """Archiving refused or failed; nothing was removed from the database (the message says why)."""


@dataclass(frozen=True)
class ArchiveHeader:
    """The first line of an archive file: which rows it holds and the chain's ends."""

    first_id: int
    last_id: int
    rows: int
    first_prev_hash: str
    last_hash: str
    first_at: str
    last_at: str
    before: str
    created_at: str

    def line(self) -> str:
        return _dumps({"format": FORMAT, "version": VERSION, **self.__dict__})

    @classmethod
    def parse(cls, line: str) -> ArchiveHeader:
        """The header of `line`; ValueError when it is not one."""
        data = json.loads(line)
        if not isinstance(data, dict) or data.get("format") != FORMAT or data.get("version") != VERSION:
            raise ValueError(f"not a {FORMAT} version {VERSION} header")
        try:
            header = cls(**{k: data[k] for k in cls.__dataclass_fields__})
        except KeyError as exc:
            raise ValueError(f"the header has no {exc.args[0]!r}") from None
        if not all(isinstance(getattr(header, k), int) for k in ("first_id", "last_id", "rows")):
            raise ValueError("the header's first_id, last_id and rows must be integers")
        return header


@dataclass(frozen=True)
class Archived:
    """A finished archive: its file and header."""

    path: Path
    header: ArchiveHeader


def day_start(day: dt.date) -> dt.datetime:
    """The start of `day` in Japan time: `--before DAY` archives the rows written before it (pure)."""
    return dt.datetime.combine(day, dt.time(), JST)


def retention_cutoff(retention_days: int, now: dt.datetime) -> dt.datetime | None:
    """Rows written before this are due for archiving; None when retention is 0 (keep every row)."""
    return now - dt.timedelta(days=retention_days) if retention_days > 0 else None


def file_name(first_id: int, last_id: int) -> str:
    """`audit-000000001-000000040.jsonl`: the id range, so names sort in the chain's order (pure)."""
    return f"audit-{first_id:09d}-{last_id:09d}.jsonl"


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def row_record(event: AuditEvent) -> dict[str, Any]:
    """Every column of a row as JSON values (`at` in UTC, ISO 8601)."""
    record: dict[str, Any] = {name: getattr(event, name) for name in COLUMNS}
    record["at"] = event.at.astimezone(dt.UTC).isoformat()
    return record


def event_of(record: Any) -> AuditEvent:
    """A detached row from an archive line's JSON; ValueError when a column is missing or mistyped."""
    if not isinstance(record, dict) or set(record) != set(COLUMNS):
        raise ValueError("not a row of the audit log (its columns differ)")
    if not isinstance(record["id"], int) or not isinstance(record["summary"], dict):
        raise ValueError("not a row of the audit log (id or summary mistyped)")
    texts = [name for name in COLUMNS if name not in ("id", "summary")]
    if not all(isinstance(record[name], str) for name in texts):
        raise ValueError("not a row of the audit log (a text column mistyped)")
    at = dt.datetime.fromisoformat(record["at"])
    if at.tzinfo is None:
        raise ValueError("not a row of the audit log (its time has no zone)")
    return AuditEvent(**{**record, "at": at})


def archive_range(
    session: Session, before: dt.datetime, max_rows: int | None = None
) -> tuple[int, int] | None:
    """The oldest rows to archive, `(first_id, last_id)`: from the oldest row kept up to the row before
    the first one written at or after `before`, never the newest row, at most `max_rows`."""
    first = session.scalar(select(func.min(AuditEvent.id)))
    newest = session.scalar(select(func.max(AuditEvent.id)))
    if first is None or newest is None:
        return None
    recent = session.scalar(select(func.min(AuditEvent.id)).where(AuditEvent.at >= before))
    last = min((recent if recent is not None else newest + 1) - 1, newest - 1)
    if max_rows is not None:
        last = min(last, first + max_rows - 1)
    return (first, last) if last >= first else None


def plan_header(session: Session, first: int, last: int, before: dt.datetime) -> ArchiveHeader:
    """The header of an archive of rows `first`–`last` (checked against the rows as they are written)."""
    ends = {
        event.id: event
        for event in session.scalars(select(AuditEvent).where(AuditEvent.id.in_([first, last])))
    }
    if first not in ends or last not in ends:
        raise ArchiveError(f"row {first if first not in ends else last} is missing; nothing was archived")
    return ArchiveHeader(
        first_id=first,
        last_id=last,
        rows=last - first + 1,
        first_prev_hash=ends[first].prev_hash,
        last_hash=ends[last].hash,
        first_at=ends[first].at.astimezone(dt.UTC).isoformat(),
        last_at=ends[last].at.astimezone(dt.UTC).isoformat(),
        before=before.astimezone(dt.UTC).isoformat(),
        created_at=dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
    )


def _write_rows(session: Session, header: ArchiveHeader, out: IO[str]) -> None:
    """Write the header's rows, checking each one and the next row's link as it goes: `ArchiveError`
    naming the first broken row."""
    previous: tuple[int, str] | None = None
    for event in audit.rows_between(session, header.first_id - 1, header.last_id + 1):
        if problem := audit.check_row(previous, event):
            raise ArchiveError(f"the audit log is broken at row {event.id}: {problem}; nothing was archived")
        previous = (event.id, event.hash)
        if event.id > header.last_id:
            return  # the next row kept links to the last archived one
        out.write(_dumps(row_record(event)) + "\n")
    # the newest row is never archived: a row after the last one must exist
    raise ArchiveError(f"row {header.last_id + 1} is missing; nothing was archived")


def _write_file(session: Session, header: ArchiveHeader, target: Path) -> Path:
    """Write the archive to a private temp file beside `target`, fsynced; the temp file's path."""
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    temp = Path(name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(header.line() + "\n")
            _write_rows(session, header, out)
            out.flush()
            os.fsync(out.fileno())
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return temp


def _delete(
    session: Session, header: ArchiveHeader, actor: audit.Actor, origin: audit.Origin, name: str
) -> None:
    """The archiving transaction: the rows are still those written, delete them, record the event."""
    audit.lock_chain(session)
    first, count, last_hash = session.execute(
        select(
            func.min(AuditEvent.id),
            func.count(),
            select(AuditEvent.hash).where(AuditEvent.id == header.last_id).scalar_subquery(),
        ).where(AuditEvent.id <= header.last_id)
    ).one()
    if (first, count, last_hash) != (header.first_id, header.rows, header.last_hash):
        raise ArchiveError(
            f"rows {header.first_id}–{header.last_id} changed or were archived meanwhile; nothing was removed"
        )
    postgres = session.connection().dialect.name == "postgresql"
    if postgres:  # the trigger refuses DELETE; off for this statement's transaction only (see above)
        session.execute(text(f"ALTER TABLE audit_events DISABLE TRIGGER {TRIGGER}"))
    result = session.execute(delete(AuditEvent).where(AuditEvent.id <= header.last_id))
    deleted = int(getattr(result, "rowcount", -1))
    if postgres:
        session.execute(text(f"ALTER TABLE audit_events ENABLE TRIGGER {TRIGGER}"))
    if deleted != header.rows:
        raise ArchiveError(
            f"{deleted} rows would have been removed instead of {header.rows}; nothing was removed"
        )
    summary = {
        "first_id": header.first_id,
        "last_id": header.last_id,
        "rows": header.rows,
        "last_hash": header.last_hash,
        "file": name,
        "note": f"rows {_span(header)} ({header.rows}) archived to {name}; last hash {header.last_hash}",
    }
    audit.record(session, actor, origin, ACTION, "audit_events", _span(header), summary)


def _committed(sessions: sessionmaker[Session], header: ArchiveHeader) -> bool | None:
    """After a failed commit: is this range's `audit.archive` event there (it commits with the delete),
    or not, or is it unknown (None: the database did not answer)?"""
    try:
        with sessions() as session:
            found = session.scalar(
                select(AuditEvent.id).where(
                    AuditEvent.action == ACTION, AuditEvent.object_id == _span(header)
                )
            )
    except Exception:
        return None
    return found is not None


def _span(header: ArchiveHeader) -> str:
    return f"{header.first_id}-{header.last_id}"


def archive(
    sessions: sessionmaker[Session],
    *,
    before: dt.datetime,
    directory: Path,
    actor: audit.Actor,
    origin: audit.Origin,
    out: Path | None = None,
    max_rows: int | None = None,
) -> Archived | None:
    """Archive the rows written before `before` to `out` (default: `directory/file_name(…)`) and remove
    them from the database; None when there is nothing to archive. `ArchiveError` when refused (nothing
    was removed then)."""
    with sessions() as session:
        span = archive_range(session, before, max_rows)
        if span is None:
            return None
        target = out if out is not None else directory / file_name(*span)
        if target.exists():
            raise ArchiveError(f"{target} exists already; an archive is never overwritten")
        header = plan_header(session, *span, before)
        temp = _write_file(session, header, target)
    try:
        with session_scope(sessions) as session:
            _delete(session, header, actor, origin, target.name)
    except ArchiveError:
        temp.unlink(missing_ok=True)
        raise
    except Exception as exc:
        committed = _committed(sessions, header)
        if committed is None:
            raise ArchiveError(
                f"the database did not answer whether rows {_span(header)} were removed: "
                f"keep {temp} (rename it to {target.name} if they were)"
            ) from exc
        if not committed:
            temp.unlink(missing_ok=True)
            # the driver's own message, first line (not SQLAlchemy's statement and help link)
            reason = (str(getattr(exc, "orig", None) or exc).strip().splitlines() or [""])[0]
            raise ArchiveError(f"{type(exc).__name__}: {reason}; nothing was removed") from exc
    os.replace(temp, target)
    _fsync_dir(target.parent)
    return Archived(target, header)


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):  # not every file system lets a directory be fsynced
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@dataclass(frozen=True)
class ArchiveBreak:
    """Where an archive file does not hold: the file, the row (None: the file as a whole), why."""

    path: Path
    row: int | None
    problem: str


@dataclass(frozen=True)
class ArchiveCheck:
    """The result of `check_archives`: each file's header in chain order, the last archived row's id
    and hash (None: no file), and the first break (None: every file holds)."""

    headers: list[tuple[Path, ArchiveHeader]]
    last: tuple[int, str] | None
    broken: ArchiveBreak | None


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    # undecodable bytes become U+FFFD: the row's hash then names the changed row
    with path.open(encoding="utf-8", errors="replace") as lines:
        yield from enumerate(lines, start=1)


def read_header(path: Path) -> ArchiveHeader:
    """An archive file's header; ValueError (or OSError) when it has none."""
    for _, line in _lines(path):
        return ArchiveHeader.parse(line)
    raise ValueError("the file is empty")


def _check_file(
    path: Path, header: ArchiveHeader, previous: tuple[int, str] | None
) -> tuple[tuple[int, str] | None, ArchiveBreak | None]:
    """Check one file's rows after `previous` (the last row of the file before, if any)."""
    count = 0
    for number, line in _lines(path):
        if number == 1:
            continue
        try:
            event = event_of(json.loads(line))
        except ValueError as exc:
            row = (previous[0] + 1) if previous else header.first_id
            return previous, ArchiveBreak(path, row, f"line {number} is not a row: {exc}")
        if count == 0 and (event.id, event.prev_hash) != (header.first_id, header.first_prev_hash):
            why = "it is not the first row its header names (first_id, first_prev_hash)"
            return previous, ArchiveBreak(path, event.id, why)
        if problem := audit.check_row(previous, event):
            return previous, ArchiveBreak(path, event.id, problem)
        previous = (event.id, event.hash)
        count += 1
    ends = (count, *previous) if count and previous else (0, 0, "")
    if ends != (header.rows, header.last_id, header.last_hash):
        mismatch = (
            f"its header names {header.rows} rows ending at row {header.last_id} with hash "
            f"{header.last_hash[:12]}…, the file has {ends[0]} rows ending at row {ends[1]} with hash "
            f"{str(ends[2])[:12]}…"
        )
        return previous, ArchiveBreak(path, None, mismatch)
    return previous, None


def check_archives(paths: Sequence[Path]) -> ArchiveCheck:
    """Check archive files as one chain, in the order of their rows (pure reading, no database)."""
    headers: list[tuple[Path, ArchiveHeader]] = []
    for path in paths:
        try:
            headers.append((path, read_header(path)))
        except (OSError, ValueError) as exc:
            return ArchiveCheck(headers, None, ArchiveBreak(path, None, f"unreadable header: {exc}"))
    headers.sort(key=lambda item: item[1].first_id)
    previous: tuple[int, str] | None = None
    for path, header in headers:
        previous, broken = _check_file(path, header, previous)
        if broken is not None:
            return ArchiveCheck(headers, previous, broken)
    return ArchiveCheck(headers, previous, None)
