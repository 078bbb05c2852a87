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
    migrate.upgrade(url, "bot@head")
    engine = create_engine(url)
    assert "faq_0003" not in migrate.db_heads(engine)
    assert "faq_0003" not in migrate.pending(engine) and "kpi_0001" in migrate.pending(engine)
    with engine.begin() as conn:  # a revision of a newer release: its heads are not ours
        conn.execute(text("UPDATE alembic_version SET version_num = 'bot_0099'"))
    assert "bot_0003" in migrate.pending(engine)
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
    session.add(StaffUser(username="t", password_hash="x", created_at=at))
    session.commit()
    session.expire_all()
    got = session.scalar(select(StaffUser.created_at))
    assert got == at and got.tzinfo == UTC


def test_naive_datetime_is_refused(session: Session) -> None:
    session.add(StaffUser(username="t", password_hash="x", created_at=datetime(2026, 1, 1)))
    with pytest.raises(Exception, match="naive datetime"):
        session.commit()
