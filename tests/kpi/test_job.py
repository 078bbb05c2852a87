"""The daily collection as a periodic job of the delivery workers: `suita notifier worker --once` (run
in process), and the worker inside the app (RUN_WORKER_IN_APP); once per interval across all of them."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from click.testing import Result
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from app.main import create_app
from kpi import collection_job
from kpi.kpi_tables import FollowerSnapshot
from notifier import periodic_jobs
from notifier.delivery.delivery_worker import DeliveryWorker
from notifier.ledger_tables import JobRun
from storage.base import utcnow
from tests.cli_runner import suita
from tests.conftest import make_settings
from tests.kpi.figures import FOLLOWER_PATHS, expected_row, follower_calls, set_figures, snapshots
from tests.platform_fakes import CHANNEL_NAMES, FAST, Fakes, run_async


def count(sessions: sessionmaker[Session]) -> int:
    with sessions() as s:
        return s.scalar(select(func.count()).select_from(FollowerSnapshot)) or 0


def next_run(sessions: sessionmaker[Session]) -> dt.datetime | None:
    with sessions() as s:
        run = s.get(JobRun, collection_job.JOB_NAME)
        return run.next_run_at if run else None


def test_the_collection_is_a_periodic_job_of_the_workers() -> None:
    (registered,) = [j for j in periodic_jobs.registered() if j.name == collection_job.JOB_NAME]
    assert registered.run is collection_job.collect_followers and registered.interval == dt.timedelta(
        minutes=10
    )


def worker_once(db_url: str, fakes: Fakes) -> Result:
    env = {"DATABASE_URL": db_url, "APP_ENV": "test", **fakes.env()}
    env.update({k.upper(): str(v) for k, v in FAST.items()})
    return suita("notifier", "worker", "--once", env=env)


@pytest.mark.slow
def test_a_notifier_worker_process_collects_once_per_interval(
    db_url: str, sessions: sessionmaker[Session], fakes: Fakes
) -> None:
    set_figures(fakes)
    settings = make_settings(db_url, **fakes.settings())
    r = worker_once(db_url, fakes)
    assert r.exit_code == 0, r.stderr
    assert snapshots(sessions) == {name: expected_row(name, settings) for name in CHANNEL_NAMES}
    due = next_run(sessions)
    assert due is not None and due > utcnow() + dt.timedelta(minutes=9)
    # Another worker within the interval does not run the job: no platform is asked again
    run_async(DeliveryWorker(make_settings(db_url, **fakes.settings(), **FAST), mode="once").run(once=True))
    assert follower_calls(fakes) == dict.fromkeys(CHANNEL_NAMES, 1)
    assert next_run(sessions) == due


@pytest.mark.parametrize(("in_app", "expected"), [(True, 5), (False, 0)])
def test_the_web_process_collects_only_through_its_in_app_worker(
    db_url: str, sessions: sessionmaker[Session], fakes: Fakes, in_app: bool, expected: int
) -> None:
    set_figures(fakes)
    settings = make_settings(db_url, **fakes.settings(), **FAST, run_worker_in_app=in_app)
    with TestClient(create_app(settings)):
        deadline = time.monotonic() + 15
        while in_app and count(sessions) < expected and time.monotonic() < deadline:
            time.sleep(0.05)
    assert count(sessions) == expected
    assert sum(len(fakes[n].state.find(FOLLOWER_PATHS[n])) for n in CHANNEL_NAMES) == expected


def test_the_job_without_channels_does_nothing(db_url: str, sessions: sessionmaker[Session]) -> None:
    settings = make_settings(db_url)
    assert run_async(collection_job.run_due(sessions, settings)) == []
    run_async(
        collection_job.collect_followers(periodic_jobs.JobContext(settings, sessions, "test", utcnow()))
    )
    assert count(sessions) == 0
