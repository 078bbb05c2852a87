"""Engine and sessions for SQLite (embedded default) and PostgreSQL (scale-out).

SQLite runs in WAL mode with a busy timeout, so the app, its in-process worker and CLI commands can
share one file. Contention points (claims, de-duplication) use single atomic statements
(`UPDATE … RETURNING`, `INSERT … ON CONFLICT DO NOTHING`), which behave the same on both databases.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

SQLITE_BUSY_TIMEOUT_MS = 15_000


def make_engine(url: str, *, pool_size: int = 10, echo: bool = False, pool_timeout: float = 30.0) -> Engine:
    """Create an engine; for SQLite also create the file (0600) and its folder (0700) and set the
    pragmas. `pool_timeout`: seconds to wait for a pooled connection before `sqlalchemy.exc.TimeoutError`
    (the app answers 503 then: a short wait fails fast when every connection is busy)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        in_memory = parsed.database in (None, "", ":memory:")
        if not in_memory and parsed.database:
            private_file(Path(parsed.database))
        engine = create_engine(
            parsed,
            echo=echo,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
            poolclass=NullPool if in_memory else None,
            **({} if in_memory else {"pool_timeout": pool_timeout}),
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(
        parsed,
        echo=echo,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_timeout=pool_timeout,
        pool_pre_ping=True,
        pool_recycle=1800,
        connect_args={"connect_timeout": 5},
    )


def private_dir(path: Path) -> None:
    """Create `path` (and missing parents) readable by the service's user only (0700); an existing
    folder is left as it is (it may be shared, such as /tmp)."""
    if path.is_dir():
        return
    private_dir(path.parent)
    try:
        path.mkdir(mode=0o700)
    except FileExistsError:
        return
    os.chmod(path, 0o700)  # mkdir's mode is reduced by the umask


def private_file(path: Path) -> None:
    """Create an empty `path` readable by the service's user only (0600) unless it exists, in a private
    folder. SQLite gives its -wal and -shm files the permissions of the database file."""
    private_dir(path.parent)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        return
    os.chmod(path, 0o600)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session that commits on success and rolls back on error."""
    with factory() as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def begin_immediate(session: Session) -> None:
    """On SQLite, take the write lock now (first statement of a transaction) instead of at the
    first write, so a read-then-write transaction cannot fail with 'database is locked'."""
    if session.get_bind().dialect.name == "sqlite":
        session.connection().exec_driver_sql("BEGIN IMMEDIATE")


def ping(engine: Engine) -> None:
    """Raise if the database cannot be reached."""
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))


def storable_text(text: str) -> bool:
    """Whether every database can store `text`: no NUL character (PostgreSQL refuses it) and no unpaired
    surrogate (from a JSON escape such as `\\ud800`; not UTF-8)."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def storable(value: str | None) -> str | None:
    """`value` itself, for a pydantic `field_validator`: a `ValueError` when `storable_text` says no."""
    if value is not None and not storable_text(value):
        raise ValueError("使えない文字(NUL など)が含まれています / contains a NUL character or invalid text")
    return value


def describe(url: str) -> str:
    """The URL without its password, for logs and messages (a placeholder when it cannot be parsed)."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparsable database URL>"


def write_lock(session: Session, key: int | None = None) -> None:
    """SQLite: take the write lock now (`BEGIN IMMEDIATE`) unless this transaction already wrote and
    holds it. PostgreSQL: the transaction-scoped advisory lock `key` when given (writers of one kind
    that must not interleave), else the row locks the caller takes next."""
    conn = session.connection()
    if conn.dialect.name == "sqlite" and not conn.connection.dbapi_connection.in_transaction:  # type: ignore[union-attr]
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    elif conn.dialect.name == "postgresql" and key is not None:
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
