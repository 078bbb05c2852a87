"""End to end against the fake LINE server: the real line-bot-sdk insight client via `platforms.line_api`,
the collector, the database, `suita kpi collect`, and two `python -m notifier kpi collect` processes at
once."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from collections.abc import Iterator

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.settings import ROOT, Settings
from fakes.fake_line import FakeLine
from fakes.fake_server import FakeServer
from kpi import collection_job
from kpi.follower_collector import Collector, FetchResult
from kpi.follower_sources import open_sources
from kpi.jst_dates import jst_date
from kpi.kpi_tables import FollowerFetch, FollowerSnapshot
from storage.base import utcnow
from tests.conftest import make_settings
from tests.kpi.fake_sources import Clock, run
from tests.kpi.test_cli import kpi

TOKEN = "kpi-test-channel-token"


@pytest.fixture(scope="module")
def line_server() -> Iterator[FakeServer]:
    with FakeServer(FakeLine(access_token=TOKEN)) as server:
        yield server


@pytest.fixture
def fake_line(line_server: FakeServer) -> FakeLine:
    fake = line_server.platform
    assert isinstance(fake, FakeLine)
    line_server.state.reset()
    fake.reset()
    fake.rate_limits = {}
    return fake


@pytest.fixture
def line_env(db_url: str, line_server: FakeServer) -> dict[str, str]:
    return {
        "DATABASE_URL": db_url,
        "LINE_API_BASE_URL": line_server.url,
        "LINE_DATA_API_BASE_URL": line_server.url,
        "LINE_CHANNEL_ACCESS_TOKEN": TOKEN,
        "LINE_CHANNEL_SECRET": "kpi-test-secret",
    }


@pytest.fixture
def line_settings(db_url: str, line_env: dict[str, str]) -> Settings:
    return make_settings(db_url, **{k.lower(): v for k, v in line_env.items() if k != "DATABASE_URL"})


def yesterday() -> dt.date:
    return jst_date(utcnow()) - dt.timedelta(days=1)


def insight_calls(server: FakeServer) -> list[str]:
    return [c.query.get("date", "") for c in server.state.find("/v2/bot/insight/followers")]


def run_collector(
    settings: Settings, sessions: sessionmaker[Session], clock: Clock, what: str
) -> list[FetchResult]:
    async def go() -> list[FetchResult]:
        async with open_sources(settings) as sources:
            collector = Collector(sessions, sources, clock=clock)
            if what == "due":
                return await collector.run_due()
            return await collector.backfill(
                jst_date(clock()) - dt.timedelta(days=70), jst_date(clock()) - dt.timedelta(days=1)
            )

    return run(go())


def test_daily_job_stores_yesterdays_insight_with_friends(
    line_settings: Settings, sessions: sessionmaker[Session], fake_line: FakeLine, line_server: FakeServer
) -> None:
    fake_line.set_insight(yesterday(), followers=45_000, targeted_reaches=30_000, blocks=4_000)
    outcomes = run(collection_job.run_due(sessions, line_settings))
    assert [(o.channel, o.account, o.date, o.status, o.followers) for o in outcomes] == [
        ("line", "official", yesterday(), "ok", 41_000)
    ]
    with sessions() as s:
        row = s.scalar(select(FollowerSnapshot))
        assert row is not None
        assert (row.followers, row.platform_followers, row.blocks, row.targeted_reaches) == (
            41_000,
            45_000,
            4_000,
            30_000,
        )
    (call,) = line_server.state.find("/v2/bot/insight/followers")
    assert call.query == {"date": yesterday().strftime("%Y%m%d")}
    assert call.headers["authorization"] == f"Bearer {TOKEN}"
    assert run(collection_job.run_due(sessions, line_settings))[0].status == "stored"
    assert len(insight_calls(line_server)) == 1


def test_unready_insight_is_retried_until_ready(
    line_settings: Settings, sessions: sessionmaker[Session], fake_line: FakeLine, line_server: FakeServer
) -> None:
    clock = Clock.jst(2026, 4, 2, 9)
    day = dt.date(2026, 4, 1)
    assert [o.status for o in run_collector(line_settings, sessions, clock, "due")] == ["unready"]
    with sessions() as s:
        assert s.scalar(select(FollowerSnapshot)) is None
        fetch = s.scalar(select(FollowerFetch))
        assert fetch is not None and (fetch.status, fetch.date) == ("unready", day)
    fake_line.set_insight(day, followers=100, targeted_reaches=50, blocks=10)
    assert [o.status for o in run_collector(line_settings, sessions, clock, "due")] == ["waiting"]
    clock.advance(hours=1)
    assert [o.followers for o in run_collector(line_settings, sessions, clock, "due")] == [90]
    assert len(insight_calls(line_server)) == 2


@pytest.mark.parametrize(
    ("status", "fragment"),
    [(500, "500"), (401, "401"), (429, "429")],
)
def test_platform_failures_are_recorded_as_missing(
    line_settings: Settings,
    sessions: sessionmaker[Session],
    fake_line: FakeLine,
    line_server: FakeServer,
    status: int,
    fragment: str,
) -> None:
    fake_line.set_insight(dt.date(2026, 4, 1), followers=100, blocks=0, targeted_reaches=0)
    fake_line.fail("status", status=status, body={"message": "no"}, path="/insight", times=-1)
    (outcome,) = run_collector(line_settings, sessions, Clock.jst(2026, 4, 2, 9), "due")
    assert outcome.status == "error" and fragment in (outcome.reason or "")
    assert TOKEN not in (outcome.reason or "")
    assert len(insight_calls(line_server)) == 1  # one call per budget slot: no in-call retries
    with sessions() as s:
        assert s.scalar(select(FollowerSnapshot)) is None
        fetch = s.scalar(select(FollowerFetch))
        assert fetch is not None and fetch.status == "error" and fragment in (fetch.reason or "")


def test_backfill_stays_within_lines_hourly_limit(
    line_settings: Settings, sessions: sessionmaker[Session], fake_line: FakeLine, line_server: FakeServer
) -> None:
    clock = Clock.jst(2026, 4, 2, 9)
    today = jst_date(clock())
    for i in range(1, 71):
        fake_line.set_insight(
            today - dt.timedelta(days=i), followers=1_000 + i, blocks=i, targeted_reaches=500
        )
    fake_line.rate_limits = {"insight_followers": (60, 3600.0)}  # the real platform's limit
    outcomes = run_collector(line_settings, sessions, clock, "backfill")
    assert [o.status for o in outcomes].count("ok") == 60 and outcomes[-1].status == "deferred"
    assert len(insight_calls(line_server)) == 60
    assert all(c.fault is None for c in line_server.state.find("/insight"))
    with sessions() as s:
        assert len(s.scalars(select(FollowerSnapshot.id)).all()) == 60


@pytest.mark.slow
def test_cli_collect_and_concurrent_runs_call_line_once(
    line_env: dict[str, str], fake_line: FakeLine, line_server: FakeServer, db_url: str
) -> None:
    fake_line.set_insight(yesterday(), followers=45_000, targeted_reaches=30_000, blocks=4_000)
    r = kpi(db_url, "collect", env=line_env)
    assert r.exit_code == 0, r.stderr
    assert r.stdout.strip() == f"line/official {yesterday()}: ok 41,000"
    earlier = yesterday() - dt.timedelta(days=1)
    fake_line.set_insight(earlier, followers=44_900, targeted_reaches=30_000, blocks=3_990)
    command = [sys.executable, "-m", "notifier", "kpi", "collect", "--date", earlier.isoformat()]
    env = {**os.environ, **line_env}  # without other settings: the autouse `clean_environ` removed them
    pipe = subprocess.PIPE
    procs = [
        subprocess.Popen(command, cwd=ROOT, env=env, stdout=pipe, stderr=pipe, text=True) for _ in range(2)
    ]
    results = [p.communicate(timeout=60) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], results
    statuses = sorted(out.split(": ")[1].split()[0] for out, _err in results)
    assert statuses.count("ok") == 1 and set(statuses) <= {"ok", "waiting", "stored"}
    assert insight_calls(line_server).count(earlier.strftime("%Y%m%d")) == 1
    report = json.loads(kpi(db_url, "report", "--json", env=line_env).stdout)
    assert [p["followers"] for p in report["channels"]["line"][:2]] == [40_910, 41_000]


def test_cli_collect_reports_a_failure_with_exit_code_1(
    line_env: dict[str, str], fake_line: FakeLine, db_url: str
) -> None:
    fake_line.fail("status", status=503, body={"message": "down"}, path="/insight", times=-1)
    r = kpi(db_url, "collect", env=line_env)
    assert r.exit_code == 1 and f"line/official {yesterday()}: error" in r.stdout
    assert "503" in r.stdout and TOKEN not in r.stdout + r.stderr
