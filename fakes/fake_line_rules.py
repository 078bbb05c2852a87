"""The request rules the fake LINE server enforces, as pure functions (no state, no HTTP).

Each check returns LINE-style error details, `{"message": ..., "property": ...}`, empty when the
request is valid. Limits follow the Messaging API reference. The fake deliberately does not import
the bot's own client-side checks: an independent implementation is what catches the client's bugs.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Any

MAX_MESSAGES = 5
MAX_TEXT = 5000  # UTF-16 code units
MAX_QUICK_REPLY = 13
MAX_POSTBACK_DATA = 300
MAX_MULTICAST = 500
MAX_BODY = 2 * 1024 * 1024
MAX_RICH_MENU_IMAGE = 1024 * 1024
MESSAGE_TYPES = frozenset(
    {"text", "textV2", "sticker", "image", "video", "audio", "location", "imagemap", "template", "flex"}
)
# user, group and room IDs
CHAT_ID = re.compile(r"^[UCR][0-9a-f]{32}$")
USER_ID = re.compile(r"^U[0-9a-f]{32}$")

Detail = dict[str, str]


def detail(message: str, prop: str) -> Detail:
    return {"message": message, "property": prop}


def error_body(message: str, details: list[Detail] | None = None) -> dict[str, Any]:
    """The JSON body of a LINE error answer."""
    return {"message": message, "details": details} if details else {"message": message}


def utf16_units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def is_uuid(value: str) -> bool:
    try:
        return str(uuid.UUID(value)) == value.lower()
    except ValueError:
        return False


def message_errors(messages: Any) -> list[Detail]:
    """Errors of a `messages` array (1–5 message objects)."""
    if not isinstance(messages, list) or not 1 <= len(messages) <= MAX_MESSAGES:
        return [detail(f"Size must be between 1 and {MAX_MESSAGES}", "messages")]
    errors: list[Detail] = []
    for i, message in enumerate(messages):
        errors += _one_message(message, f"messages[{i}]")
    return errors


def _one_message(message: Any, prop: str) -> list[Detail]:
    if not isinstance(message, dict):
        return [detail("Must be an object", prop)]
    kind = message.get("type")
    if kind not in MESSAGE_TYPES:
        return [detail("Must be one of the following values: " + ", ".join(sorted(MESSAGE_TYPES)), prop)]
    errors: list[Detail] = []
    if kind in ("text", "textV2"):
        text = message.get("text")
        if not isinstance(text, str) or not text:
            errors.append(detail("May not be empty", f"{prop}.text"))
        elif utf16_units(text) > MAX_TEXT:
            errors.append(detail(f"Length must be between 0 and {MAX_TEXT}", f"{prop}.text"))
    quick = message.get("quickReply")
    if quick is not None:
        items = quick.get("items") if isinstance(quick, dict) else None
        if not isinstance(items, list) or not 1 <= len(items) <= MAX_QUICK_REPLY:
            errors.append(detail(f"Size must be between 1 and {MAX_QUICK_REPLY}", f"{prop}.quickReply.items"))
    for path, node in _walk(message, prop):
        if node.get("type") == "postback":
            data = node.get("data")
            if not isinstance(data, str) or len(data) > MAX_POSTBACK_DATA:
                errors.append(detail(f"Length must be between 0 and {MAX_POSTBACK_DATA}", f"{path}.data"))
    return errors


def _walk(node: Any, path: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every object nested in a message, with its property path (to find actions anywhere)."""
    if isinstance(node, dict):
        yield path, node
        for key, value in node.items():
            yield from _walk(value, f"{path}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _walk(value, f"{path}[{i}]")


def recipient_errors(to: Any, *, many: bool) -> list[Detail]:
    """Errors of the `to` of a push (one chat ID) or a multicast (1–500 user IDs)."""
    if not many:
        return [] if isinstance(to, str) and CHAT_ID.match(to) else [detail("Invalid chat ID", "to")]
    if not isinstance(to, list) or not 1 <= len(to) <= MAX_MULTICAST:
        return [detail(f"Size must be between 1 and {MAX_MULTICAST}", "to")]
    return [detail("Invalid user ID", f"to[{i}]") for i, u in enumerate(to) if not USER_ID.match(str(u))]


def rich_menu_errors(menu: Any) -> list[Detail]:
    """Errors of a rich menu object (size, name, chat bar text, tappable areas)."""
    if not isinstance(menu, dict):
        return [detail("Must be an object", "richMenu")]
    errors: list[Detail] = []
    size = menu.get("size")
    width, height = (size.get("width"), size.get("height")) if isinstance(size, dict) else (None, None)
    if not (isinstance(width, int) and isinstance(height, int)):
        return [detail("May not be empty", "size")]
    if not 800 <= width <= 2500 or height < 250 or width / height < 1.45:
        errors.append(
            detail("Width must be 800-2500 px, height at least 250 px, ratio at least 1.45", "size")
        )
    if not isinstance(menu.get("selected"), bool):
        errors.append(detail("May not be empty", "selected"))
    for key, limit in (("name", 300), ("chatBarText", 14)):
        value = menu.get(key)
        if not isinstance(value, str) or not 1 <= len(value) <= limit:
            errors.append(detail(f"Length must be between 1 and {limit}", key))
    areas = menu.get("areas")
    if not isinstance(areas, list) or len(areas) > 20:
        return [*errors, detail("Size must be between 0 and 20", "areas")]
    for i, area in enumerate(areas):
        errors += _area_errors(area, width, height, f"areas[{i}]")
    return errors


def _area_errors(area: Any, width: int, height: int, prop: str) -> list[Detail]:
    bounds = area.get("bounds") if isinstance(area, dict) else None
    action = area.get("action") if isinstance(area, dict) else None
    errors: list[Detail] = []
    if not isinstance(bounds, dict) or not all(isinstance(bounds.get(k), int) for k in "xy"):
        return [detail("May not be empty", f"{prop}.bounds")]
    w, h = bounds.get("width"), bounds.get("height")
    if not (isinstance(w, int) and isinstance(h, int) and w > 0 and h > 0):
        errors.append(detail("Must be positive", f"{prop}.bounds"))
    elif bounds["x"] < 0 or bounds["y"] < 0 or bounds["x"] + w > width or bounds["y"] + h > height:
        errors.append(detail("Must lie within the rich menu", f"{prop}.bounds"))
    if not isinstance(action, dict) or not isinstance(action.get("type"), str):
        errors.append(detail("May not be empty", f"{prop}.action"))
    elif action["type"] == "postback" and len(str(action.get("data", ""))) > MAX_POSTBACK_DATA:
        errors.append(detail(f"Length must be between 0 and {MAX_POSTBACK_DATA}", f"{prop}.action.data"))
    return errors
