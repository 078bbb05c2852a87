"""Fixtures of the KPI tests: a database seeded with recent figures, and every channel configured
against the platform fakes (`tests.platform_fakes`)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from sqlalchemy.orm import Session, sessionmaker

from app.settings import Settings
from kpi import fetch_log
from kpi.jst_dates import jst_date
from kpi.snapshot_store import SnapshotValues, upsert_snapshots
from storage.base import utcnow
from storage.db import session_scope
from tests.conftest import make_settings
from tests.platform_fakes import FAST, Fakes


@dataclass(frozen=True)
class Seeded:
    today: dt.date
    first: dt.date
    gap: tuple[dt.date, dt.date]  # X has no figures (HTTP 503) on these days


@pytest.fixture
def seeded(sessions: sessionmaker[Session]) -> Seeded:
    """LINE for the 60 days up to yesterday (40,000 + 20 a day), X for the 60 days up to today
    (20,000 + 5 a day) with ten days missing in the middle, their fetches failed with HTTP 503."""
    today = jst_date(utcnow())
    first = today - dt.timedelta(days=60)
    gap = (first + dt.timedelta(days=20), first + dt.timedelta(days=29))
    rows: list[SnapshotValues] = []
    for i in range(61):
        day = first + dt.timedelta(days=i)
        if day < today:
            rows.append(
                SnapshotValues(
                    "line", "@suita", day, 40_000 + 20 * i, "collect", 44_000 + 20 * i, 30_000, 4_000
                )
            )
        if not gap[0] <= day <= gap[1]:
            rows.append(SnapshotValues("x", "SuitaCity", day, 20_000 + 5 * i, "collect"))
    with session_scope(sessions) as s:
        upsert_snapshots(s, rows)
        for i in range(10):
            day = gap[0] + dt.timedelta(days=i)
            fetch_log.claim(s, "x", "SuitaCity", day, utcnow(), force=True)
            fetch_log.finish(s, "x", "SuitaCity", day, utcnow(), "error", "HTTP 503 Service Unavailable")
    return Seeded(today, first, gap)


@pytest.fixture
def channel_settings(db_url: str, fakes: Fakes) -> Settings:
    """LINE, X, Facebook, Mastodon and Bluesky configured against the fakes; 1 s request timeouts."""
    return make_settings(db_url, **fakes.settings(), **FAST)
