"""Sending a prepared reply: with the reply token while it is fresh, else (or when LINE refuses the
token) as a push whose `X-Line-Retry-Key` is derived from the webhookEventId, so a repeated push of
the same reply is delivered once. Retries of 5xx and timeouts happen inside the adapter.

A token's age counts from when the event reached us, except for a redelivered event
(`deliveryContext.isRedelivery`): LINE issued its token when it first sent the event, so its age
counts from the event's timestamp, and a stale one goes straight to push.

One ambiguity is resolved here: when an earlier attempt of the same reply may have reached LINE (it
timed out, or the process died after sending) and LINE now calls the token invalid, the token was
most likely used by that attempt, so nothing more is sent while the token would still be valid.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import uuid
from dataclasses import dataclass
from typing import Any, Literal

from linebot.v3 import messaging as lm

from app.privacy import mask_user_id
from bot.inbox.inbox_store import Work
from platforms.line_api import (
    LineApi,
    LineApiError,
    LineAuthError,
    LineRateLimited,
    LineUnavailable,
    ReplyTokenInvalid,
)
from storage.base import utcnow

log = logging.getLogger(__name__)

RETRY_KEY_NAMESPACE = uuid.UUID("0b5b1d52-8f0e-4b4e-9d2c-5a4c1f3e2d10")
REPLY_WINDOW = 50.0  # seconds after receipt while the reply token is worth trying (LINE allows ~60)

Way = Literal["reply", "push", "already"]


@dataclass(frozen=True)
class ReplySent:
    way: Way


@dataclass(frozen=True)
class ReplyFailed:
    error: str
    retry: bool  # True: try again later (LINE unavailable, rate limited, token rejected)


def retry_key(event_id: str) -> str:
    """The push retry key of an event's reply: the same for every attempt, in any process."""
    return str(uuid.uuid5(RETRY_KEY_NAMESPACE, event_id))


def token_age(work: Work, now: dt.datetime) -> float:
    """Seconds since LINE issued the event's reply token, as far as we know."""
    since = work.received_at
    if work.redelivered:
        with contextlib.suppress(OverflowError, ValueError, OSError):  # a timestamp no clock shows
            since = min(since, dt.datetime.fromtimestamp(work.event_ts / 1000, dt.UTC))
    return (now - since).total_seconds()


def sdk_messages(messages: list[dict[str, Any]]) -> list[Any]:
    return [lm.Message.from_dict(m) for m in messages]


async def deliver(
    api: LineApi, work: Work, messages: list[dict[str, Any]], *, resumed: bool
) -> ReplySent | ReplyFailed:
    """Send `messages` for `work`. `resumed`: an earlier attempt of this reply may have been sent."""
    try:
        payload = sdk_messages(messages)
    except ValueError as exc:
        return ReplyFailed(f"invalid message: {str(exc)[:200]}", retry=False)
    age = token_age(work, utcnow())
    try:
        if work.reply_token and age < REPLY_WINDOW:
            try:
                await api.reply(work.reply_token, payload)
                return ReplySent("reply")
            except ReplyTokenInvalid as exc:
                if resumed or exc.maybe_delivered:
                    log.info(
                        "reply token already used; not pushing", extra={"chat": mask_user_id(work.chat_id)}
                    )
                    return ReplySent("already")
        await api.push(work.chat_id, payload, retry_key(work.event_id))
        return ReplySent("push")
    except (LineUnavailable, LineRateLimited, LineAuthError) as exc:
        monthly = isinstance(exc, LineRateLimited) and exc.kind == "monthly_limit"
        return ReplyFailed(str(exc), retry=not monthly)
    except LineApiError as exc:
        return ReplyFailed(str(exc), retry=False)
