"""The follower sources of the configured channels (wired to `notifier.channels` once they land)."""

from __future__ import annotations

from app.settings import Settings
from notifier.channels.base import FollowerSource


def configured_sources(settings: Settings) -> list[FollowerSource]:
    """One `FollowerSource` per configured channel account."""
    return []
