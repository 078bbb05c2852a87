"""The channel registry: one module per channel behind the `Channel` interface of `base`.

Adding a social network: write `notifier/channels/<name>.py` (a class with the declarative header and
`send` / `find_sent` / `follower_count`), add it to `_CLASSES` below, add its settings to
`app/settings.py` and `.env.example`, a template `templates/messages/notifier/<name>.ja.txt.j2`, a fake
in `fakes/`, its row in the contract test, and a README row. Every channel is also a `FollowerSource`:
the KPI collector opens the configured ones (`kpi.follower_sources`).
"""

from __future__ import annotations

from pydantic import SecretStr

from app.settings import Settings
from notifier.channels.bluesky_channel import BlueskyChannel
from notifier.channels.channel_base import Channel
from notifier.channels.facebook_channel import FacebookChannel
from notifier.channels.line_channel import LineChannel
from notifier.channels.mastodon_channel import MastodonChannel
from notifier.channels.x_channel import XChannel

_CLASSES: tuple[type[Channel], ...] = (
    LineChannel,
    XChannel,
    FacebookChannel,
    MastodonChannel,
    BlueskyChannel,
)
CHANNELS: dict[str, type[Channel]] = {cls.name: cls for cls in _CLASSES}


def missing_credentials(name: str, settings: Settings) -> list[str]:
    """The settings a channel needs that are empty."""
    missing = []
    for setting in CHANNELS[name].credentials:
        value = getattr(settings, setting.lower(), None)
        text = value.get_secret_value() if isinstance(value, SecretStr) else value
        if not (isinstance(text, str) and text.strip()):
            missing.append(setting)
    return missing


def build(name: str, settings: Settings) -> Channel:
    """The channel `name` bound to the configured account."""
    return CHANNELS[name].from_settings(settings)
