"""Message building: limits and the templates of both languages."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.templating import TEMPLATES
from bot.conversation import line_messages

BOT_TEMPLATES = TEMPLATES / "messages" / "bot"


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [("abc", 5, "abc"), ("abcdef", 5, "abcd…"), ("住民票の写し", 4, "住民票…")],
)
def test_clip(text: str, limit: int, expected: str) -> None:
    assert line_messages.clip(text, limit) == expected


@pytest.mark.parametrize(
    ("text", "limit", "units"),
    [("a" * 10, 10, 10), ("a" * 11, 10, 10), ("😀" * 6, 10, 9), ("あ😀" * 4, 7, 7)],
)
def test_clip_units_counts_utf16(text: str, limit: int, units: int) -> None:
    clipped = line_messages.clip_units(text, limit)
    assert len(clipped.encode("utf-16-le")) // 2 == units
    assert clipped == text or clipped.endswith(line_messages.ELLIPSIS)


def test_text_message_keeps_at_most_13_quick_replies() -> None:
    items = [line_messages.postback_item(f"b{i}", "a=menu") for i in range(20)]
    message = line_messages.text_message("x", items)
    assert len(message["quickReply"]["items"]) == 13


def _names(lang: str) -> set[str]:
    return {p.name.removesuffix(f".{lang}.txt.j2") for p in BOT_TEMPLATES.glob(f"*.{lang}.txt.j2")}


def test_every_message_exists_in_japanese_and_english() -> None:
    assert _names("ja") == _names("en") and len(_names("ja")) > 15


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_labels_fit_line_buttons(lang: str) -> None:
    module = line_messages._labels(lang)
    labels = {k: v for k, v in vars(module).items() if isinstance(v, str) and not k.startswith("_")}
    assert len(labels) >= 10 and all(0 < len(v) <= 20 for v in labels.values())
    with pytest.raises(KeyError):
        line_messages.label("no_such_label", lang)


def test_templates_are_not_python_strings() -> None:
    """Japanese message text lives in templates, not in the bot's Python code."""
    for path in Path(line_messages.__file__).parent.glob("*.py"):
        if path.name in ("richmenu.py", "simulator.py"):
            continue  # display texts of buttons (postback displayText) and the simulator's profile name
        source = path.read_text(encoding="utf-8")
        code = [line for line in source.splitlines() if not line.lstrip().startswith(("#", '"', "-"))]
        assert not any("ありがとう" in line or "ください" in line for line in code), path.name
