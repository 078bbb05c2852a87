"""The audit log: who did what to which object, when, from where (`audit_events`, `app.audit_tables`).

- `record(session, actor, origin, action, object_type, object_id, summary)` appends one row inside the
  caller's transaction, so the row and the change it describes commit (or roll back) together.
- Each row's `hash` is SHA-256 over its content and the previous row's hash (`content_hash`); `id` is
  the previous id + 1. Appending takes a lock first (SQLite: the write lock; PostgreSQL: a
  transaction-scoped advisory lock), so two writers never chain onto the same row.
- `verify(session)` walks the chain and names the first row that was changed, removed or re-linked
  (`suita audit verify` / `python -m app audit verify`, exit 1); `check_row` is its test of one row,
  which `app.audit_archive` also applies to archive files.
- `changes(before, after)` is the summary's diff: the fields whose values differ, each value cut to
  `MAX_VALUE` characters and masked with `app.privacy.mask_pii`.

Nothing here updates or deletes a row; on PostgreSQL a trigger refuses both (migration core_0003). Only
`app.audit_archive` removes rows: the oldest ones, once written to an archive file.
"""

from __future__ import annotations

import datetime as dt
import getpass
import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit_tables import AuditEvent
from app.client_address import masked_address
from app.client_limiter import client_of
from app.logs import request_id_var
from app.privacy import mask_pii
from app.staff_tables import StaffUser
from storage.db import write_lock

GENESIS = "0" * 64  # the `prev_hash` of the first row ever written
MAX_VALUE = 300  # characters of one value kept in a summary (and masked): bounded work per event
ADVISORY_LOCK = 0x5A17A0D1  # PostgreSQL: the key of the lock appenders take (any constant of ours)


@dataclass(frozen=True)
class Actor:
    """Who acted: a username and the role they had then (`""`/`"none"` for nobody signed in)."""

    name: str
    role: str

    @classmethod
    def of(cls, user: StaffUser | None) -> Actor:
        return cls(user.username, user.role) if user is not None else cls("", "none")


@dataclass(frozen=True)
class Origin:
    """Where the action came from: the request's id and the client's masked address (or the CLI)."""

    request_id: str
    client: str

    @classmethod
    def of(cls, request: Request) -> Origin:
        return cls(request_id_var.get() or "", masked_address(client_of(request)))


CLI = Origin("cli", "local")


def cli_actor() -> Actor:
    """A command run on the server: the operating-system user who ran it."""
    try:
        name = getpass.getuser()
    except (KeyError, OSError):
        name = "unknown"
    return Actor(f"cli:{name}"[:64], "cli")


def masked(value: Any) -> Any:
    """A JSON value with every string cut to `MAX_VALUE` characters and masked (pure)."""
    if isinstance(value, str):
        return mask_pii(value[:MAX_VALUE])
    if isinstance(value, Mapping):
        return {str(k)[:64]: masked(v) for k, v in list(value.items())[:50]}
    if isinstance(value, list | tuple):
        return [masked(v) for v in list(value)[:50]]
    if value is None or isinstance(value, bool | int):
        return value
    return mask_pii(str(value)[:MAX_VALUE])


def changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, list[Any]]:
    """`{field: [before, after]}` for each field whose value differs (masked; pure)."""
    fields = [*before, *(k for k in after if k not in before)]
    return {f: [masked(before.get(f)), masked(after.get(f))] for f in fields if before.get(f) != after.get(f)}


def content_hash(event: AuditEvent) -> str:
    """SHA-256 (hex) over the row's content and `prev_hash`, as canonical JSON."""
    content = {
        "id": event.id,
        "at": event.at.astimezone(dt.UTC).isoformat(),
        "actor": event.actor,
        "actor_role": event.actor_role,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "summary": event.summary,
        "request_id": event.request_id,
        "client": event.client,
        "prev_hash": event.prev_hash,
    }
    encoded = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(encoded.encode("utf-8")).hexdigest()


def lock_chain(session: Session) -> None:
    """Take the appenders' lock until the transaction ends (`record`; `app.audit_archive` too)."""
    write_lock(session, ADVISORY_LOCK)


def record(
    session: Session,
    actor: Actor,
    origin: Origin,
    action: str,
    object_type: str,
    object_id: object,
    summary: Mapping[str, Any] | None = None,
    *,
    now: dt.datetime | None = None,
) -> AuditEvent:
    """Append one event (the caller commits; the lock is held until then)."""
    lock_chain(session)
    last = session.execute(
        select(AuditEvent.id, AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)
    ).first()
    event = AuditEvent(
        id=(last[0] + 1) if last else 1,
        at=(now or dt.datetime.now(dt.UTC)).replace(microsecond=0),
        actor=actor.name[:64],
        actor_role=actor.role[:16],
        action=action[:48],
        object_type=object_type[:32],
        object_id=str(object_id)[:64],
        summary=dict(summary or {}),
        request_id=origin.request_id[:64],
        client=origin.client[:64],
        prev_hash=last[1] if last else GENESIS,
    )
    event.hash = content_hash(event)
    session.add(event)
    session.flush()
    return event


def first_row(session: Session) -> tuple[int, str] | None:
    """The oldest row kept and its `prev_hash` (GENESIS unless older rows were archived)."""
    row = session.execute(
        select(AuditEvent.id, AuditEvent.prev_hash).order_by(AuditEvent.id).limit(1)
    ).first()
    return (row[0], row[1]) if row else None


@dataclass(frozen=True)
class ChainBreak:
    """The first row where the chain does not hold, and why (English, for operators)."""

    row: int
    problem: str


def rows_between(
    session: Session, after: int = 0, through: int | None = None, batch: int = 1000
) -> Iterator[AuditEvent]:
    """The rows with `after < id <= through` (every row after `after` when `through` is None), oldest
    first, read `batch` at a time (the session forgets each batch once the next is read)."""
    while True:
        stmt = select(AuditEvent).where(AuditEvent.id > after).order_by(AuditEvent.id).limit(batch)
        if through is not None:
            stmt = stmt.where(AuditEvent.id <= through)
        chunk = list(session.scalars(stmt))
        yield from chunk
        if len(chunk) < batch:
            return
        after = chunk[-1].id
        session.expunge_all()


def check_row(previous: tuple[int, str] | None, event: AuditEvent) -> str | None:
    """Why `event` does not follow `previous` (the id and hash of the row read before it; None: it is
    the first row read), or None when it does (pure)."""
    if previous is None and event.id == 1 and event.prev_hash != GENESIS:
        return "the first row does not start the chain"
    if previous is not None and event.id <= previous[0]:
        return f"its id does not come after row {previous[0]} (rows read twice or out of order)"
    if previous is not None and event.id != previous[0] + 1:
        gap = f"{previous[0] + 1}–{event.id - 1}" if event.id > previous[0] + 2 else str(previous[0] + 1)
        return f"row(s) {gap} before it are missing"
    if previous is not None and event.prev_hash != previous[1]:
        return f"its prev_hash does not match row {previous[0]}'s hash"
    if content_hash(event) != event.hash:
        return "its content does not match its hash (changed after writing)"
    return None


def verify(
    session: Session, batch: int = 1000, *, after: tuple[int, str] | None = None
) -> tuple[int, ChainBreak | None]:
    """Check every row: its hash, its link to the row before, no missing ids. Returns how many rows
    were checked and the first break (None: the chain holds). The first row kept may follow archived
    ones: its `prev_hash` is then the last archived row's hash, checked when `after` (that row's id and
    hash, from the archive files: `app.audit_archive`) is given, see docs/governance.md."""
    checked = 0
    previous = after
    for event in rows_between(session, batch=batch):
        checked += 1
        if problem := check_row(previous, event):
            return checked, ChainBreak(event.id, problem)
        previous = (event.id, event.hash)
    return checked, None
