"""The periodic collection inside the web process."""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from app.main import create_app
from notifier.kpi import job
from notifier.kpi.models import FollowerSnapshot
from tests.conftest import make_settings
from tests.kpi.fakes import ScriptedSource, ok, run


def count(sessions: sessionmaker[Session]) -> int:
    with sessions() as s:
        return s.scalar(select(func.count()).select_from(FollowerSnapshot)) or 0


@pytest.mark.parametrize(("in_app", "expected"), [(True, 1), (False, 0)])
def test_the_web_process_collects_when_it_runs_the_worker(
    monkeypatch: pytest.MonkeyPatch, db_url: str, sessions: sessionmaker[Session], in_app: bool, expected: int
) -> None:
    source = ScriptedSource("x", "SuitaCity", [ok(123)])

    @contextlib.asynccontextmanager
    async def sources(_settings: object) -> AsyncIterator[list[ScriptedSource]]:
        yield [source]

    monkeypatch.setattr(job, "open_sources", sources)
    monkeypatch.setattr(job, "configured_channels", lambda _settings: ["x"])
    with TestClient(create_app(make_settings(db_url, run_worker_in_app=in_app))):
        deadline = time.monotonic() + 10
        while in_app and count(sessions) == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
    assert count(sessions) == expected and len(source.calls) == expected


def test_run_due_without_channels_does_nothing(sessions: sessionmaker[Session], db_url: str) -> None:

    assert run(job.run_due(sessions, make_settings(db_url))) == []
