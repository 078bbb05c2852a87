"""The follower sources of the configured channels.

Sources hold SDK clients, which need a running event loop, so they are opened around each run:

    async with open_sources(settings) as sources:
        await Collector(sessions, sources).run_due()
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

from app.settings import Settings
from notifier.channels.base import FollowerSource

LINE_ACCOUNT = "official"  # the channel's one Official Account


def configured_channels(settings: Settings) -> list[str]:
    """Channels whose follower counts can be collected with the configured credentials."""
    features = settings.features()
    return [name for name in ("line",) if features.get(name)]


@asynccontextmanager
async def open_sources(settings: Settings) -> AsyncIterator[list[FollowerSource]]:
    """Open one `FollowerSource` per configured channel account; close them on exit."""
    sources: list[FollowerSource] = []
    async with AsyncExitStack() as stack:
        if "line" in configured_channels(settings):
            from bot.line_api import LineApi, LineFollowerSource, RetryPolicy

            # One HTTP call per insight fetch: each fetch takes one slot of the 60/hour budget, and
            # the collector itself retries later.
            api = await stack.enter_async_context(LineApi.open(settings, retry=RetryPolicy(attempts=1)))
            sources.append(LineFollowerSource(api, LINE_ACCOUNT))
        yield sources
