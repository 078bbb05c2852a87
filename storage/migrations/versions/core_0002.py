"""core: staff sessions on the server, failed sign-ins, usernames unique case-insensitively

Revision ID: core_0002
Revises: 0001
Create Date: 2026-12-02 10:00:00.000000

Existing accounts whose names differ only in case or width (`Editor1`, `editor1`, `ｅｄｉｔｏｒ１`) cannot
keep both names: the oldest keeps its name, each later one is renamed `<name>-<id>` (a warning in the
migration's output lists them; the account's password and role stay, an administrator tells its holder
the new name).
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.base

revision: str = "core_0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger("alembic.runtime.migration")


def _key(name: str) -> str:
    """A frozen copy of `app.auth.username_key` as of this revision."""
    return unicodedata.normalize("NFKC", name).casefold().strip()[:64]


def _fill_keys() -> None:
    bind = op.get_bind()
    users = sa.table(
        "staff_users",
        sa.column("id", sa.Integer),
        sa.column("username", sa.String),
        sa.column("username_key"),
    )
    rows = bind.execute(sa.select(users.c.id, users.c.username).order_by(users.c.id)).all()
    taken: set[str] = set()
    later = []
    for row in rows:  # the oldest account of each key keeps its name
        key = _key(row.username)
        if key in taken:
            later.append(row)
        else:
            taken.add(key)
            bind.execute(users.update().where(users.c.id == row.id).values(username_key=key))
    for row in later:
        suffix = 0
        name = key = ""
        while not key or key in taken:
            suffix += 1
            tail = f"-{row.id}" + (f"-{suffix}" if suffix > 1 else "")
            name = row.username[: 64 - len(tail)] + tail
            key = _key(name)
        log.warning(
            "staff account %r renamed %r: its name differed from another only in case", row.username, name
        )
        taken.add(key)
        bind.execute(users.update().where(users.c.id == row.id).values(username=name, username_key=key))


def upgrade() -> None:
    with op.batch_alter_table("staff_users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("username_key", sa.String(length=64), nullable=True))
    _fill_keys()
    with op.batch_alter_table("staff_users", schema=None) as batch_op:
        batch_op.alter_column("username_key", existing_type=sa.String(length=64), nullable=False)
        batch_op.create_unique_constraint(batch_op.f("uq_staff_users_username_key"), ["username_key"])

    op.create_table(
        "staff_sessions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", storage.base.UTCDateTime(), nullable=False),
        sa.Column("last_seen_at", storage.base.UTCDateTime(), nullable=False),
        sa.Column("expires_at", storage.base.UTCDateTime(), nullable=False),
        sa.Column("revoked_at", storage.base.UTCDateTime(), nullable=True),
        sa.Column("revoked_reason", sa.String(length=32), nullable=True),
        sa.Column("client", sa.String(length=64), nullable=False),
        sa.Column("user_agent", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["staff_users.id"],
            name=op.f("fk_staff_sessions_user_id_staff_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_sessions")),
    )
    op.create_index(op.f("ix_staff_sessions_expires_at"), "staff_sessions", ["expires_at"], unique=False)
    op.create_index(
        "ix_staff_sessions_user_revoked", "staff_sessions", ["user_id", "revoked_at"], unique=False
    )

    op.create_table(
        "staff_login_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("username_key", sa.String(length=64), nullable=False),
        sa.Column("client", sa.String(length=64), nullable=False),
        sa.Column("client_key", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("at", storage.base.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_login_failures")),
    )
    op.create_index(op.f("ix_staff_login_failures_at"), "staff_login_failures", ["at"], unique=False)
    op.create_index(
        "ix_staff_login_failures_client_at", "staff_login_failures", ["client_key", "at"], unique=False
    )
    op.create_index(
        "ix_staff_login_failures_key_at", "staff_login_failures", ["username_key", "at"], unique=False
    )


def downgrade() -> None:
    op.drop_table("staff_login_failures")
    op.drop_table("staff_sessions")
    with op.batch_alter_table("staff_users", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_staff_users_username_key"), type_="unique")
        batch_op.drop_column("username_key")
