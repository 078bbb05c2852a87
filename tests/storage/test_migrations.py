from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, select, text
from sqlalchemy.orm import Session

from app.staff_tables import StaffUser
from storage import migrate


def test_migrations_are_current(engine: Engine) -> None:
    assert migrate.pending(engine) == set()
    assert migrate.db_heads(engine) <= migrate.script_heads()


def test_a_head_another_branch_depends_on_counts_as_reached(tmp_path: Path) -> None:
    """bot_0003 depends on faq_0003: once applied, Alembic stores only bot_0003 as the head."""
    url = f"sqlite:///{tmp_path / 'x.db'}"
    migrate.upgrade(url, "bot_0003")
    engine = create_engine(url)
    assert "faq_0003" not in migrate.db_heads(engine)
    pending = migrate.pending(engine)
    assert "faq_0003" not in pending and any(head.startswith("kpi_") for head in pending)
    with engine.begin() as conn:  # a revision of a newer release: its heads are not ours
        conn.execute(text("UPDATE alembic_version SET version_num = 'bot_0099'"))
    assert {head for head in migrate.script_heads() if head.startswith("bot_")} <= migrate.pending(engine)
    engine.dispose()


def test_models_match_migrations(engine: Engine) -> None:
    """Autogenerate finds nothing to add: every model change has its migration."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from storage.base import Base
    from storage.table_registry import import_all_models

    import_all_models()
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_utc_datetime_roundtrip(session: Session) -> None:
    jst = timezone(timedelta(hours=9))
    at = datetime(2026, 4, 1, 9, 0, tzinfo=jst)
    session.add(StaffUser(username="t", username_key="t", password_hash="x", created_at=at))
    session.commit()
    session.expire_all()
    got = session.scalar(select(StaffUser.created_at))
    assert got == at and got.tzinfo == UTC


def test_naive_datetime_is_refused(session: Session) -> None:
    session.add(StaffUser(username="t", username_key="t", password_hash="x", created_at=datetime(2026, 1, 1)))
    with pytest.raises(Exception, match="naive datetime"):
        session.commit()


def test_core_0002_keeps_the_oldest_of_names_differing_only_in_case(tmp_path: Path) -> None:
    """Accounts `Editor1` and `editor1` could coexist before: the older keeps its name, the other is
    renamed `<name>-<id>` (password and role unchanged)."""
    import sqlalchemy as sa

    url = f"sqlite:///{tmp_path / 'old.db'}"
    migrate.upgrade(url, "0001")
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        for name in ("Editor1", "editor1", "ＥＤＩＴＯＲ１", "editor1-2", "kouhou"):
            conn.execute(
                sa.text(
                    "INSERT INTO staff_users (username, password_hash, role, created_at)"
                    " VALUES (:n, 'h-' || :n, 'editor', '2026-01-01')"
                ),
                {"n": name},
            )
    migrate.upgrade(url, "heads")
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT id, username, username_key, password_hash FROM staff_users")
        ).all()
    engine.dispose()
    assert [(r.id, r.username, r.username_key) for r in sorted(rows)] == [
        (1, "Editor1", "editor1"),
        (2, "editor1-2-2", "editor1-2-2"),  # "editor1-2" is taken by account 4
        (3, "ＥＤＩＴＯＲ１-3", "editor1-3"),
        (4, "editor1-2", "editor1-2"),
        (5, "kouhou", "kouhou"),
    ]
    assert {r.password_hash for r in rows} == {
        f"h-{n}" for n in ("Editor1", "editor1", "ＥＤＩＴＯＲ１", "editor1-2", "kouhou")
    }
