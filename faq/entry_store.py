"""FAQ entries in the database: seeding, reads, edits and the version stamp other processes watch.

Every edit bumps `faq_state.version` in the same transaction, so a process that sees a new version
knows its in-memory index is stale. Callers commit.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from faq.corpus import Entry
from faq.faq_tables import FaqEntryRow, FaqState
from storage.base import utcnow
from storage.db import begin_immediate

STATE_ID = 1


def to_entry(row: FaqEntryRow) -> Entry:
    return Entry(
        id=row.id,
        question=row.question,
        label=row.label or "",
        answer=row.answer,
        alternatives=tuple(row.alternatives or ()),
        category=row.category,
        department=row.department,
        source=row.source,
        lang=row.lang,
        url=row.url,
        updated_at=row.updated_at,
    )


def _values(entry: Entry) -> dict[str, object]:
    return {
        "id": entry.id,
        "lang": entry.lang,
        "question": entry.question,
        "label": entry.label,
        "answer": entry.answer,
        "alternatives": list(entry.alternatives),
        "category": entry.category,
        "department": entry.department,
        "source": entry.source,
        "url": entry.url,
        "updated_at": entry.updated_at or utcnow(),
    }


def seed_if_new(session: Session, entries: Sequence[Entry]) -> bool:
    """Insert the shipped corpus the first time this database is used; False when already done.

    The state row is claimed with INSERT … ON CONFLICT DO NOTHING, so with several processes starting
    at once exactly one seeds (the others wait for its transaction, then find the row).
    """
    begin_immediate(session)
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = (
        insert(FaqState)
        .values(id=STATE_ID, version=1, updated_at=utcnow())
        .on_conflict_do_nothing()
        .returning(FaqState.id)
    )
    claimed = session.execute(stmt).first() is not None  # a row comes back only to the claimant
    if claimed:
        session.add_all(FaqEntryRow(**_values(e)) for e in entries)
    return claimed


def version(session: Session) -> int:
    """The current version stamp (0 before seeding)."""
    return session.scalar(select(FaqState.version).where(FaqState.id == STATE_ID)) or 0


def bump(session: Session) -> None:
    """Mark the FAQ as changed (same transaction as the edit)."""
    result = session.execute(
        update(FaqState)
        .where(FaqState.id == STATE_ID)
        .values(version=FaqState.version + 1, updated_at=utcnow())
    )
    if result.rowcount == 0:  # type: ignore[attr-defined]
        session.add(FaqState(id=STATE_ID, version=2, updated_at=utcnow()))


def load_entries(session: Session, *, lang: str | None = None) -> list[Entry]:
    stmt = select(FaqEntryRow).order_by(FaqEntryRow.lang, FaqEntryRow.id)
    if lang:
        stmt = stmt.where(FaqEntryRow.lang == lang)
    return [to_entry(r) for r in session.scalars(stmt)]


def get(session: Session, entry_id: str, lang: str) -> Entry | None:
    row = session.get(FaqEntryRow, (entry_id, lang))
    return to_entry(row) if row else None


def count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(FaqEntryRow)) or 0


def upsert(session: Session, entries: Iterable[Entry]) -> int:
    """Create or replace entries by (id, lang); returns how many were written."""
    n = 0
    for entry in entries:
        session.merge(FaqEntryRow(**_values(entry)))
        n += 1
    if n:
        bump(session)
    return n


def delete(session: Session, entry_id: str, lang: str) -> bool:
    row = session.get(FaqEntryRow, (entry_id, lang))
    if row is None:
        return False
    session.delete(row)
    bump(session)
    return True
