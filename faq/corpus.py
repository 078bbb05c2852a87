"""FAQ entries and the import format: JSONL, and CSV in UTF-8 or Shift_JIS (cp932, as Excel writes it).

`parse_file` reads a whole file and returns its entries or every error it found, each with file, line
and column; callers import nothing when there is any error (all-or-nothing).
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from app.topics import LANGUAGES
from faq.labels import LABEL_MAX, derive_label
from faq.normalize import clean
from storage.db import storable_text

REQUIRED = ("id", "question", "answer")
OPTIONAL = ("label", "alternatives", "category", "department", "source", "lang", "url", "updated_at")
COLUMNS = REQUIRED + OPTIONAL
LIMITS = {
    "id": 64,
    "question": 500,
    "label": LABEL_MAX,
    "answer": 4000,
    "category": 64,
    "department": 200,
    "source": 200,
}
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_URL = re.compile(r"^https?://[^\s]+$")


@dataclass(frozen=True)
class Entry:
    """One FAQ entry in one language; (id, lang) is unique."""

    id: str
    question: str
    answer: str
    alternatives: tuple[str, ...] = ()
    category: str = ""
    department: str | None = None
    source: str = ""
    lang: str = "ja"
    url: str | None = None
    updated_at: datetime | None = None
    label: str = ""  # quick-reply label, at most LABEL_MAX characters (derived when not given)

    def to_json(self) -> dict[str, Any]:
        """The import/export shape (one JSONL line)."""
        data: dict[str, Any] = {name: getattr(self, name) for name in COLUMNS}
        data["alternatives"] = list(self.alternatives)
        data["updated_at"] = self.updated_at.isoformat() if self.updated_at else None
        return data


@dataclass(frozen=True)
class RowError:
    file: str
    line: int
    column: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: {self.message}"


class CorpusError(ValueError):
    """A file (or payload) with errors; nothing from it is imported."""

    def __init__(self, errors: list[RowError]) -> None:
        self.errors = errors
        shown = "\n".join(str(e) for e in errors[:20])
        more = f"\n… and {len(errors) - 20} more" if len(errors) > 20 else ""
        super().__init__(f"{len(errors)} error(s), nothing imported:\n{shown}{more}")


@dataclass
class _Row:
    line: int
    values: dict[str, Any]
    columns: dict[str, int] = field(default_factory=dict)  # field name -> 1-based column

    def column(self, name: str) -> int:
        return self.columns.get(name, 1)


def decode(data: bytes, name: str, encoding: str | None = None) -> str:
    """UTF-8 (with or without BOM), else cp932; a `CorpusError` pointing at the first bad byte."""
    if data.startswith(b"\xef\xbb\xbf"):
        data, encoding = data[3:], encoding or "utf-8"
    tries = [encoding] if encoding else ["utf-8", "cp932"]
    first: UnicodeDecodeError | None = None
    for enc in tries:
        try:
            return data.decode(enc)
        except UnicodeDecodeError as exc:
            first = first or exc
    assert first is not None
    line = data.count(b"\n", 0, first.start) + 1
    column = first.start - (data.rfind(b"\n", 0, first.start) + 1) + 1
    bad = data[first.start : first.start + 1].hex()
    raise CorpusError([RowError(name, line, column, f"encoding: byte 0x{bad} is not {' or '.join(tries)}")])


def _jsonl_rows(text: str, name: str, errors: list[RowError]) -> Iterator[_Row]:
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            obj = json.loads(raw)
        except json.JSONDecodeError as exc:
            errors.append(RowError(name, number, exc.colno, f"invalid JSON: {exc.msg}"))
            continue
        except (ValueError, RecursionError):  # a number of thousands of digits, arrays nested too deeply
            errors.append(RowError(name, number, 1, "invalid JSON: nested too deeply or a number too long"))
            continue
        if not isinstance(obj, dict):
            errors.append(RowError(name, number, 1, "each line must be a JSON object"))
            continue
        columns = {key: max(raw.find(f'"{key}"'), 0) + 1 for key in obj}
        yield _Row(number, obj, columns)


def _csv_rows(text: str, name: str, errors: list[RowError]) -> Iterator[_Row]:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        yield from _csv_records(reader, name, errors)
    except csv.Error as exc:  # a field over the csv module's limit (128 KiB), ...
        errors.append(RowError(name, reader.line_num, 1, f"unreadable CSV: {exc}"))


def _csv_records(reader: Any, name: str, errors: list[RowError]) -> Iterator[_Row]:
    """The rows of a CSV reader after its header (problems go to `errors`)."""
    header = [h.strip().lower() for h in next(reader, [])]
    missing = [c for c in REQUIRED if c not in header]
    for column in missing:
        errors.append(RowError(name, 1, len(header) + 1, f"missing column {column!r} in the header"))
    if missing:
        return
    start = reader.line_num + 1
    for row in reader:
        line, start = start, reader.line_num + 1
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            col = min(len(row), len(header)) + 1
            what = (
                f"missing value for column {header[len(row)]!r}" if len(row) < len(header) else "extra values"
            )
            errors.append(RowError(name, line, col, f"{what} ({len(row)} of {len(header)} columns)"))
            continue
        values = {h: cell for h, cell in zip(header, row, strict=True) if h}
        yield _Row(line, values, {h: i + 1 for i, h in enumerate(header)})


def _text(row: _Row, key: str, name: str, errors: list[RowError], *, required: bool = False) -> str:
    value = row.values.get(key)
    if value is None or value == "":
        if required:
            what = "must not be empty" if key in row.values else "is missing"
            errors.append(RowError(name, row.line, row.column(key), f"{key}: {what}"))
        return ""
    if not isinstance(value, str):
        errors.append(RowError(name, row.line, row.column(key), f"{key}: must be a string"))
        return ""
    if not storable_text(value):
        errors.append(
            RowError(name, row.line, row.column(key), f"{key}: contains a NUL character or invalid text")
        )
        return ""
    value = clean(value) if key != "answer" else value.strip()
    if required and not value:
        errors.append(RowError(name, row.line, row.column(key), f"{key}: must not be empty"))
    if key in LIMITS and len(value) > LIMITS[key]:
        errors.append(
            RowError(name, row.line, row.column(key), f"{key}: longer than {LIMITS[key]} characters")
        )
    return value


def _alternatives(row: _Row, name: str, errors: list[RowError]) -> tuple[str, ...]:
    value = row.values.get("alternatives")
    if value in (None, ""):
        return ()
    if isinstance(value, str):
        value = value.split("|")
    if not isinstance(value, list) or not all(isinstance(v, str) and storable_text(v) for v in value):
        errors.append(
            RowError(name, row.line, row.column("alternatives"), "alternatives: must be a list of strings")
        )
        return ()
    return tuple(dict.fromkeys(clean(v) for v in value if clean(v)))


def _updated_at(row: _Row, name: str, errors: list[RowError]) -> datetime | None:
    value = row.values.get("updated_at")
    if value in (None, ""):
        return None
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        errors.append(RowError(name, row.line, row.column("updated_at"), "updated_at: not an ISO date-time"))
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _entry(row: _Row, name: str, errors: list[RowError]) -> Entry | None:
    before = len(errors)
    unknown = sorted(set(row.values) - set(COLUMNS))
    for key in unknown:
        errors.append(RowError(name, row.line, row.column(key), f"unknown column {key!r}"))
    entry_id = _text(row, "id", name, errors, required=True)
    if entry_id and not _ID.match(entry_id):
        errors.append(RowError(name, row.line, row.column("id"), "id: use letters, digits, '.', '_' or '-'"))
    lang = _text(row, "lang", name, errors) or "ja"
    if lang not in LANGUAGES:
        errors.append(
            RowError(name, row.line, row.column("lang"), f"lang: must be one of {', '.join(LANGUAGES)}")
        )
    url = _text(row, "url", name, errors) or None
    if url and not _URL.match(url):
        errors.append(RowError(name, row.line, row.column("url"), "url: must start with http:// or https://"))
    question = _text(row, "question", name, errors, required=True)
    entry = Entry(
        id=entry_id,
        question=question,
        label=_text(row, "label", name, errors) or (derive_label(question, lang) if question else ""),
        answer=_text(row, "answer", name, errors, required=True),
        alternatives=_alternatives(row, name, errors),
        category=_text(row, "category", name, errors),
        department=_text(row, "department", name, errors) or None,
        source=_text(row, "source", name, errors),
        lang=lang,
        url=url,
        updated_at=_updated_at(row, name, errors),
    )
    return entry if len(errors) == before else None


def parse_text(text: str, name: str, *, fmt: str) -> list[Entry]:
    """Entries of a JSONL or CSV text; raises `CorpusError` listing every bad row."""
    errors: list[RowError] = []
    rows: Iterable[_Row] = _csv_rows(text, name, errors) if fmt == "csv" else _jsonl_rows(text, name, errors)
    return _validate(rows, name, errors)


def parse_objects(objects: list[Any], name: str) -> list[Entry]:
    """Validate already-decoded objects (an API body); 'line' is the 1-based position in the list."""
    errors: list[RowError] = []
    rows: list[_Row] = []
    for i, obj in enumerate(objects, start=1):
        if isinstance(obj, dict):
            rows.append(_Row(i, obj))
        else:
            errors.append(RowError(name, i, 1, "must be a JSON object"))
    return _validate(rows, name, errors)


def _validate(rows: Iterable[_Row], name: str, errors: list[RowError]) -> list[Entry]:
    entries: list[Entry] = []
    seen: dict[tuple[str, str], int] = {}
    for row in rows:
        entry = _entry(row, name, errors)
        if entry is None:
            continue
        key = (entry.id, entry.lang)
        if key in seen:
            errors.append(
                RowError(
                    name,
                    row.line,
                    row.column("id"),
                    f"duplicate id {entry.id!r} ({entry.lang}), first on line {seen[key]}",
                )
            )
            continue
        seen[key] = row.line
        entries.append(entry)
    if errors:
        raise CorpusError(errors)
    return entries


def file_format(name: str) -> str:
    return "csv" if name.lower().endswith(".csv") else "jsonl"


def parse_bytes(data: bytes, name: str, *, encoding: str | None = None) -> list[Entry]:
    """Decode (UTF-8 or cp932 for CSV; UTF-8 for JSONL) and parse a file's content."""
    fmt = file_format(name)
    text = decode(data, name, encoding or (None if fmt == "csv" else "utf-8"))
    return parse_text(text, name, fmt=fmt)


def parse_file(path: Path, *, encoding: str | None = None) -> list[Entry]:
    return parse_bytes(path.read_bytes(), path.name, encoding=encoding)


def dump_jsonl(entries: Iterable[Entry]) -> str:
    return "".join(json.dumps(e.to_json(), ensure_ascii=False) + "\n" for e in entries)
