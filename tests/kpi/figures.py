"""Figures the KPI end-to-end tests set on the platform fakes, and what they expect stored."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.settings import Settings
from kpi.jst_dates import jst_date
from kpi.kpi_tables import FollowerSnapshot
from notifier.channels.channel_registry import CHANNELS
from storage.base import utcnow
from tests.platform_fakes import CHANNEL_NAMES, Fakes

# The follower-count request of each platform (LINE: insight; Bluesky: after its login)
FOLLOWER_PATHS = {
    "line": "/v2/bot/insight/followers",
    "x": "/2/users/me",
    "facebook": r"/v\d+\.\d+/\d+$",
    "mastodon": "/api/v1/accounts/verify_credentials",
    "bluesky": "/xrpc/app.bsky.actor.getProfile",
}
# channel: (followers counted, platform_followers, blocks, targeted_reaches, fan_count, date offset)
EXPECTED = {
    "line": (41_000, 45_000, 4_000, 30_000, None, -1),  # friends = followers − blocks, yesterday
    "x": (12_001, None, None, None, None, 0),
    "facebook": (8_002, None, None, None, 7_003, 0),
    "mastodon": (2_004, None, None, None, None, 0),
    "bluesky": (1_005, None, None, None, None, 0),
}


def today() -> dt.date:
    return jst_date(utcnow())


def set_figures(fakes: Fakes) -> None:
    """Distinct follower figures on every fake (LINE insight for yesterday)."""
    line: Any = fakes.line.platform
    line.set_insight(today() - dt.timedelta(days=1), followers=45_000, targeted_reaches=30_000, blocks=4_000)
    fakes.x.platform.followers = 12_001  # type: ignore[attr-defined]
    fakes.facebook.platform.followers = 8_002  # type: ignore[attr-defined]
    fakes.facebook.platform.fans = 7_003  # type: ignore[attr-defined]
    fakes.mastodon.platform.followers = 2_004  # type: ignore[attr-defined]
    fakes.bluesky.platform.followers = 1_005  # type: ignore[attr-defined]


def snapshots(sessions: sessionmaker[Session]) -> dict[str, tuple[Any, ...]]:
    with sessions() as s:
        rows = s.scalars(select(FollowerSnapshot)).all()
    return {
        r.channel: (
            r.account,
            r.date,
            r.followers,
            r.platform_followers,
            r.blocks,
            r.targeted_reaches,
            r.fan_count,
        )
        for r in rows
    }


def expected_row(name: str, settings: Settings) -> tuple[Any, ...]:
    followers, raw, blocks, reaches, fans, offset = EXPECTED[name]
    account = CHANNELS[name].account_of(settings)
    return (account, today() + dt.timedelta(days=offset), followers, raw, blocks, reaches, fans)


def follower_calls(fakes: Fakes) -> dict[str, int]:
    return {name: len(fakes[name].state.find(FOLLOWER_PATHS[name], "GET")) for name in CHANNEL_NAMES}
