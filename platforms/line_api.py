"""One small async adapter over line-bot-sdk v3: every LINE call of the bot, the notifier and the KPI
collector goes through `LineApi`.

    async with LineApi.open(settings) as api:          # in a lifespan: never at import time
        await api.reply(token, [TextMessage(text="...")])

- One SDK client per API family (messaging, blob, insight), created when opened and reused for
  every call; hosts come from `LINE_API_BASE_URL` / `LINE_DATA_API_BASE_URL`.
- Every call has `_request_timeout=LINE_REQUEST_TIMEOUT` (the SDK's default is 300 s), uses the
  `*_with_http_info` variant and logs `x-line-request-id`, with user IDs masked and never the token.
- Retries, 409-as-success and error typing live in `platforms.line_retry`; the errors are in
  `platforms.line_errors` (re-exported here): LineApiError → LineRequestInvalid, LineClientError
  (ReplyTokenInvalid, LineAuthError, LineNotFound), LineRateLimited, LineUnavailable.
- Messages are SDK message objects (`TextMessage(text=..., quick_reply=QuickReply(...))`); results
  are plain dataclasses (`platforms.line_types`). Creating a rich menu is not idempotent: after an
  ambiguous timeout a retry may leave a second menu of the same name (list and delete by name).
"""

from __future__ import annotations

import datetime as dt
import math
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any, Self, TypeVar
from urllib.parse import urlsplit

from linebot.v3 import insight as li
from linebot.v3 import messaging as lm

from app.privacy import mask_user_id
from app.settings import ConfigError, Settings
from platforms.followers import FollowerCount
from platforms.line_errors import (
    LineApiError,
    LineAuthError,
    LineClientError,
    LineNotFound,
    LineRateLimited,
    LineRequestInvalid,
    LineUnavailable,
    ReplyTokenInvalid,
)
from platforms.line_retry import Answer, RetryPolicy, call
from platforms.line_rich_menus import RichMenuCalls
from platforms.line_types import (
    MAX_MULTICAST,
    LineAccepted,
    NarrowcastProgress,
    Profile,
    Quota,
    build_request,
    check_messages,
    follower_count,
)

__all__ = [
    "LineApi",
    "LineApiError",
    "LineAuthError",
    "LineClientError",
    "LineNotFound",
    "LineRateLimited",
    "LineRequestInvalid",
    "LineUnavailable",
    "ReplyTokenInvalid",
    "RetryPolicy",
    "LineAccepted",
]
Message = Any  # an SDK message object (linebot.v3.messaging.Message subclasses)
OFFICIAL_HOSTS = ("api.line.me", "api-data.line.me")
# Connections per SDK client. The SDK's default (cpu_count x 5: 10 on a 2-core server) would cap a topic
# push's parallel multicasts (notifier.channels.line_channel.PARALLEL_CHUNKS) below LINE's 200 calls/s.
MAX_CONNECTIONS = 64
C = TypeVar("C", lm.Configuration, li.Configuration)


class LineApi(RichMenuCalls):
    """The LINE Messaging and Insight APIs for this channel. Build it with `LineApi.open(settings)`."""

    def __init__(
        self, messaging: Any, blob: Any, insight: Any, *, timeout: float, retry: RetryPolicy
    ) -> None:
        self._messaging = messaging
        self._blob = blob
        self._insight = insight
        self._timeout = timeout
        self._retry = retry

    @staticmethod
    def check_settings(settings: Settings) -> None:
        """Raise `ConfigError` naming LINE_CHANNEL_ACCESS_TOKEN when the real LINE API would be called
        without it (what `open` checks first; commands check it before slow preparations)."""
        token = settings.line_channel_access_token
        if not (token and token.get_secret_value()) and (
            urlsplit(settings.line_api_base_url.rstrip("/")).hostname in OFFICIAL_HOSTS
        ):
            raise ConfigError("LINE_CHANNEL_ACCESS_TOKEN is not set (needed to call the LINE API)")

    @classmethod
    @asynccontextmanager
    async def open(cls, settings: Settings, *, retry: RetryPolicy | None = None) -> AsyncIterator[Self]:
        """Create the SDK clients (needs a running event loop) and close them on exit."""
        cls.check_settings(settings)
        token = settings.line_channel_access_token
        token_value = token.get_secret_value() if token else ""
        api_url = settings.line_api_base_url.rstrip("/")
        data_url = settings.line_data_api_base_url.rstrip("/")
        async with AsyncExitStack() as stack:
            enter = stack.enter_async_context
            msg = await enter(
                lm.AsyncApiClient(_configured(lm.Configuration(host=api_url, access_token=token_value)))
            )
            blob = await enter(
                lm.AsyncApiClient(_configured(lm.Configuration(host=data_url, access_token=token_value)))
            )
            ins = await enter(
                li.AsyncApiClient(_configured(li.Configuration(host=api_url, access_token=token_value)))
            )
            yield cls(
                lm.AsyncMessagingApi(msg),
                lm.AsyncMessagingApiBlob(blob),
                li.AsyncInsight(ins),
                timeout=settings.line_request_timeout,
                retry=retry or RetryPolicy(),
            )

    async def _call(
        self,
        endpoint: str,
        fn: Callable[..., Awaitable[Any]],
        *args: Any,
        retry_key: str | None = None,
        **kw: Any,
    ) -> Answer:
        context = kw.pop("log_context", {})
        if retry_key is not None:
            kw["x_line_retry_key"] = retry_key
        return await call(
            endpoint,
            lambda: fn(*args, _request_timeout=self._timeout, **kw),
            self._retry,
            retry_key=retry_key,
            context=context,
        )

    # ---- sending ----

    async def reply(
        self, reply_token: str, messages: Sequence[Message], *, notification_disabled: bool = False
    ) -> LineAccepted:
        """Reply to an event. Raises `ReplyTokenInvalid` when the token is unknown, used or expired."""
        check_messages(messages, "reply")
        request = build_request(
            "reply",
            lm.ReplyMessageRequest,
            reply_token=reply_token,
            messages=list(messages),
            notification_disabled=notification_disabled,
        )
        answer = await self._call("reply", self._messaging.reply_message_with_http_info, request)
        return _sent(answer)

    async def push(self, to: str, messages: Sequence[Message], retry_key: str | uuid.UUID) -> LineAccepted:
        """Push to one user (or group/room). `retry_key` (a UUID stored with the job) makes retries safe."""
        check_messages(messages, "push")
        request = build_request("push", lm.PushMessageRequest, to=to, messages=list(messages))
        key = _retry_key(retry_key, "push")
        answer = await self._call(
            "push",
            self._messaging.push_message_with_http_info,
            request,
            retry_key=key,
            log_context={"to": mask_user_id(to)},
        )
        return _sent(answer)

    async def multicast(
        self, to: Sequence[str], messages: Sequence[Message], retry_key: str | uuid.UUID
    ) -> LineAccepted:
        """Send to up to 500 users (unknown or blocked IDs are skipped silently by LINE)."""
        check_messages(messages, "multicast")
        if not 1 <= len(to) <= MAX_MULTICAST:
            raise LineRequestInvalid(
                f"LINE multicast: {len(to)} recipients; 1 to {MAX_MULTICAST} are allowed",
                endpoint="multicast",
            )
        request = build_request("multicast", lm.MulticastRequest, to=list(to), messages=list(messages))
        key = _retry_key(retry_key, "multicast")
        answer = await self._call(
            "multicast",
            self._messaging.multicast_with_http_info,
            request,
            retry_key=key,
            log_context={"recipients": len(to)},
        )
        return _sent(answer)

    async def broadcast(self, messages: Sequence[Message], retry_key: str | uuid.UUID) -> LineAccepted:
        """Send to every friend of the account."""
        check_messages(messages, "broadcast")
        request = build_request("broadcast", lm.BroadcastRequest, messages=list(messages))
        key = _retry_key(retry_key, "broadcast")
        answer = await self._call(
            "broadcast", self._messaging.broadcast_with_http_info, request, retry_key=key
        )
        return _sent(answer)

    async def narrowcast(
        self,
        messages: Sequence[Message],
        retry_key: str | uuid.UUID,
        *,
        recipient: Any = None,
        filter: Any = None,
        limit: Any = None,
    ) -> LineAccepted:
        """Send to an audience or demographic filter (SDK `Recipient`/`Filter`/`Limit` objects).
        Asynchronous at LINE: poll `narrowcast_progress(sent.request_id)`."""
        check_messages(messages, "narrowcast")
        request = build_request(
            "narrowcast",
            lm.NarrowcastRequest,
            messages=list(messages),
            recipient=recipient,
            filter=filter,
            limit=limit,
        )
        key = _retry_key(retry_key, "narrowcast")
        answer = await self._call(
            "narrowcast", self._messaging.narrowcast_with_http_info, request, retry_key=key
        )
        return _sent(answer)

    async def narrowcast_progress(self, request_id: str) -> NarrowcastProgress:
        answer = await self._call(
            "narrowcast_progress", self._messaging.get_narrowcast_progress_with_http_info, request_id
        )
        d = answer.data
        return NarrowcastProgress(
            d.phase, d.success_count, d.failure_count, d.target_count, d.error_code, d.failed_description
        )

    async def show_loading(self, chat_id: str, seconds: int = 20) -> None:
        """Show the typing indicator (rounded up to a multiple of 5 within 5–60 seconds)."""
        seconds = max(5, min(60, math.ceil(seconds / 5) * 5))
        request = build_request(
            "loading", lm.ShowLoadingAnimationRequest, chat_id=chat_id, loading_seconds=seconds
        )
        await self._call(
            "loading",
            self._messaging.show_loading_animation_with_http_info,
            request,
            log_context={"to": mask_user_id(chat_id)},
        )

    # ---- reading ----

    async def profile(self, user_id: str) -> Profile:
        """The user's LINE profile. `LineNotFound`: unknown user, or one who blocked the account."""
        answer = await self._call(
            "profile",
            self._messaging.get_profile_with_http_info,
            user_id,
            log_context={"to": mask_user_id(user_id)},
        )
        d = answer.data
        return Profile(d.user_id, d.display_name, d.language, d.picture_url, d.status_message)

    async def content(self, message_id: str) -> bytes:
        """The content (image, video, ...) a user sent, from the data API (`LINE_DATA_API_BASE_URL`).
        `LineNotFound`: unknown or expired message (LINE keeps content for a limited time)."""
        answer = await self._call("content", self._blob.get_message_content_with_http_info, message_id)
        return bytes(answer.data)

    async def followers(self, date: dt.date) -> FollowerCount:
        """Insight follower statistics for a JST date. Never raises: failures become status "error"."""
        try:
            answer = await self._call(
                "insight_followers",
                self._insight.get_number_of_followers_with_http_info,
                var_date=date.strftime("%Y%m%d"),
            )
        except LineApiError as exc:
            return FollowerCount("error", reason=str(exc))
        return follower_count(answer.data)

    async def follower_ids(self, start: str | None = None, limit: int = 1000) -> tuple[list[str], str | None]:
        """One page of follower user IDs and the continuation token (verified accounts only)."""
        limit = max(1, min(1000, limit))
        answer = await self._call(
            "followers_ids", self._messaging.get_followers_with_http_info, start=start, limit=limit
        )
        return list(answer.data.user_ids), answer.data.next

    async def quota(self) -> Quota:
        """The month's message limit and what has been used of it."""
        limit = await self._call("quota", self._messaging.get_message_quota_with_http_info)
        used = await self._call(
            "quota_consumption", self._messaging.get_message_quota_consumption_with_http_info
        )
        value = (
            limit.data.value if str(getattr(limit.data.type, "value", limit.data.type)) == "limited" else None
        )
        return Quota(value, used.data.total_usage)


def _configured(config: C) -> C:
    config.connection_pool_maxsize = MAX_CONNECTIONS
    return config


def _retry_key(value: str | uuid.UUID, endpoint: str) -> str:
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        raise LineRequestInvalid(
            f"LINE {endpoint}: the retry key must be a UUID", endpoint=endpoint
        ) from None


def _sent(answer: Answer) -> LineAccepted:
    """A `LineAccepted` from a 2xx answer or a 409 retry-key repeat (whose body lists the sent messages)."""
    if answer.accepted_before:
        items = (answer.body or {}).get("sentMessages") or []
        return LineAccepted(
            answer.request_id, tuple(str(m.get("id")) for m in items if isinstance(m, dict)), True
        )
    items = getattr(answer.data, "sent_messages", None) or []
    return LineAccepted(answer.request_id, tuple(str(m.id) for m in items))
