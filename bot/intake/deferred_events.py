"""What the webhook does with a verified body before it answers 200: only what cannot wait.

line-bot-sdk's models (pydantic v1) cost as much per event as the rest of the request, so the
common events (`message`, `postback`, `follow`, `unfollow` in `active` mode, from a user, group or
room) are only checked for what the inbox needs — the event ID that de-duplicates them, the
timestamp that orders them, the chat that routes them, the reply token — and stored as they came
(kind `event`). The worker parses them with the SDK before handling them (`parse_event`); what the
SDK refuses then becomes a dead letter with the SDK's reason, exactly as if it had been refused
before the 200 (a redelivery would fail the same way). Every other event — standby mode, other types,
any unexpected shape — goes through the SDK at once, as before.
"""

from __future__ import annotations

from typing import Any

from bot.intake.webhook_events import MAX_ID, MAX_TIMESTAMP, MAX_TOKEN, InboxItem, ParsedBody, parse_body

DEFERRED = "event"  # `InboxItem.kind` of an event stored before the SDK parsed it
DEFERRABLE_TYPES = frozenset({"message", "postback", "follow", "unfollow"})
CHAT_KEYS = {"user": "userId", "group": "groupId", "room": "roomId"}


def split_body(body: bytes) -> ParsedBody:
    """Like `bot.intake.webhook_events.parse_body`, but the common events are kept unparsed (kind `event`).

    Raises `MalformedBody` when the body is not JSON."""
    return parse_body(body, early=deferred_item)


def deferred_item(raw: Any, channel: str) -> InboxItem | None:
    """The inbox item of an event of a common shape, to be parsed by the SDK later; None otherwise."""
    if not isinstance(raw, dict) or raw.get("mode") != "active" or raw.get("type") not in DEFERRABLE_TYPES:
        return None
    event_id, timestamp, token = raw.get("webhookEventId"), raw.get("timestamp"), raw.get("replyToken")
    source = raw.get("source")
    if not (_text(event_id, MAX_ID) and type(timestamp) is int and 0 <= timestamp <= MAX_TIMESTAMP):
        return None
    if not (isinstance(source, dict) and (token is None or _text(token, MAX_TOKEN))):
        return None
    chat_key = CHAT_KEYS.get(str(source.get("type")))
    if chat_key is None:
        return None
    chat_id, user_id = source.get(chat_key), source.get("userId")
    if not (_text(chat_id, MAX_ID) and (user_id is None or _text(user_id, MAX_ID))):
        return None
    return InboxItem(str(event_id), str(chat_id), user_id, DEFERRED, timestamp, "", token, channel, raw)


def _text(value: Any, limit: int) -> bool:
    return isinstance(value, str) and 0 < len(value) <= limit
