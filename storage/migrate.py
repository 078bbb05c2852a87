"""Apply and inspect Alembic migrations programmatically (used by the CLI, `/readyz` and tests)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.script.revision import RevisionError
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
    """Heads of the migration scripts that the database has not reached (empty = current).

    A head that a revision of another branch `depends_on` (bot_0003 on faq_0003) is no longer stored
    as a head once that revision is applied, so the heads are compared with everything below the
    database's heads, dependencies included."""
    scripts = ScriptDirectory.from_config(alembic_config("sqlite://"))
    current = db_heads(engine)
    try:
        reached = {r.revision for r in scripts.iterate_revisions(tuple(current), "base") if r is not None}
    except RevisionError:  # a revision these scripts do not know (a newer release's database)
        reached = current
    return set(scripts.get_heads()) - reached
