"""LINE message objects (as JSON dicts, the shape the inbox stores and the SDK reads) and the texts
they carry, rendered from `templates/messages/bot/`. Limits are applied here: quick-reply labels of
20 characters, 13 items, texts of 5,000 UTF-16 units."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from app.templating import jinja_env, render_text
from platforms.line_types import MAX_TEXT_UNITS, utf16_units

Message = dict[str, Any]
QuickItem = dict[str, Any]
MAX_LABEL = 20
MAX_QUICK_ITEMS = 13
MAX_DISPLAY_TEXT = 300
ELLIPSIS = "…"


def say(name: str, lang: str, **context: Any) -> str:
    """A message text from `templates/messages/bot/<name>.<lang>.txt.j2`."""
    return render_text(f"messages/bot/{name}.{lang}.txt.j2", **context)


@lru_cache(maxsize=8)
def _labels(lang: str) -> Any:
    return jinja_env().get_template(f"messages/bot/labels.{lang}.txt.j2").module


def label(key: str, lang: str) -> str:
    """A button label from `templates/messages/bot/labels.<lang>.txt.j2` (a `{% set %}` per label)."""
    value = getattr(_labels(lang), key, None)
    if not isinstance(value, str):
        raise KeyError(f"no label {key!r} in labels.{lang}.txt.j2")
    return value


def clip(text: str, limit: int) -> str:
    """At most `limit` characters, with an ellipsis when cut."""
    return text if len(text) <= limit else text[: limit - 1] + ELLIPSIS


def clip_units(text: str, limit: int = MAX_TEXT_UNITS) -> str:
    """At most `limit` UTF-16 code units (LINE's text limit), with an ellipsis when cut."""
    if utf16_units(text) <= limit:
        return text
    units = 0
    for i, char in enumerate(text):
        units += 2 if ord(char) > 0xFFFF else 1
        if units > limit - 1:
            return text[:i] + ELLIPSIS
    return text


def postback_item(text: str, data: str, display: str | None = None) -> QuickItem:
    """A quick-reply button that sends `data` back (and shows `display` as the resident's message)."""
    action: dict[str, Any] = {"type": "postback", "label": clip(text, MAX_LABEL), "data": data}
    if display:
        action["displayText"] = clip(display, MAX_DISPLAY_TEXT)
    return {"type": "action", "action": action}


def text_message(text: str, quick: Sequence[QuickItem] = ()) -> Message:
    """A text message, with quick-reply buttons when given (at most 13 are kept)."""
    message: Message = {"type": "text", "text": clip_units(text)}
    if quick:
        message["quickReply"] = {"items": list(quick)[:MAX_QUICK_ITEMS]}
    return message
