"""The channel registry: one module per channel behind the `Channel` base class of `channel_base`.

Adding a social network (see docs/adding-a-channel.md): write `notifier/channels/<name>_channel.py`
(a `Channel` subclass stating its header and `send` / `follower_count`, plus `find_sent` when it has
no idempotency key), add the class to `CHANNELS` below, add its settings to `app/settings.py` and
`.env.example`, a template `templates/messages/notifier/<name>.ja.txt.j2`, a fake in `fakes/` with its
row in the contract test. `/readyz`, the composer, the staff page and the KPI collector all read the
registry: a configured channel (its `credentials` set) is posted to and counted.
"""

from __future__ import annotations

from app.settings import Settings
from notifier.channels.bluesky_channel import BlueskyChannel
from notifier.channels.channel_base import Channel, ChannelMode
from notifier.channels.facebook_channel import FacebookChannel
from notifier.channels.line_channel import LineChannel
from notifier.channels.mastodon_channel import MastodonChannel
from notifier.channels.x_channel import XChannel

CHANNELS: dict[str, type[Channel]] = {
    cls.name: cls for cls in (LineChannel, XChannel, FacebookChannel, MastodonChannel, BlueskyChannel)
}


def missing_credentials(name: str, settings: Settings) -> list[str]:
    """The settings channel `name` needs that are empty."""
    return CHANNELS[name].missing_settings(settings)


def configured(settings: Settings) -> list[str]:
    """The channels whose credentials are set (or that are bound to the app's fakes), in registry order."""
    return [name for name, cls in CHANNELS.items() if not cls.missing_settings(settings)]


def modes(settings: Settings) -> dict[str, ChannelMode]:
    """Every channel's mode (`live`, `demo` or `off`, see `Channel.mode`), in registry order."""
    return {name: cls.mode(settings) for name, cls in CHANNELS.items()}


def demo_candidates(settings: Settings) -> list[str]:
    """The channels that run against the app's fakes in this app: demo mode, no credentials, not bound yet."""
    return [
        name
        for name, cls in CHANNELS.items()
        if cls.mode(settings) == "demo" and not settings.demo_bound(name)
    ]


def build(name: str, settings: Settings) -> Channel:
    """The channel `name` bound to the configured account."""
    return CHANNELS[name].from_settings(settings)
