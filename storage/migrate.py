"""Apply and inspect Alembic migrations programmatically (used by the CLI, `/readyz` and tests)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.attributes["configure_logging"] = False
    return cfg


def upgrade(url: str, revision: str = "heads") -> None:
    """Bring the database to the latest revision of every branch."""
    command.upgrade(alembic_config(url), revision)


def script_heads(url: str = "sqlite://") -> set[str]:
    return set(ScriptDirectory.from_config(alembic_config(url)).get_heads())


def db_heads(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        return set(MigrationContext.configure(conn).get_current_heads())


def pending(engine: Engine) -> set[str]:
    """Heads of the migration scripts that the database has not reached (empty = current)."""
    return script_heads() - db_heads(engine)
