"""The worker loop: periodic jobs run once per interval across workers, heartbeats, the reconciliation
job, and the worker running inside the app (RUN_WORKER_IN_APP)."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from app.main import create_app
from app.settings import Settings
from notifier import periodic_jobs
from notifier.delivery.reconcile import reconcile_once
from notifier.ledger_tables import Delivery, JobRun, NotifierWorker
from storage.base import utcnow
from storage.db import session_scope
from tests.conftest import STAFF_PASSWORD, sign_in
from tests.notifier.conftest import Fakes, post_data, run_async, run_worker, schedule, shown


@pytest.fixture
def job_calls() -> Iterator[list[str]]:
    calls: list[str] = []

    async def job(ctx: periodic_jobs.JobContext) -> None:
        calls.append(ctx.worker)
        if len(calls) == 1:
            raise RuntimeError("first run fails")

    periodic_jobs.register("test.job", dt.timedelta(hours=1), job)
    yield calls
    periodic_jobs._REGISTRY.pop("test.job", None)


def test_periodic_job_runs_once_per_interval_across_workers(
    sns_settings: Settings, sessions: sessionmaker[Session], job_calls: list[str]
) -> None:
    run_worker(sns_settings)
    run_worker(sns_settings)
    assert len(job_calls) == 1
    with sessions() as s:
        run = s.get(JobRun, "test.job")
        assert run is not None and run.lease_owner is None
        assert run.last_error == "RuntimeError: first run fails"
        assert run.next_run_at > utcnow() + dt.timedelta(minutes=59)
        s.execute(update(JobRun).where(JobRun.name == "test.job").values(next_run_at=utcnow()))
        s.commit()
    run_worker(sns_settings)
    assert len(job_calls) == 2
    with sessions() as s:
        assert s.get(JobRun, "test.job").last_error is None  # type: ignore[union-attr]
    assert "notifier.delivery.reconcile" in [j.name for j in periodic_jobs.registered()]


def test_heartbeat_is_recorded(sns_settings: Settings, sessions: sessionmaker[Session]) -> None:
    schedule(sns_settings, sessions)
    run_worker(sns_settings)
    with sessions() as s:
        (worker,) = s.scalars(select(NotifierWorker)).all()
    assert worker.mode == "once" and worker.processed == 4 and worker.stopped_at is not None


def test_reconciliation_job_finds_a_late_post(
    sns_settings: Settings, sessions: sessionmaker[Session], fakes: Fakes
) -> None:
    fakes.x.platform.fail("timeout", seconds=1.5, path="/2/tweets")
    post_id = schedule(sns_settings, sessions, channels=["x"])
    run_worker(sns_settings)
    assert shown(sessions, post_id)["deliveries"][0]["state"] == "unknown"
    with sessions() as s:
        text = s.scalars(select(Delivery.payload)).one()["texts"]["ja"][0]
    import httpx

    posted = httpx.post(
        f"{fakes.x.url}/2/tweets", json={"text": text}, headers={"Authorization": "OAuth x"}, timeout=10
    )
    assert posted.status_code == 201, posted.text
    # The worker's 1 s timeout made the first call ambiguous; the look-up itself gets room on a loaded
    # machine.
    patient = sns_settings.model_copy(update={"notifier_request_timeout": 10.0})
    ctx = periodic_jobs.JobContext(patient, sessions, "test", utcnow())
    assert run_async(reconcile_once(ctx)) == 1
    (delivery,) = shown(sessions, post_id)["deliveries"]
    assert delivery["state"] == "sent" and delivery["platform_id"] and "reconciliation" in delivery["error"]
    assert shown(sessions, post_id)["state"] == "done"


def test_worker_inside_the_app_delivers(
    sns_settings: Settings, sessions: sessionmaker[Session], fakes: Fakes
) -> None:
    from app.auth import create_staff_user

    with session_scope(sessions) as s:
        create_staff_user(s, username="kouhou", password=STAFF_PASSWORD)
    settings = sns_settings.model_copy(update={"run_worker_in_app": True})
    with TestClient(create_app(settings)) as client:
        sign_in(client, "kouhou")
        post = client.post("/api/v1/posts", json=post_data()).json()
        view: dict[str, Any] = {}
        for _ in range(200):
            view = client.get(f"/api/v1/posts/{post['id']}").json()
            if view["state"] == "done":
                break
            time.sleep(0.05)
        assert [d["state"] for d in view["deliveries"]] == ["sent"] * 4
        status = client.get("/api/v1/notifier/status").json()
        assert status["workers_alive"] == 1 and status["workers"][0]["mode"] == "in-app"
    with sessions() as s:
        assert s.scalars(select(NotifierWorker.stopped_at)).one() is not None  # stopped with the app


def test_the_api_wakes_the_in_app_worker_instead_of_waiting_for_its_poll(
    sns_settings: Settings, sessions: sessionmaker[Session], fakes: Fakes
) -> None:
    from app.auth import create_staff_user

    with session_scope(sessions) as s:
        create_staff_user(s, username="kouhou", password=STAFF_PASSWORD)
    settings = sns_settings.model_copy(update={"run_worker_in_app": True, "notifier_poll_seconds": 60.0})
    with TestClient(create_app(settings)) as client:
        sign_in(client, "kouhou")
        time.sleep(0.3)  # the worker has looked once, found nothing and is waiting for its 60 s poll
        post = client.post("/api/v1/posts", json=post_data()).json()
        deadline = time.monotonic() + 20  # far less than the poll
        while time.monotonic() < deadline:
            if client.get(f"/api/v1/posts/{post['id']}").json()["state"] == "done":
                break
            time.sleep(0.05)
        assert client.get(f"/api/v1/posts/{post['id']}").json()["state"] == "done"


def test_the_worker_wakes_when_the_next_post_falls_due(
    sns_settings: Settings, sessions: sessionmaker[Session], fakes: Fakes
) -> None:
    """A post scheduled for a moment goes out then, not at the worker's next poll."""
    from notifier.delivery.delivery_worker import DeliveryWorker

    settings = sns_settings.model_copy(update={"notifier_poll_seconds": 60.0})
    post_id = schedule(settings, sessions, scheduled_at=(utcnow() + dt.timedelta(seconds=2)).isoformat())
    worker = DeliveryWorker(settings, mode="standalone")
    thread = threading.Thread(target=lambda: run_async(worker.run()))
    thread.start()
    try:
        deadline = time.monotonic() + 30  # half the poll
        while time.monotonic() < deadline and shown(sessions, post_id)["state"] != "done":
            time.sleep(0.05)
    finally:
        assert worker._loop is not None
        worker._loop.call_soon_threadsafe(worker.stop)
        thread.join(timeout=30)
    assert shown(sessions, post_id)["state"] == "done"
    with sessions() as s:
        lags = [(d.sent_at - d.due_at).total_seconds() for d in s.scalars(select(Delivery)) if d.sent_at]
    assert len(lags) == 4 and max(lags) < 20, lags
