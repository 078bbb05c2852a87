"""Target series. By default the plan's total across channels (action plan No. 5: 53,051 followers in
March 2020, 83,200 by the end of FY2022, 90,400 by the end of FY2023); staff may replace them and add
per-channel targets (`python -m notifier kpi targets ...`)."""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from kpi.kpi_channels import CHANNELS
from kpi.kpi_tables import TOTAL, FollowerTarget
from kpi.snapshot_store import insert_for


class Target(NamedTuple):
    """`followers` by `date` for `scope` ("total" or a channel name)."""

    scope: str
    date: dt.date
    followers: int
    label: str = ""


PLAN_TARGETS: tuple[Target, ...] = (
    Target(TOTAL, dt.date(2020, 3, 31), 53_051, "令和2年3月時点の登録者数 / baseline, March 2020"),
    Target(TOTAL, dt.date(2023, 3, 31), 83_200, "令和4年度目標 / FY2022 target"),
    Target(TOTAL, dt.date(2024, 3, 31), 90_400, "令和5年度目標 / FY2023 target"),
)


def check_scope(scope: str) -> str:
    """The scope in canonical form; ValueError naming the allowed values otherwise."""
    value = scope.strip().lower()
    if value not in (TOTAL, *CHANNELS):
        raise ValueError(f"unknown target scope {scope!r} (use {TOTAL} or one of {', '.join(CHANNELS)})")
    return value


def load_targets(session: Session) -> list[Target]:
    """The stored targets, or the plan's when none are stored; sorted by scope and date."""
    t = FollowerTarget
    rows = session.execute(select(t.scope, t.date, t.followers, t.label).order_by(t.scope, t.date)).all()
    return [Target(*row) for row in rows] if rows else list(PLAN_TARGETS)


def set_target(session: Session, target: Target) -> None:
    """Add or change one target. The first change starts from the plan's targets, so setting a
    per-channel target keeps the plan's total. The caller commits."""
    if target.followers < 0:
        raise ValueError("a target must be zero or more followers")
    scope = check_scope(target.scope)
    if session.scalar(select(FollowerTarget.id).limit(1)) is None:
        session.add_all(
            FollowerTarget(scope=t.scope, date=t.date, followers=t.followers, label=t.label)
            for t in PLAN_TARGETS
        )
        session.flush()
    stmt = insert_for(session, FollowerTarget)
    values = {"scope": scope, "date": target.date, "followers": target.followers, "label": target.label}
    session.execute(
        stmt.values(**values).on_conflict_do_update(
            index_elements=["scope", "date"], set_={"followers": target.followers, "label": target.label}
        )
    )


def remove_target(session: Session, scope: str, date: dt.date) -> bool:
    """Remove one target; False when there was none. The caller commits."""
    scope = check_scope(scope)
    if session.scalar(select(FollowerTarget.id).limit(1)) is None:
        if not any(t.scope == scope and t.date == date for t in PLAN_TARGETS):
            return False
        set_target(session, PLAN_TARGETS[0])  # materialise the defaults, then remove
    result = session.execute(
        delete(FollowerTarget).where(FollowerTarget.scope == scope, FollowerTarget.date == date)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def reset_targets(session: Session) -> None:
    """Back to the plan's targets. The caller commits."""
    session.execute(delete(FollowerTarget))
