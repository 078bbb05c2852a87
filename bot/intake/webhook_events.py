"""From a webhook body to what the bot stores: signature check, parsing with the SDK, and the compact
form of each event kept in the inbox (pure functions: no I/O).

Only what the conversation needs is kept: the chat, the kind, the text or postback data, the reply
token, whether LINE redelivered the event. Events the SDK cannot parse (a missing field, a bad value)
become dead letters with the reason, naming the event and message type; events the bot does not act
on (join, unsend, read receipts, ...) are skipped; `standby` events are skipped too, except `unfollow`,
which still deletes the resident's data.

LINE adds event and message types without notice, and the SDK refuses what it does not know yet. An
event of an unknown type is stored as skipped (its ID, time and type only: `UnknownEvent`), not as a
dead letter; a message of an unknown type is handled like a sticker or an image: the resident gets the
usual "what I can do" hint.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from linebot.v3 import webhooks as wh
from pydantic.v1 import ValidationError

from app.privacy import mask_ids_in, mask_pii
from storage.db import storable_text

log = logging.getLogger(__name__)
MAX_DEAD_LETTER_CHARS = 20_000
MAX_DEPTH = 32  # a dead letter keeps nesting this deep; deeper values become "[nested]"
# what a dead letter keeps of an event's strings: its structure, never what a resident wrote
KEPT_KEYS = frozenset(
    {
        "type",
        "mode",
        "webhookEventId",
        "destination",
        "userId",
        "groupId",
        "roomId",
        "id",
        "stickerResourceType",
    }
)
MAX_ID = 64  # the inbox's ID columns
MAX_TOKEN = 255
MAX_TIMESTAMP = 2**63 - 1  # a BIGINT column
# a JSON escape of a UTF-16 surrogate: the only way a body that is valid UTF-8 can hold text that
# cannot be stored as UTF-8 (a lone surrogate)
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
SIMULATOR_DESTINATION = "Usimulator"  # `destination` of bodies signed by the simulator page
MEDIA_TYPES = {
    wh.StickerMessageContent: "sticker",
    wh.ImageMessageContent: "image",
    wh.VideoMessageContent: "video",
    wh.AudioMessageContent: "audio",
    wh.FileMessageContent: "file",
    wh.LocationMessageContent: "location",
}
OTHER_MEDIA = "other"  # `data` of a message that is neither text nor a known media type


def media_data(kind: str, details: dict[str, Any]) -> str:
    """`InboxItem.data` of a media message whose details a flow needs (an image's message ID for its
    content, a location's coordinates): the type, a newline, the details as JSON."""
    return f"{kind}\n{json.dumps(details, ensure_ascii=False)}"


def media_parts(data: str) -> tuple[str, dict[str, Any]]:
    """The media type and details of a media item's `data` (empty details when there are none)."""
    kind, _, details = data.partition("\n")
    try:
        parsed = json.loads(details) if details else {}
    except ValueError:
        parsed = {}
    return kind, parsed if isinstance(parsed, dict) else {}


class MalformedBody(ValueError):
    """The body is not JSON at all (a 400)."""


@dataclass(frozen=True)
class InboxItem:
    """One event as the inbox keeps it. `data` is the text (kind "text"), the postback data (kind
    "postback"), the media type (kind "media"; with details for images and locations: `media_data`)
    or `unblocked` (kind "follow"). Kind "event" is an event
    stored before the SDK parsed it (`raw`, see `bot.intake.deferred_events`)."""

    event_id: str
    chat_id: str
    user_id: str | None
    kind: str  # text | postback | media | follow | unfollow
    timestamp: int
    data: str = ""
    reply_token: str | None = None
    channel: str = "line"
    raw: dict[str, Any] | None = None
    redelivered: bool = False  # `deliveryContext.isRedelivery`: the reply token is as old as the event


DeadLetter = tuple[str, str]  # (reason, masked JSON)


@dataclass(frozen=True)
class UnknownEvent:
    """An event of a type line-bot-sdk does not know yet, as the inbox keeps it (status `skipped`):
    its ID (so a redelivery is recognised), its time and its type; nothing of the resident."""

    event_id: str
    timestamp: int
    event_type: str
    channel: str = "line"


@dataclass
class ParsedBody:
    items: list[InboxItem] = field(default_factory=list)
    dead: list[DeadLetter] = field(default_factory=list)
    unknown: list[UnknownEvent] = field(default_factory=list)
    skipped: int = 0

    def add(self, outcome: InboxItem | DeadLetter | UnknownEvent | None) -> None:
        """Keep one event's outcome (None: an event the bot does not act on)."""
        if isinstance(outcome, InboxItem):
            self.items.append(outcome)
        elif isinstance(outcome, UnknownEvent):
            self.unknown.append(outcome)
        elif outcome is None:
            self.skipped += 1
        else:
            self.dead.append(outcome)


def sign(body: bytes, secret: str) -> str:
    """The `X-Line-Signature` of a body: base64 of HMAC-SHA256 with the channel secret."""
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def signature_ok(body: bytes, signature: str | None, secret: str) -> bool:
    """Constant-time comparison of the header with the expected signature."""
    if not signature or not secret:
        return False
    return hmac.compare_digest(
        sign(body, secret).encode("ascii"), signature.strip().encode("ascii", "replace")
    )


def masked(value: Any) -> str:
    """JSON of a value without message texts, with user IDs and personal details masked, cut to a
    bounded size (what a dead letter keeps; always storable as UTF-8)."""
    text = json.dumps(_redact(value), ensure_ascii=False)[: MAX_DEAD_LETTER_CHARS * 2]
    storable = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return mask_pii(mask_ids_in(storable))[:MAX_DEAD_LETTER_CHARS]


def masked_body(body: bytes) -> str:
    """What a dead letter keeps of a whole body: its JSON without message texts (as `masked`), or only
    its size when it cannot be read as JSON."""
    try:
        return masked(json.loads(body))
    except (ValueError, RecursionError):
        return f"[body of {len(body)} bytes, not kept]"


def load_events(body: bytes) -> tuple[list[Any] | DeadLetter, str]:
    """The body's `events` (or the dead letter of a body without an `events` list) and its channel.

    Raises `MalformedBody` when the body is not JSON."""
    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise MalformedBody("the body is not valid JSON") from None
    except RecursionError:
        return ("the body is nested too deeply", f"[body of {len(body)} bytes, not kept]"), "line"
    events = doc.get("events") if isinstance(doc, dict) else None
    if not isinstance(events, list):
        return ("the body has no `events` list", masked(doc)), "line"
    return events, "simulator" if doc.get("destination") == SIMULATOR_DESTINATION else "line"


def parse_body(body: bytes, early: Callable[[Any, str], InboxItem | None] | None = None) -> ParsedBody:
    """Split a verified body into inbox items, dead letters and skipped events, every event parsed by
    the SDK unless `early(raw, channel)` gives its item (`bot.intake.deferred_events`). Raises `MalformedBody`
    when the body is not JSON."""
    events, channel = load_events(body)
    parsed = ParsedBody()
    if not isinstance(events, list):
        parsed.dead.append(events)
        return parsed
    texts_to_check = _SURROGATE_ESCAPE.search(body) is not None
    for raw in events:
        item = early(raw, channel) if early is not None else None
        outcome = item if item is not None else parse_event(raw, channel)
        if isinstance(outcome, InboxItem):
            problem = out_of_range(outcome, texts=texts_to_check)
            if problem is not None:
                outcome = (problem, masked(raw))
        parsed.add(outcome)
    return parsed


def out_of_range(item: InboxItem, *, texts: bool = False) -> str | None:
    """Why the inbox cannot store an item (a field beyond its column, a NUL character, text that is not
    valid UTF-8; with `texts`, its text and raw event too), or None. Such an event is a dead letter: a
    redelivery would fail the same way, and the rest of its body is still stored."""
    if not 0 <= item.timestamp <= MAX_TIMESTAMP:
        return "timestamp out of range"
    fields = (
        ("webhookEventId", item.event_id, MAX_ID),
        ("source ID", item.chat_id, MAX_ID),
        ("userId", item.user_id, MAX_ID),
        ("replyToken", item.reply_token, MAX_TOKEN),
    )
    for name, value, limit in fields:
        if value is not None and not (0 < len(value) <= limit and storable_text(value)):
            return f"{name} out of range (1–{limit} characters, valid UTF-8, no NUL)"
    if texts and not storable_text(json.dumps([item.data, item.raw], ensure_ascii=False)):
        return "the event's text is not valid UTF-8"
    return None


def unknown_event(raw: dict[str, Any], kind: str, channel: str) -> UnknownEvent | None:
    """The record of an event of a type line-bot-sdk does not know (logged with its type); None when
    it has no usable ID or time (then it is only logged)."""
    log.info("webhook: skipped an event of a type line-bot-sdk does not know", extra={"type": kind[:40]})
    event_id, timestamp = raw.get("webhookEventId"), raw.get("timestamp")
    if not (isinstance(event_id, str) and 0 < len(event_id) <= MAX_ID and storable_text(event_id)):
        return None
    if not (type(timestamp) is int and 0 <= timestamp <= MAX_TIMESTAMP):
        return None
    return UnknownEvent(event_id, timestamp, kind[:40] if storable_text(kind[:40]) else "?", channel)


def parse_event(raw: Any, channel: str = "line") -> InboxItem | DeadLetter | UnknownEvent | None:
    """One event through the SDK: its inbox item, its dead letter (what the SDK refused, and why), the
    record of an event of a type the SDK does not know yet, or None for an event the bot does not act on."""
    if not isinstance(raw, dict):
        return ("an event is not a JSON object", masked(raw))
    kind = raw.get("type")
    if not isinstance(kind, str):
        return ("an event has no `type`", masked(raw))
    if wh.Event.get_discriminator_value({"type": kind}) is None:
        return unknown_event(raw, kind, channel)
    message = _new_message_type(raw)
    try:
        if message is not None:
            return _unknown_message(raw, channel)
        return to_item(wh.Event.from_dict(raw), channel)
    except (ValueError, KeyError) as exc:  # pydantic.v1.ValidationError is a ValueError too
        return (_reason(raw, exc, message), masked(raw))
    except (TypeError, AttributeError, RecursionError) as exc:  # shapes the SDK trips over
        return (
            f"line-bot-sdk failed on event type {raw.get('type')!r} ({type(exc).__name__})"[:500],
            masked(raw),
        )


def _new_message_type(raw: dict[str, Any]) -> str | None:
    """The type of a message event's content when the SDK does not know it yet, else None."""
    content = raw.get("message") if raw.get("type") == "message" else None
    kind = content.get("type") if isinstance(content, dict) else None
    if isinstance(kind, str) and wh.MessageContent.get_discriminator_value({"type": kind}) is None:
        return kind
    return None


def _unknown_message(raw: dict[str, Any], channel: str) -> InboxItem | None:
    """A message of a type the SDK does not know: the event around it is still checked by the SDK
    (with the content replaced by an empty text), and the bot answers it as it answers a sticker."""
    content = raw["message"]
    known = {"type": "text", "id": str(content.get("id") or "0"), "text": "", "quoteToken": "-"}
    item = to_item(wh.Event.from_dict({**raw, "message": known}), channel)
    return replace(item, kind="media", data=OTHER_MEDIA) if item is not None else None


def _reason(raw: dict[str, Any], exc: Exception, new_message: str | None = None) -> str:
    """Why the SDK refused an event: the event and message type, and the failing fields (never their
    values) or the part whose type the SDK does not know."""
    kind = raw.get("type")
    content = raw.get("message") if kind == "message" else None
    what = f"event type {kind!r}"
    if isinstance(content, dict):
        what += f" (message type {content.get('type')!r}{', unknown to line-bot-sdk' if new_message else ''})"
    if isinstance(exc, ValidationError):
        fields = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()[:3])
        return f"{what} could not be parsed by line-bot-sdk ({fields})"[:500]
    part = str(exc).partition(" failed to lookup discriminator")[0] if "discriminator" in str(exc) else ""
    if part.isidentifier():
        return f"{what} could not be parsed by line-bot-sdk (a {part} of a type it does not know)"[:500]
    return f"{what} could not be parsed by line-bot-sdk ({type(exc).__name__})"[:500]


def _redact(value: Any, depth: int = 0, key: str = "") -> Any:
    """A copy without texts: a string is kept only under a key that names the event's structure
    (`KEPT_KEYS`; the IDs among them are masked later), any other only as its length; nested at most
    `MAX_DEPTH` deep."""
    if isinstance(value, dict | list) and depth >= MAX_DEPTH:
        return "[nested]"
    if isinstance(value, dict):
        return {k: _redact(v, depth + 1, str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact(v, depth + 1, key) for v in value]
    if isinstance(value, str) and key not in KEPT_KEYS:
        return f"[text: {len(value)} chars]"
    return value


def to_item(event: Any, channel: str = "line") -> InboxItem | None:
    """The inbox form of a parsed SDK event, or None for events the bot does not act on."""
    standby = getattr(getattr(event, "mode", None), "value", None) == "standby"
    if standby and not isinstance(event, wh.UnfollowEvent):
        return None
    source = event.source
    user_id = getattr(source, "user_id", None)
    chat_id = getattr(source, "group_id", None) or getattr(source, "room_id", None) or user_id
    if chat_id is None:
        return None
    kind, data = _kind(event)
    if kind is None:
        return None
    context = getattr(event, "delivery_context", None)
    return InboxItem(
        event_id=event.webhook_event_id,
        chat_id=chat_id,
        user_id=user_id,
        kind=kind,
        timestamp=int(event.timestamp),
        data=data,
        reply_token=getattr(event, "reply_token", None),
        channel=channel,
        redelivered=bool(getattr(context, "is_redelivery", False)),
    )


def _kind(event: Any) -> tuple[str | None, str]:
    if isinstance(event, wh.MessageEvent):
        content = event.message
        if isinstance(content, wh.TextMessageContent):
            return "text", content.text
        kind = MEDIA_TYPES.get(type(content), OTHER_MEDIA)
        if isinstance(content, wh.ImageMessageContent):
            return "media", media_data(kind, {"id": content.id})
        if isinstance(content, wh.LocationMessageContent):
            place = {"lat": content.latitude, "lon": content.longitude, "address": content.address or ""}
            return "media", media_data(kind, {**place, "title": content.title or ""})
        return "media", kind
    if isinstance(event, wh.PostbackEvent):
        return "postback", event.postback.data
    if isinstance(event, wh.FollowEvent):
        unblocked = bool(getattr(event.follow, "is_unblocked", False))
        return "follow", "unblocked" if unblocked else ""
    if isinstance(event, wh.UnfollowEvent):
        return "unfollow", ""
    return None, ""
