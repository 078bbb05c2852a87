"""Webhook events as LINE sends them, for whoever plays the LINE platform: the simulator page, tests
and benchmarks. Every event carries the fields line-bot-sdk requires (`mode`, `webhookEventId`,
`deliveryContext`, `quoteToken` on messages), and `signed` signs a body like LINE does."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import time
import uuid
from typing import Any

Event = dict[str, Any]
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def event_id(ms: int | None = None) -> str:
    """A ULID (what LINE uses for webhookEventId): 48-bit time then 80 random bits, Crockford base32."""
    value = ((ms if ms is not None else int(time.time() * 1000)) << 80) | int.from_bytes(os.urandom(10))
    return "".join(_CROCKFORD[(value >> shift) & 31] for shift in range(125, -1, -5))


def _base(kind: str, user_id: str, *, ts: int | None, mode: str, redelivery: bool) -> Event:
    ms = ts if ts is not None else int(time.time() * 1000)
    return {
        "type": kind,
        "mode": mode,
        "timestamp": ms,
        "source": {"type": "user", "userId": user_id},
        "webhookEventId": event_id(ms),
        "deliveryContext": {"isRedelivery": redelivery},
    }


def _message_id() -> str:
    return str(uuid.uuid4().int % 10**18)


def message_event(
    user_id: str,
    message: dict[str, Any],
    reply_token: str | None = None,
    *,
    ts: int | None = None,
    mode: str = "active",
    redelivery: bool = False,
) -> Event:
    """A message event; `message` is the content without `id` and `quoteToken` (added here)."""
    event = _base("message", user_id, ts=ts, mode=mode, redelivery=redelivery)
    content = {"id": _message_id(), **message}
    if content.get("type") not in ("location", "audio", "file"):
        content.setdefault("quoteToken", uuid.uuid4().hex)
    event["replyToken"] = reply_token or uuid.uuid4().hex
    event["message"] = content
    return event


def text_event(user_id: str, text: str, reply_token: str | None = None, **kw: Any) -> Event:
    return message_event(user_id, {"type": "text", "text": text}, reply_token, **kw)


def sticker_event(user_id: str, reply_token: str | None = None, **kw: Any) -> Event:
    sticker = {"type": "sticker", "packageId": "446", "stickerId": "1988", "stickerResourceType": "STATIC"}
    return message_event(user_id, sticker, reply_token, **kw)


def image_event(user_id: str, reply_token: str | None = None, **kw: Any) -> Event:
    return message_event(user_id, {"type": "image", "contentProvider": {"type": "line"}}, reply_token, **kw)


def location_event(user_id: str, reply_token: str | None = None, **kw: Any) -> Event:
    place = {"type": "location", "title": "吹田市役所", "latitude": 34.7594, "longitude": 135.5169}
    return message_event(user_id, place, reply_token, **kw)


def postback_event(
    user_id: str, data: str, reply_token: str | None = None, *, ts: int | None = None, mode: str = "active"
) -> Event:
    event = _base("postback", user_id, ts=ts, mode=mode, redelivery=False)
    event["replyToken"] = reply_token or uuid.uuid4().hex
    event["postback"] = {"data": data}
    return event


def follow_event(
    user_id: str, reply_token: str | None = None, *, unblocked: bool = False, ts: int | None = None
) -> Event:
    event = _base("follow", user_id, ts=ts, mode="active", redelivery=False)
    event["replyToken"] = reply_token or uuid.uuid4().hex
    event["follow"] = {"isUnblocked": unblocked}
    return event


def unfollow_event(user_id: str, *, ts: int | None = None, mode: str = "active") -> Event:
    return _base("unfollow", user_id, ts=ts, mode=mode, redelivery=False)


def body(events: list[Event], destination: str = "U" + "f" * 32) -> bytes:
    """A webhook body as LINE sends it."""
    return json.dumps({"destination": destination, "events": events}, ensure_ascii=False).encode("utf-8")


def signature(raw: bytes, channel_secret: str) -> str:
    return base64.b64encode(hmac.new(channel_secret.encode(), raw, hashlib.sha256).digest()).decode()


def signed(raw: bytes, channel_secret: str) -> dict[str, str]:
    """Headers LINE sends with a body."""
    return {
        "content-type": "application/json; charset=utf-8",
        "x-line-signature": signature(raw, channel_secret),
        "user-agent": "LineBotWebhook/2.0",
    }


def sample_photo(color: tuple[int, int, int] = (90, 140, 200)) -> bytes:
    """A small JPEG with EXIF (a camera name), as a phone sends one: what the simulator's and the tests'
    image messages carry as their content."""
    import io

    from PIL import Image

    exif = Image.Exif()
    exif[0x010F] = "SimulatorCam"
    out = io.BytesIO()
    Image.new("RGB", (160, 120), color).save(out, format="JPEG", exif=exif)
    return out.getvalue()
