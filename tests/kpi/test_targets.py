"""Target series: the plan's by default, replaceable, with optional per-channel targets."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.orm import Session

from kpi.targets import PLAN_TARGETS, Target, load_targets, remove_target, reset_targets, set_target


def test_default_targets_are_the_plans(session: Session) -> None:
    assert [(t.scope, t.date, t.followers) for t in load_targets(session)] == [
        ("total", dt.date(2020, 3, 31), 53_051),
        ("total", dt.date(2023, 3, 31), 83_200),
        ("total", dt.date(2024, 3, 31), 90_400),
    ]


def test_adding_a_channel_target_keeps_the_plans_total(session: Session) -> None:
    set_target(session, Target("LINE", dt.date(2027, 3, 31), 60_000, "LINE 目標"))
    session.commit()
    targets = load_targets(session)
    assert [t for t in targets if t.scope == "line"] == [
        Target("line", dt.date(2027, 3, 31), 60_000, "LINE 目標")
    ]
    assert [t for t in targets if t.scope == "total"] == list(PLAN_TARGETS)


def test_change_remove_and_reset(session: Session) -> None:
    set_target(session, Target("total", dt.date(2024, 3, 31), 95_000))
    set_target(session, Target("total", dt.date(2028, 3, 31), 110_000, "第5期"))
    session.commit()
    assert [t.followers for t in load_targets(session)] == [53_051, 83_200, 95_000, 110_000]
    assert remove_target(session, "total", dt.date(2020, 3, 31)) is True
    assert remove_target(session, "total", dt.date(2020, 3, 31)) is False
    session.commit()
    assert [t.followers for t in load_targets(session)] == [83_200, 95_000, 110_000]
    reset_targets(session)
    session.commit()
    assert load_targets(session) == list(PLAN_TARGETS)


def test_removing_a_plan_target_before_any_change(session: Session) -> None:
    assert remove_target(session, "total", dt.date(2023, 3, 31)) is True
    session.commit()
    assert [t.followers for t in load_targets(session)] == [53_051, 90_400]


@pytest.mark.parametrize(
    ("target", "message"),
    [
        (Target("instagram", dt.date(2027, 1, 1), 1), "unknown target scope 'instagram'"),
        (Target("total", dt.date(2027, 1, 1), -1), "zero or more"),
    ],
)
def test_bad_targets_are_refused(session: Session, target: Target, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        set_target(session, target)
