"""Plain results of the LINE API adapter (SDK models stay inside `platforms.line_api`), the client-side
checks the SDK does not make, and the mapping of insight answers onto `FollowerCount`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic.v1 import ValidationError

from platforms.followers import FollowerCount
from platforms.line_errors import LineRequestInvalid

MAX_MESSAGES = 5
MAX_TEXT_UNITS = 5000  # LINE counts text length in UTF-16 code units
MAX_MULTICAST = 500


@dataclass(frozen=True)
class LineAccepted:
    """An accepted send. On a 409 retry-key repeat `accepted_before` is set and `request_id` is the
    ID of the request LINE accepted earlier (`x-line-accepted-request-id`)."""

    request_id: str | None
    message_ids: tuple[str, ...] = ()
    accepted_before: bool = False


@dataclass(frozen=True)
class Profile:
    user_id: str
    display_name: str
    language: str | None = None
    picture_url: str | None = None
    status_message: str | None = None


@dataclass(frozen=True)
class NarrowcastProgress:
    phase: str  # waiting | sending | succeeded | failed
    success_count: int | None = None
    failure_count: int | None = None
    target_count: int | None = None
    error_code: int | None = None
    failed_description: str | None = None


@dataclass(frozen=True)
class RichMenuInfo:
    rich_menu_id: str
    name: str
    chat_bar_text: str
    selected: bool


@dataclass(frozen=True)
class Quota:
    """The month's message quota: `limit` None means unlimited (the local-government plan)."""

    limit: int | None
    used: int


def build_request(endpoint: str, model: Any, **fields: Any) -> Any:
    """An SDK request model; its own validation errors become `LineRequestInvalid` (nothing sent)."""
    try:
        return model(**fields)
    except ValidationError as exc:
        raise LineRequestInvalid(f"LINE {endpoint}: {exc}", endpoint=endpoint) from None


def utf16_units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def check_messages(messages: Sequence[Any], endpoint: str) -> None:
    """Raise `LineRequestInvalid` for what LINE would refuse and the SDK does not check itself."""
    if not 1 <= len(messages) <= MAX_MESSAGES:
        raise LineRequestInvalid(
            f"LINE {endpoint}: {len(messages)} messages; 1 to {MAX_MESSAGES} are allowed", endpoint=endpoint
        )
    for i, message in enumerate(messages):
        text = getattr(message, "text", None)
        if isinstance(text, str) and utf16_units(text) > MAX_TEXT_UNITS:
            raise LineRequestInvalid(
                f"LINE {endpoint}: messages[{i}].text is {utf16_units(text)} UTF-16 units; "
                f"at most {MAX_TEXT_UNITS} are allowed",
                endpoint=endpoint,
            )


def follower_count(data: Any) -> FollowerCount:
    """An insight `GetNumberOfFollowersResponse` as a `FollowerCount` (friends = followers − blocks)."""
    status = getattr(data, "status", None)
    if status == "unready":
        return FollowerCount("unready")
    if status != "ready":
        return FollowerCount("error", reason=f"LINE insight status {status!r}")
    followers, blocks = data.followers, data.blocks
    if followers is None:
        return FollowerCount("error", reason="LINE insight is ready but has no follower count")
    details = {
        "targeted_reaches": data.targeted_reaches,
        "blocks": blocks,
        "friends": followers - blocks if blocks is not None else None,
    }
    friends = followers - blocks if blocks is not None else followers
    return FollowerCount("ok", followers, details, counted=friends)
