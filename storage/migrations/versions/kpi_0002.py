"""kpi: one account per channel (imported history and live counts of a channel merged)

Before, a CSV row without an account column went to an empty account (or the channel's only known
one), so a channel's imported history and its live counts could be two accounts and add up. Each
channel's real accounts become one: the account of its newest figure (on a tie, the one collected
most recently). On a day both have, the collected figure stays and the imported one goes. Demo figures
(account "demo") are left alone.

Revision ID: kpi_0002
Revises: kpi_0001
Create Date: 2026-12-07 10:00:00.000000
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "kpi_0002"
down_revision: str | Sequence[str] | None = "kpi_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DEMO = "demo"


def canonical_accounts(conn: sa.Connection) -> dict[str, tuple[str, list[str]]]:
    """Per channel with several real accounts: (the account to keep, the accounts to merge into it)."""
    rows = conn.execute(
        sa.text(
            "SELECT channel, account, MAX(date) AS newest,"
            " MAX(CASE WHEN source <> 'import' THEN date END) AS collected"
            " FROM kpi_snapshots WHERE account <> :demo GROUP BY channel, account"
        ),
        {"demo": DEMO},
    ).all()
    by_channel: dict[str, list[tuple[tuple[str, str], str]]] = {}
    for channel, account, newest, collected in rows:
        key = (str(newest), str(collected or dt.date.min))
        by_channel.setdefault(channel, []).append((key, account))
    merges = {}
    for channel, accounts in by_channel.items():
        if len(accounts) > 1:
            keep = max(accounts)[1]
            merges[channel] = (keep, [a for _k, a in accounts if a != keep])
    return merges


def upgrade() -> None:
    conn = op.get_bind()
    for channel, (keep, others) in canonical_accounts(conn).items():
        for other in others:
            params = {"channel": channel, "keep": keep, "other": other}
            # an imported figure of the kept account gives way to a collected one of the other
            conn.execute(
                sa.text(
                    "DELETE FROM kpi_snapshots WHERE channel = :channel AND account = :keep"
                    " AND source = 'import' AND date IN (SELECT date FROM kpi_snapshots"
                    " WHERE channel = :channel AND account = :other AND source <> 'import')"
                ),
                params,
            )
            for table in ("kpi_snapshots", "kpi_fetches"):
                conn.execute(
                    sa.text(
                        f"DELETE FROM {table} WHERE channel = :channel AND account = :other AND date IN"
                        f" (SELECT date FROM {table} WHERE channel = :channel AND account = :keep)"
                    ),
                    params,
                )
                conn.execute(
                    sa.text(
                        f"UPDATE {table} SET account = :keep WHERE channel = :channel AND account = :other"
                    ),
                    params,
                )


def downgrade() -> None:
    """Merged rows stay merged (the split was the bug)."""
