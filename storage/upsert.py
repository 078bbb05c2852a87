"""`INSERT … ON CONFLICT` for both databases: the statement that makes de-duplication and counters safe
across processes, identical in effect on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from storage.base import Base


def insert_for(session: Session, model: type[Base] | Table | Any) -> Any:
    """An INSERT into a model's table (or a `Table`) supporting `on_conflict_do_nothing/update` on the
    session's database."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(model)
    return sqlite.insert(model)
