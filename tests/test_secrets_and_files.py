"""Secrets and files: the database password never shows, production needs a long SECRET_KEY, the SQLite
database and its folder are private to the service's user."""

from __future__ import annotations

import logging
import stat
from pathlib import Path

import pytest
from sqlalchemy import text

from app.settings import ConfigError, Settings, load_settings, require_database
from storage.db import make_engine, private_dir

PASSWORD = "hunter2-secret"
PG_URL = f"postgresql+psycopg://suita:{PASSWORD}@127.0.0.1:1/suita"


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_database_password_is_not_in_repr_or_str() -> None:
    settings = Settings(_env_file=None, database_url=PG_URL)
    assert PASSWORD not in repr(settings) and PASSWORD not in str(settings)
    assert "postgresql+psycopg://suita:***@127.0.0.1:1/suita" in repr(settings)
    assert settings.database_url == PG_URL  # the value itself is intact


def test_the_password_is_not_in_errors_or_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with pytest.raises(ConfigError) as unreachable:
        require_database(PG_URL)
    with pytest.raises(ConfigError) as malformed:
        load_settings(database_url=f"postgresql+psycopg://suita:{PASSWORD}@host:notaport/db:x:")
    with pytest.raises(ConfigError) as bad_driver:
        load_settings(database_url=f"mysql://suita:{PASSWORD}@host/db")
    for message in (str(unreachable.value), str(malformed.value), str(bad_driver.value), caplog.text):
        assert PASSWORD not in message
    assert "DATABASE_URL" in str(unreachable.value)


@pytest.mark.parametrize(
    ("key", "ok"),
    [(None, False), ("", False), ("k" * 31, False), ("鍵" * 10, False), ("k" * 32, True), ("鍵" * 11, True)],
)
def test_production_needs_a_secret_key_of_at_least_32_bytes(key: str | None, ok: bool) -> None:
    values = {"app_env": "production"} | ({"secret_key": key} if key is not None else {})
    if ok:
        assert load_settings(**values).secret_key is not None
    else:
        with pytest.raises(ConfigError, match="SECRET_KEY must be at least 32 bytes"):
            load_settings(**values)


def test_development_and_tests_run_without_a_secret_key() -> None:
    assert load_settings(app_env="development").secret_key is None


def test_a_new_sqlite_database_is_private(tmp_path: Path) -> None:
    path = tmp_path / "var" / "data" / "suita.db"
    engine = make_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (x INTEGER)"))
        conn.execute(text("INSERT INTO t VALUES (1)"))
        wal = path.with_name("suita.db-wal")
        assert wal.exists() and _mode(wal) == 0o600
    engine.dispose()
    assert _mode(path) == 0o600
    assert _mode(path.parent) == 0o700 and _mode(path.parent.parent) == 0o700


def test_existing_files_and_folders_are_left_as_they_are(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    shared.chmod(0o755)
    private_dir(shared)
    assert _mode(shared) == 0o755
    db = shared / "old.db"
    db.touch()
    db.chmod(0o640)
    make_engine(f"sqlite:///{db}").dispose()
    assert _mode(db) == 0o640
