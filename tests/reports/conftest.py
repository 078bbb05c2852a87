"""Report tests: settings with a media directory of the test's own."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.settings import Settings
from reports.report_jobs import JobTuning
from tests.conftest import make_settings


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    return make_settings(db_url, report_media_dir=tmp_path / "media")


@pytest.fixture
def flow_settings(db_url: str, tmp_path: Path, line_server: Any) -> Settings:
    """A live bot whose LINE calls (messaging and content) go to the fake server."""
    from tests.bot.helpers import CHANNEL_SECRET
    from tests.line_fixtures import LINE_TOKEN

    return make_settings(
        db_url,
        report_media_dir=tmp_path / "media",
        line_channel_secret=CHANNEL_SECRET,
        line_channel_access_token=LINE_TOKEN,
        line_api_base_url=line_server.url,
        line_data_api_base_url=line_server.url,
        line_request_timeout=5.0,
    )


FAST_JOBS = JobTuning(poll=0.05, lease=1.0, retry_delays=(0.2, 0.3))


@pytest.fixture
def flow_app(flow_settings: Settings, fake_line: Any) -> FastAPI:
    from tests.bot.conftest import make_bot_app

    app = make_bot_app(flow_settings)
    app.state.report_tuning = FAST_JOBS
    return app


@pytest.fixture
def flow_client(flow_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(flow_app) as client:
        yield client
