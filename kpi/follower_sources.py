"""The follower sources of the configured channels: the notifier's channels themselves.

Every channel in `notifier.channels.channel_registry` is a `FollowerSource`, and a channel counts as
configured by the registry's one rule (its `credentials` are set).
Channels hold SDK clients, which need a running event loop, so they are opened around each run:

    async with open_sources(settings) as sources:
        await Collector(sessions, sources).run_due()
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

from app.settings import Settings
from notifier.channels.channel_base import Channel
from notifier.channels.channel_registry import CHANNELS, configured


def configured_channels(settings: Settings) -> list[str]:
    """Channels whose follower counts can be collected with the configured credentials."""
    return configured(settings)


def open_channel(name: str, settings: Settings) -> Channel:
    """The channel `name` as a follower source."""
    return CHANNELS[name].follower_source(settings)


@asynccontextmanager
async def open_sources(settings: Settings) -> AsyncIterator[list[Channel]]:
    """Open every configured channel as a follower source, in registry order; close them on exit."""
    async with AsyncExitStack() as stack:
        sources: list[Channel] = []
        for name in configured_channels(settings):
            channel = open_channel(name, settings)
            stack.push_async_callback(channel.aclose)
            sources.append(channel)
        yield sources


def configured_accounts(settings: Settings) -> dict[str, str]:
    """The account of each channel with credentials (a real one, never a demo channel): where imported
    history without an account column belongs, and the name of the channel's one account."""
    return {name: cls.account_of(settings) for name, cls in CHANNELS.items() if cls.mode(settings) == "live"}
