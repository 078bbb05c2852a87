"""The collector against in-repo `FollowerSource`s: idempotency, concurrency, unready, failures,
the LINE insight budget and backfill, on the real database (SQLite or PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from kpi.follower_collector import Collector, clean_reason
from kpi.kpi_tables import FollowerFetch, FollowerSnapshot
from platforms.followers import FollowerCount
from storage import rate_budgets
from storage.db import session_scope
from tests.kpi.fake_sources import Clock, ScriptedSource, line_ready, ok, run

TODAY = dt.date(2026, 4, 2)
YESTERDAY = dt.date(2026, 4, 1)


def snapshots(sessions: sessionmaker[Session]) -> list[tuple[str, str, dt.date, int]]:
    with sessions() as s:
        rows = s.execute(
            select(
                FollowerSnapshot.channel,
                FollowerSnapshot.account,
                FollowerSnapshot.date,
                FollowerSnapshot.followers,
            )
        )
        return sorted(tuple(r) for r in rows)  # type: ignore[misc]


def fetch(sessions: sessionmaker[Session], channel: str, date: dt.date) -> FollowerFetch:
    with sessions() as s:
        row = s.scalar(
            select(FollowerFetch).where(FollowerFetch.channel == channel, FollowerFetch.date == date)
        )
        assert row is not None
        return row


def test_daily_run_stores_line_for_yesterday_and_the_others_for_today(
    sessions: sessionmaker[Session],
) -> None:
    line = ScriptedSource("line", "@suita", by_date=line_ready)
    x = ScriptedSource("x", "SuitaCity", [ok(12_345)])
    fb = ScriptedSource("facebook", "1234", [ok(8_000, fan_count=7_500)])
    collector = Collector(sessions, [line, x, fb], clock=Clock.jst(2026, 4, 2, 0, 30))
    outcomes = run(collector.run_due())
    assert [(o.channel, o.date, o.status) for o in outcomes] == [
        ("line", YESTERDAY, "ok"),
        ("x", TODAY, "ok"),
        ("facebook", TODAY, "ok"),
    ]
    with sessions() as s:
        row = s.scalar(select(FollowerSnapshot).where(FollowerSnapshot.channel == "line"))
        assert row is not None
        raw = line_ready(YESTERDAY).followers
        assert raw is not None
        assert (row.platform_followers, row.blocks, row.followers) == (raw, raw // 10, raw - raw // 10)
        assert row.targeted_reaches == raw // 2 and row.source == "collect"
        fb_row = s.scalar(select(FollowerSnapshot).where(FollowerSnapshot.channel == "facebook"))
        assert fb_row is not None and (fb_row.followers, fb_row.fan_count) == (8_000, 7_500)


def test_running_twice_stores_one_row_and_calls_once(sessions: sessionmaker[Session]) -> None:
    x = ScriptedSource("x", "SuitaCity", [ok(100)])
    collector = Collector(sessions, [x], clock=Clock.jst(2026, 4, 2, 9))
    first = run(collector.run_due())
    second = run(collector.run_due())
    assert [o.status for o in first + second] == ["ok", "stored"]
    assert x.calls == [TODAY] and len(snapshots(sessions)) == 1


def test_concurrent_workers_store_one_row_and_call_the_platform_once(sessions: sessionmaker[Session]) -> None:
    line = ScriptedSource("line", "@suita", by_date=line_ready, delay=0.3)
    x = ScriptedSource("x", "SuitaCity", [ok(100)], delay=0.3)
    clock = Clock.jst(2026, 4, 2, 9)
    results: list[list[str]] = []

    def worker() -> None:
        outcomes = run(Collector(sessions, [line, x], clock=clock).run_due())
        results.append([o.status for o in outcomes])

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert len(line.calls) == 1 and len(x.calls) == 1
    assert len(snapshots(sessions)) == 2
    flat = sorted(s for r in results for s in r)
    assert flat.count("ok") == 2 and len(flat) == 8
    assert set(flat) <= {"ok", "waiting", "stored"}


def test_unready_is_never_stored_and_is_retried_an_hour_later(sessions: sessionmaker[Session]) -> None:
    line = ScriptedSource(
        "line", "@suita", [FollowerCount("unready"), FollowerCount("unready"), ok(500, blocks=20)]
    )
    clock = Clock.jst(2026, 4, 2, 0, 30)
    collector = Collector(sessions, [line], clock=clock)
    statuses = []
    for minutes in (0, 10, 55, 10):  # runs at 0:30, 0:40, 1:35 and 1:45
        clock.advance(minutes=minutes)
        statuses.append([o.status for o in run(collector.run_due())])
    assert statuses == [["unready"], ["waiting"], ["unready"], ["waiting"]]
    assert snapshots(sessions) == []
    row = fetch(sessions, "line", YESTERDAY)
    assert (row.status, row.attempts, row.reason) == ("unready", 2, "unready")
    clock.advance(hours=1)
    assert [o.status for o in run(collector.run_due())] == ["ok"]
    assert snapshots(sessions) == [("line", "@suita", YESTERDAY, 480)]
    assert fetch(sessions, "line", YESTERDAY).status == "ok"


def test_the_next_day_still_retries_an_unready_day_before(sessions: sessionmaker[Session]) -> None:
    line = ScriptedSource("line", "@suita", [FollowerCount("unready"), ok(600), ok(500)])
    clock = Clock.jst(2026, 4, 2, 23, 30)
    collector = Collector(sessions, [line], clock=clock)
    assert [o.status for o in run(collector.run_due())] == ["unready"]
    clock.advance(hours=1)  # 00:30 on April 3rd: yesterday is April 2nd, April 1st still pending
    outcomes = run(collector.run_due())
    assert [(o.date, o.status) for o in outcomes] == [(TODAY, "ok"), (YESTERDAY, "ok")]


@pytest.mark.parametrize(
    ("result", "reason"),
    [
        (ConnectionError("connection refused"), "ConnectionError: connection refused"),
        (
            RuntimeError("GET /v21.0/1234?access_token=EAAB123secret failed"),
            "RuntimeError: GET /v21.0/1234?access_token=*** failed",
        ),
        (
            RuntimeError("Authorization: Bearer abc.def.ghi rejected"),
            "RuntimeError: Authorization: Bearer *** rejected",
        ),
        (FollowerCount("error", reason="HTTP 429 Too Many Requests"), "HTTP 429 Too Many Requests"),
        (FollowerCount("ok", None), "unusable follower figure None"),
        (FollowerCount("ok", -3), "unusable follower figure -3"),
    ],
    ids=["exception", "token-in-url", "bearer", "error-status", "ok-without-figure", "negative"],
)
def test_failures_are_recorded_as_missing_with_their_reason(
    sessions: sessionmaker[Session], result: FollowerCount | Exception, reason: str
) -> None:
    x = ScriptedSource("x", "SuitaCity", [result])
    outcomes = run(Collector(sessions, [x], clock=Clock.jst(2026, 4, 2, 9)).run_due())
    assert [(o.status, o.reason) for o in outcomes] == [("error", reason)]
    assert snapshots(sessions) == []
    row = fetch(sessions, "x", TODAY)
    assert (row.status, row.reason, row.attempts) == ("error", reason, 1)


def test_a_hung_platform_times_out_and_is_retried_with_backoff(sessions: sessionmaker[Session]) -> None:
    x = ScriptedSource("x", "SuitaCity", [ok(100)], delay=5)
    clock = Clock.jst(2026, 4, 2, 9)
    collector = Collector(sessions, [x], clock=clock, timeout=0.2)
    assert [(o.status, o.reason) for o in run(collector.run_due())] == [("error", "timeout after 0.2 s")]
    assert [o.status for o in run(collector.run_due())] == ["waiting"]
    x.delay = 0
    clock.advance(minutes=15)
    assert [o.status for o in run(collector.run_due())] == ["ok"]


def test_clean_reason_masks_personal_details() -> None:
    assert "090-1234-5678" not in clean_reason("contact 090-1234-5678")
    assert len(clean_reason("x" * 1000)) == 300


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (12_345, ("ok", 12_345)),
        (0, ("ok", 0)),  # a real zero is a figure
        (None, ("error", None)),  # absent or null: missing, never zero
        (-1, ("error", None)),
        ("12345", ("error", None)),
        (True, ("error", None)),
        (1.5, ("error", None)),
    ],
)
def test_a_platform_reading_is_a_count_only_when_it_is_one(
    value: object, expected: tuple[str, int | None]
) -> None:
    count = FollowerCount.reading(value, "Platform API", fan_count=7)
    assert (count.status, count.followers) == expected
    assert (count.reason is None) == (expected[0] == "ok")
    assert count.details == ({"fan_count": 7} if expected[0] == "ok" else {})


def test_line_insight_budget_is_60_calls_per_rolling_hour(sessions: sessionmaker[Session]) -> None:
    line = ScriptedSource("line", "@suita", by_date=line_ready)
    clock = Clock.jst(2026, 4, 2, 10)
    collector = Collector(sessions, [line], clock=clock)
    outcomes = run(collector.backfill(dt.date(2026, 1, 1), dt.date(2026, 3, 31)))  # 90 days
    assert [o.status for o in outcomes].count("ok") == 60 and outcomes[-1].status == "deferred"
    assert len(line.calls) == 60 and len(snapshots(sessions)) == 60
    assert line.calls[0] == dt.date(2026, 3, 31)  # newest first
    clock.advance(minutes=59)
    assert run(collector.backfill(dt.date(2026, 1, 1), dt.date(2026, 3, 31)))[-1].status == "deferred"
    assert len(line.calls) == 60
    clock.advance(minutes=1)
    rest = run(collector.backfill(dt.date(2026, 1, 1), dt.date(2026, 3, 31)))
    assert [o.status for o in rest].count("ok") == 30 and len(line.calls) == 90
    assert {o.status for o in rest} == {"stored", "ok"}
    with sessions() as s:
        sources = set(s.scalars(select(FollowerSnapshot.source)))
    assert sources == {"backfill"}


def test_other_channels_have_no_insight_budget_and_cannot_backfill(sessions: sessionmaker[Session]) -> None:
    x = ScriptedSource("x", "SuitaCity", [ok(1)])
    collector = Collector(sessions, [x], clock=Clock.jst(2026, 4, 2, 10))
    assert run(collector.backfill(dt.date(2026, 1, 1), dt.date(2026, 3, 31))) == []
    outcome = run(collector.collect_date(YESTERDAY))[0]
    assert (outcome.status, outcome.reason) == ("unsupported", "reports only today's count")
    assert x.calls == []


def test_budget_holds_across_concurrent_workers(sessions: sessionmaker[Session]) -> None:
    now = Clock.jst(2026, 4, 2, 10)()
    granted: list[bool] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(25):
            with session_scope(sessions) as s:
                got = rate_budgets.reserve_in_window(s, "line:@suita", 60, now)
            with lock:
                granted.append(got)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(granted) == 100 and granted.count(True) == 60
    with sessions() as s:
        assert rate_budgets.next_free_in_window(s, "line:@suita", 60, now) == now + dt.timedelta(hours=1)


def test_collect_date_forces_a_retry_now(sessions: sessionmaker[Session]) -> None:
    line = ScriptedSource("line", "@suita", [FollowerCount("unready"), ok(700)])
    clock = Clock.jst(2026, 4, 2, 9)
    collector = Collector(sessions, [line], clock=clock)
    assert run(collector.run_due())[0].status == "unready"
    assert run(collector.collect_date(YESTERDAY))[0].status == "ok"


def test_backfill_stops_at_the_first_failure_and_before_insight_began(
    sessions: sessionmaker[Session],
) -> None:
    line = ScriptedSource("line", "@suita", [ok(5), ok(4), FollowerCount("error", reason="HTTP 401"), ok(1)])
    collector = Collector(sessions, [line], clock=Clock.jst(2026, 4, 2, 10))
    outcomes = run(collector.backfill(dt.date(2026, 3, 1), dt.date(2026, 3, 31)))
    assert [(o.date.day, o.status) for o in outcomes] == [(31, "ok"), (30, "ok"), (29, "error")]
    early = ScriptedSource("line", "@suita", by_date=line_ready)
    collector = Collector(sessions, [early], clock=Clock.jst(2026, 4, 2, 10))
    run(collector.backfill(dt.date(2016, 1, 1), dt.date(2016, 11, 2)))
    assert early.calls == [dt.date(2016, 11, 2), dt.date(2016, 11, 1)]
