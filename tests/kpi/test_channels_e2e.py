"""End to end against the fakes of every channel: the notifier's channels (real line-bot-sdk, tweepy,
httpx, Mastodon.py and atproto clients over HTTP) as follower sources, the collector, the database."""

from __future__ import annotations

import datetime as dt
import logging
import re
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.settings import Settings
from kpi import collection_job
from kpi.follower_sources import configured_channels, open_sources
from kpi.kpi_tables import FollowerFetch
from notifier.channels.channel_registry import CHANNELS
from notifier.periodic_jobs import JobContext
from storage.base import utcnow
from tests.conftest import make_settings
from tests.kpi.figures import (
    EXPECTED,
    FOLLOWER_PATHS,
    expected_row,
    follower_calls,
    set_figures,
    snapshots,
    today,
)
from tests.kpi.test_cli import kpi
from tests.platform_fakes import CHANNEL_NAMES, Fakes, run_async

# fault: (what the fake does, what the stored reason says)
FAULTS: dict[str, tuple[dict[str, Any], str]] = {
    "500": ({"kind": "status", "status": 500}, "500"),
    "429": ({"kind": "status", "status": 429}, "429|rate limit"),  # LINE, X and others send no Retry-After
    "timeout": ({"kind": "timeout", "seconds": 3.0}, "time"),  # past the 1 s request timeout
}


def test_one_collection_stores_one_snapshot_per_channel_account(
    channel_settings: Settings, sessions: sessionmaker[Session], fakes: Fakes
) -> None:
    set_figures(fakes)
    outcomes = run_async(collection_job.run_due(sessions, channel_settings))
    assert [(o.channel, o.status) for o in outcomes] == [(name, "ok") for name in CHANNEL_NAMES]
    assert snapshots(sessions) == {name: expected_row(name, channel_settings) for name in CHANNEL_NAMES}
    assert follower_calls(fakes) == dict.fromkeys(CHANNEL_NAMES, 1)
    # A rerun stores nothing new and calls no platform
    again = run_async(collection_job.run_due(sessions, channel_settings))
    assert {o.status for o in again} == {"stored"} and len(again) == len(CHANNEL_NAMES)
    assert follower_calls(fakes) == dict.fromkeys(CHANNEL_NAMES, 1)


@pytest.mark.parametrize("fault", list(FAULTS))
@pytest.mark.parametrize("failing", CHANNEL_NAMES)
def test_a_failing_platform_is_missing_with_its_reason_and_the_others_are_stored(
    channel_settings: Settings,
    sessions: sessionmaker[Session],
    fakes: Fakes,
    caplog: pytest.LogCaptureFixture,
    failing: str,
    fault: str,
) -> None:
    set_figures(fakes)
    behaviour, says = FAULTS[fault]
    fakes[failing].platform.fail(path=FOLLOWER_PATHS[failing], times=-1, **behaviour)
    with caplog.at_level(logging.WARNING, logger="kpi.collection_job"):
        run_async(collection_job.collect_followers(JobContext(channel_settings, sessions, "test", utcnow())))
    stored = snapshots(sessions)
    assert stored == {n: expected_row(n, channel_settings) for n in CHANNEL_NAMES if n != failing}
    with sessions() as s:
        (fetch,) = s.scalars(select(FollowerFetch).where(FollowerFetch.status != "ok")).all()
    assert (fetch.channel, fetch.account) == (failing, CHANNELS[failing].account_of(channel_settings))
    assert fetch.status == "error" and fetch.next_attempt_at is not None
    reason = (fetch.reason or "").lower()
    assert re.search(says, reason), reason
    assert fakes.line.platform.access_token not in reason  # type: ignore[attr-defined]
    assert fakes[failing].state.find(FOLLOWER_PATHS[failing])  # it was asked, and failed
    if failing == "line":  # one call per insight fetch: the hourly budget is never spent on retries
        assert len(fakes.line.state.find(FOLLOWER_PATHS["line"])) == 1
    assert "'error': 1" in caplog.text


@pytest.mark.parametrize("failing", CHANNEL_NAMES)
def test_an_answer_without_a_count_is_missing_never_zero(
    channel_settings: Settings, sessions: sessionmaker[Session], fakes: Fakes, failing: str
) -> None:
    set_figures(fakes)
    if failing == "line":
        line: Any = fakes.line.platform
        line.set_insight(today() - dt.timedelta(days=1), followers=None, blocks=None, targeted_reaches=None)
    else:
        fakes[failing].platform.followers = None  # type: ignore[attr-defined]
    outcomes = run_async(collection_job.run_due(sessions, channel_settings))
    assert [(o.channel, o.status) for o in outcomes] == [
        (n, "error" if n == failing else "ok") for n in CHANNEL_NAMES
    ]
    (failed,) = [o for o in outcomes if o.status == "error"]
    assert "no follower count" in (failed.reason or ""), failed.reason
    assert set(snapshots(sessions)) == set(CHANNEL_NAMES) - {failing}


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({}, []),
        ({"line_channel_access_token": "t"}, ["line"]),  # the webhook secret is not needed to count
        ({"line_channel_secret": "s"}, []),
        ({"line_channel_access_token": " "}, []),
        ({"x_api_key": "k", "x_api_secret": "s", "x_access_token": "1-t"}, []),  # no token secret
        ({"facebook_page_id": "1", "facebook_page_access_token": "t"}, ["facebook"]),
        ({"mastodon_access_token": "t"}, []),
        ({"bluesky_handle": "suita.bsky.social", "bluesky_app_password": "p"}, ["bluesky"]),
    ],
)
def test_configured_channels_follow_the_registry(
    db_url: str, overrides: dict[str, str], expected: list[str]
) -> None:
    settings = make_settings(db_url, **overrides)
    assert configured_channels(settings) == expected

    async def opened() -> list[tuple[str, str]]:
        async with open_sources(settings) as sources:
            return [(s.name, s.account) for s in sources]

    assert run_async(opened()) == [(n, CHANNELS[n].account_of(settings)) for n in expected]


def test_every_channel_configured_is_a_source_in_registry_order(channel_settings: Settings) -> None:
    assert configured_channels(channel_settings) == list(CHANNELS) == list(CHANNEL_NAMES)


@pytest.mark.slow
def test_cli_collect_with_every_channel_configured(
    channel_settings: Settings, db_url: str, sessions: sessionmaker[Session], fakes: Fakes
) -> None:
    set_figures(fakes)
    rows = {name: expected_row(name, channel_settings) for name in CHANNEL_NAMES}
    fakes.x.platform.fail("status", status=503, path=FOLLOWER_PATHS["x"], times=1)
    r = kpi(db_url, "collect", env=fakes.env())
    assert r.exit_code == 1, r.stderr  # a failed fetch is an error exit for cron
    lines = r.stdout.splitlines()
    x_account, today, *_ = rows["x"]
    assert lines.pop(1).startswith(f"x/{x_account} {today}: error (X get_me: 503")
    assert lines == [f"{n}/{a} {d}: ok {f:,}" for n, (a, d, f, *_) in rows.items() if n != "x"]
    assert snapshots(sessions) == {n: row for n, row in rows.items() if n != "x"}
    # The missing figure is fetched again for its date on demand; stored ones are left alone
    r = kpi(db_url, "collect", "--date", str(today), env=fakes.env())
    assert r.exit_code == 0, r.stdout + r.stderr
    assert f"x/{x_account} {today}: ok {EXPECTED['x'][0]:,}" in r.stdout.splitlines()
    assert r.stdout.count(": stored") == 3 and snapshots(sessions) == rows
