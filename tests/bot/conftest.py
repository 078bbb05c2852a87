"""Fixtures for the bot's tests: the app with a live bot whose LINE calls go to the fake server
(the LINE adapter fixtures are in `tests/line_fixtures.py`)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.settings import Settings
from fakes.fake_line import FakeLine
from fakes.fake_server import FakeServer
from tests.conftest import make_settings
from tests.line_fixtures import LINE_TOKEN

# ---- the bot app against the fake LINE server -----------------------------------------------------


@pytest.fixture
def bot_settings(db_url: str, line_server: FakeServer) -> Settings:
    """Settings of a live bot (credentials set) whose LINE calls go to the fake server."""
    from tests.bot.helpers import CHANNEL_SECRET

    return make_settings(
        db_url,
        line_channel_secret=CHANNEL_SECRET,
        line_channel_access_token=LINE_TOKEN,
        line_api_base_url=line_server.url,
        line_data_api_base_url=line_server.url,
        line_request_timeout=5.0,
    )


def make_bot_app(settings: Settings) -> FastAPI:
    """The app with the bot worker's delays shortened for tests."""
    from app.main import create_app
    from tests.bot.helpers import FAST_TUNING

    app = create_app(settings)
    app.state.bot_tuning = FAST_TUNING
    return app


def use_faq(app: FastAPI) -> None:
    """End-to-end tests run on the real FAQ engine with the shipped corpus (loaded by the FAQ area)."""
    from faq.service import FaqIndexService

    assert isinstance(getattr(app.state, "faq", None), FaqIndexService)


@pytest.fixture
def bot_app(bot_settings: Settings, fake_line: FakeLine) -> FastAPI:
    return make_bot_app(bot_settings)


@pytest.fixture
def bot_client(bot_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(bot_app) as client:
        use_faq(bot_app)
        yield client
