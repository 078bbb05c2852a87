"""core: four roles, disabled accounts, set-password links, the append-only audit log

Revision ID: core_0003
Revises: core_0002
Create Date: 2026-12-07 00:00:00.000000

Roles become admin | approver | editor | viewer. Existing accounts keep what they could do: admin,
editor and viewer keep their names (an admin can now also approve, as an admin could do everything);
any other value, which the app never accepted as a power, becomes viewer (read only, as before).
On PostgreSQL a trigger refuses UPDATE and DELETE on `audit_events` (the app never does either).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.base

revision: str = "core_0003"
down_revision: str | Sequence[str] | None = "core_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KNOWN_ROLES = ("admin", "approver", "editor", "viewer")

TRIGGER_FUNCTION = """
CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP;
END;
$$ LANGUAGE plpgsql
"""
TRIGGER = """
CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()
"""


def upgrade() -> None:
    with op.batch_alter_table("staff_users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("disabled_at", storage.base.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("password_link_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("password_link_expires_at", storage.base.UTCDateTime(), nullable=True))
    users = sa.table("staff_users", sa.column("role", sa.String))
    op.execute(users.update().where(users.c.role.not_in(KNOWN_ROLES)).values(role="viewer"))

    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("at", storage.base.UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("actor_role", sa.String(length=16), nullable=False),
        sa.Column("action", sa.String(length=48), nullable=False),
        sa.Column("object_type", sa.String(length=32), nullable=False),
        sa.Column("object_id", sa.String(length=64), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.Column("request_id", sa.String(length=64), nullable=False),
        sa.Column("client", sa.String(length=64), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
    )
    op.create_index("ix_audit_events_at", "audit_events", ["at"], unique=False)
    op.create_index("ix_audit_events_actor_at", "audit_events", ["actor", "at"], unique=False)
    op.create_index("ix_audit_events_object", "audit_events", ["object_type", "object_id"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(TRIGGER_FUNCTION)
        op.execute(TRIGGER)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_events_append_only ON audit_events")
        op.execute("DROP FUNCTION IF EXISTS audit_events_append_only()")
    op.drop_table("audit_events")
    with op.batch_alter_table("staff_users", schema=None) as batch_op:
        batch_op.drop_column("password_link_expires_at")
        batch_op.drop_column("password_link_hash")
        batch_op.drop_column("disabled_at")
