"""One module per channel behind one small interface (`notifier.channels.base.Channel`).

The registry lives in `notifier.channels.registry`; the functions here import it on first use, so
`notifier.channels.base` (which the bot's LINE adapter imports) never pulls the channel modules in.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from app.settings import Settings
    from notifier.channels.base import Channel, FollowerSource


def configured(settings: Settings, *, only: tuple[str, ...] | None = None) -> list[Channel]:
    """Every channel whose credentials are set (each is also a `FollowerSource`); close them with
    `await channel.aclose()`."""
    from notifier.channels import registry

    return registry.configured(settings, only=only)


def follower_sources(settings: Settings) -> list[FollowerSource]:
    """The configured channels as follower sources for the KPI collector."""
    from notifier.channels import registry

    return registry.follower_sources(settings)


def build(name: str, settings: Settings) -> Channel:
    """The channel `name` bound to the configured account."""
    from notifier.channels import registry

    return registry.build(name, settings)
