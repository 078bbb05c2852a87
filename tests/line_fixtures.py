"""LINE adapter fixtures (registered by `tests/conftest.py`): one fake LINE server per module (reset
before each test), a manual clock for reply-token and retry-key expiry, settings pointing the real SDK at the fake."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator, Iterator

import pytest
from PIL import Image

from app.settings import Settings
from fakes.fake_line import FakeLine
from fakes.fake_server import FakeServer
from platforms.line_api import LineApi, RetryPolicy
from tests.conftest import make_settings

LINE_TOKEN = "test-channel-access-token"
FAST_RETRY = RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.02, total_seconds=5.0)


def user_id(n: int) -> str:
    """A well-formed LINE user ID."""
    return f"U{n:032x}"


class ManualClock:
    """A monotonic clock that moves only when told."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def png(width: int, height: int) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (width, height), "#00a0e9").save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture(scope="module")
def line_server() -> Iterator[FakeServer]:
    with FakeServer(FakeLine(access_token=LINE_TOKEN)) as server:
        yield server


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def fake_line(line_server: FakeServer, clock: ManualClock) -> FakeLine:
    """The fake, reset: no state, no faults, no calls, default limits, the manual clock."""
    fake = line_server.platform
    assert isinstance(fake, FakeLine)
    line_server.state.reset()
    fake.reset()
    fake.clock = clock
    fake.rate_limits = {}
    fake.reply_token_ttl = 60.0
    return fake


@pytest.fixture
def line_settings(line_server: FakeServer) -> Settings:
    """Settings for the adapter only (it needs no database)."""
    return make_settings(
        "sqlite://",
        line_api_base_url=line_server.url,
        line_data_api_base_url=line_server.url + "/",
        line_channel_access_token=LINE_TOKEN,
        line_request_timeout=5.0,
    )


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def impatient_line_api(line_settings: Settings, fake_line: FakeLine) -> AsyncIterator[LineApi]:
    """An adapter that gives up on a call after 0.5 s, for the timeout tests."""
    settings = line_settings.model_copy(update={"line_request_timeout": 0.5})
    async with LineApi.open(settings, retry=FAST_RETRY) as api:
        yield api


@pytest.fixture
async def line_api(line_settings: Settings, fake_line: FakeLine) -> AsyncIterator[LineApi]:
    async with LineApi.open(line_settings, retry=FAST_RETRY) as api:
        yield api
