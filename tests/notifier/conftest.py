"""Fixtures for the notifier: settings pointing every channel's real SDK client at the fakes
(`tests.platform_fakes`, registered in `tests/conftest.py`), posts scheduled in the ledger, workers."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from app.settings import Settings
from kpi.collection_job import JOB_NAME as KPI_JOB
from notifier import post_ledger
from notifier.channels.channel_base import Channel
from notifier.compose import prepare
from notifier.delivery.delivery_worker import DeliveryWorker
from notifier.ledger_tables import JobRun
from notifier.post_views import show_json
from storage.base import utcnow
from storage.db import session_scope
from tests.conftest import make_settings
from tests.platform_fakes import CHANNEL_NAMES, FAST, LINE_TOKEN, SNS, Fakes, run_async

__all__ = ["CHANNEL_NAMES", "FAST", "LINE_TOKEN", "SNS", "Fakes", "run_async"]


@pytest.fixture(autouse=True)
def kpi_collection_postponed(request: pytest.FixtureRequest) -> None:
    """The workers here also run the KPI's follower collection (a periodic job); it is postponed so
    its platform calls do not consume the faults these tests inject (tests/kpi covers it)."""
    if "db_url" not in request.fixturenames:
        return
    sessions: sessionmaker[Session] = request.getfixturevalue("sessions")
    with session_scope(sessions) as session:
        session.add(JobRun(name=KPI_JOB, next_run_at=utcnow() + dt.timedelta(days=365)))


@pytest.fixture
def sns_settings(db_url: str, fakes: Fakes) -> Settings:
    """Every channel configured against the fakes; short timeouts and backoff."""
    return make_settings(db_url, **fakes.settings(), **FAST)


def post_data(**changes: Any) -> dict[str, Any]:
    """A valid POST.json for the SNS channels, due now."""
    data: dict[str, Any] = {
        "title": "ごみ収集日の変更",
        "body": "年末年始のごみ収集日が変わります。",
        "link": "https://www.city.suita.osaka.jp/gomi",
        "topic": None,
        "urgency": "normal",
        "channels": list(SNS),
        "scheduled_at": None,
        "variants": {},
    }
    data.update(changes)
    return data


def schedule(settings: Settings, sessions: sessionmaker[Session], **changes: Any) -> int:
    """Create and schedule a post directly in the ledger; returns its id."""
    with session_scope(sessions) as session:
        prepared = prepare(post_data(**changes), settings, utcnow())
        return post_ledger.create_post(session, prepared, author="test").id


def run_worker(settings: Settings, *, channels: dict[str, Channel] | None = None) -> int:
    """One `--once` pass of a worker."""
    return run_async(DeliveryWorker(settings, mode="once", channels=channels).run(once=True))


def shown(sessions: sessionmaker[Session], post_id: int) -> dict[str, Any]:
    with sessions() as session:
        return show_json(post_ledger.load(session, post_id))


def states(sessions: sessionmaker[Session], post_id: int) -> dict[str, str]:
    return {d["channel"]: d["state"] for d in shown(sessions, post_id)["deliveries"]}
