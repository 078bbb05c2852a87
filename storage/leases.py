"""Leases: one holder at a time for a database row, across processes, lapsing when the holder dies.

A lease is two columns of a row: until when it is held (`until`) and, optionally, by whom (`owner`).
It is taken by one atomic statement that succeeds only while the lease is free (never taken, or
expired) or already the taker's, so two workers never hold it at once; a holder that dies lets it
expire, and one that ran on this host and is known dead (`owner_is_dead`) can be taken over at once.

Every area's leases are built from this module: the bot's chats (`line_inbox_locks`), deliveries
(`deliveries`, claimed in batches), periodic jobs (`notifier_job_runs`) and KPI fetches
(`kpi_fetches`).
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Table, and_, or_
from sqlalchemy.orm import Session

from storage.upsert import insert_for


@dataclass(frozen=True)
class Lease:
    """The lease columns of a table (ORM attributes or Core columns)."""

    until: Any
    owner: Any = None

    def free(self, now: dt.datetime) -> ColumnElement[bool]:
        """Nobody holds it at `now`: never taken, released, or expired."""
        return or_(self.until.is_(None), self.until < now)

    def held_by(self, owner: str) -> ColumnElement[bool]:
        """`owner` holds it (whether or not it has expired: a late holder may still finish)."""
        return and_(self.owner == owner, self.until.is_not(None))

    def free_or_mine(self, now: dt.datetime, owner: str | None) -> ColumnElement[bool]:
        if owner is None or self.owner is None:
            return self.free(now)
        return or_(self.free(now), self.owner == owner)

    def take(self, owner: str | None, now: dt.datetime, seconds: float) -> dict[str, Any]:
        """The values that give the lease to `owner` for `seconds` from `now`."""
        values: dict[str, Any] = {self.until.key: now + dt.timedelta(seconds=seconds)}
        if self.owner is not None:
            values[self.owner.key] = owner
        return values

    def cleared(self) -> dict[str, Any]:
        """The values of a released lease."""
        values: dict[str, Any] = {self.until.key: None}
        if self.owner is not None:
            values[self.owner.key] = None
        return values


def acquire(
    session: Session,
    table: Any,
    key: Mapping[str, Any],
    lease: Lease,
    *,
    owner: str | None,
    now: dt.datetime,
    seconds: float,
    when: Iterable[ColumnElement[bool]] = (),
    new_row: Mapping[str, Any] | None = None,
    also: Mapping[str, Any] | None = None,
) -> bool:
    """Take the lease of the row `key` in one statement: a missing row is inserted already leased
    (with `new_row`'s other values), an existing one is leased only while its lease is free (or
    `owner`'s) and every `when` condition holds; `also` is set with the lease. True when the lease is
    now `owner`'s. The caller commits."""
    taken = {**lease.take(owner, now, seconds), **(also or {})}
    columns = table.c if isinstance(table, Table) else table.__table__.c
    stmt = insert_for(session, table).values({**key, **(new_row or {}), **taken})
    stmt = stmt.on_conflict_do_update(
        index_elements=list(key),
        set_=taken,
        where=and_(lease.free_or_mine(now, owner), *when),
    ).returning(columns[lease.until.key])
    return session.execute(stmt).first() is not None


def owner_name() -> str:
    """`host:pid:random`: unique per process, and telling which holders of this host are gone."""
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def owner_is_dead(owner: str) -> bool:
    """True only when `owner` ran on this host and its process no longer exists."""
    host, _, rest = owner.partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname()[:30] or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, owned by another user
        return False
    return False
