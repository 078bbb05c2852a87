"""Docs as tests: every registered channel has its settings, template, fake and a row in the channel
table of docs/notifier.md."""

from __future__ import annotations

import pytest

from app.settings import ROOT, Settings
from fakes.__main__ import PLATFORMS
from notifier.channels.channel_registry import CHANNELS
from notifier.render import template_name

NOTIFIER_DOC = (ROOT / "docs" / "notifier.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", sorted(CHANNELS))
def test_channel_is_wired_everywhere(name: str) -> None:
    cls = CHANNELS[name]
    for setting in cls.credentials:
        assert setting.lower() in Settings.model_fields, setting
    for lang in cls.languages:
        assert (ROOT / "templates" / template_name(name, lang)).is_file()
    assert name in PLATFORMS
    assert f"| {cls.label} |" in NOTIFIER_DOC.split("\n## Channels\n")[1].split("\n## ")[0]
