"""The channels the KPI counts: every channel of the notifier's registry, under its label (one list of
channels for the whole service)."""

from __future__ import annotations

from notifier.channels.channel_registry import CHANNELS as REGISTRY

CHANNELS: tuple[str, ...] = tuple(REGISTRY)
CHANNEL_LABELS: dict[str, str] = {name: cls.label for name, cls in REGISTRY.items()}
