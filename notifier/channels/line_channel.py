"""LINE through the bot's adapter (`platforms.line_api.LineApi`): a broadcast when the post has no topic,
otherwise multicasts in chunks of 500 to the residents subscribed to the topic, each chunk in the
language its residents read (`app.languages`: seven languages; when the post has no variant in it, its
fallback: English for the foreign languages, then Japanese). With `LINE_EVERYONE=by_language` a post
without a topic goes the multicast way too, to every follower the bot knows.

The recipient chunks are snapshotted at the first send with a retry key each (`PartStore`), so a
retry or a takeover after a crash re-sends only unfinished chunks, with the same key: LINE answers
409 to a repeat and the adapter treats that as success. A broadcast cannot pick languages per
resident: it carries the Japanese message followed by the English one when the post has it (a post in
seven languages reaches each resident in theirs as a topic push, or to everyone with `by_language`).

LINE's 429 carries no `Retry-After` (none is documented): the channel then waits `RATE_LIMIT_PAUSE`,
one token of the broadcast budget (60 per hour), before the engine tries again.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import uuid
from typing import TYPE_CHECKING, Any, Self

from sqlalchemy.orm import Session

from app.languages import LANGUAGES, fallback_chain
from app.settings import Settings
from bot.audience import recipients
from notifier.channels.channel_base import Channel, Outgoing, Part, PartPlan, PartStore, Published
from platforms.call_errors import Ambiguous, ChannelError, RateLimited, Rejected, ServerError
from platforms.counting import utf16_units
from platforms.followers import CountingRules, FollowerCount
from platforms.line_errors import (
    LineApiError,
    LineClientError,
    LineRateLimited,
    LineRequestInvalid,
    LineUnavailable,
)
from storage.rate_budgets import Bucket

if TYPE_CHECKING:
    from platforms.line_api import LineApi, RetryPolicy

# line-bot-sdk takes most of a second to import: the adapter is loaded on first use.

CHUNK = 500
# Chunks in flight at once: enough to reach LINE's 200 multicasts/s at up to ~200 ms per call (the
# adapter's SDK clients keep `platforms.line_api.MAX_CONNECTIONS` connections, more than this).
PARALLEL_CHUNKS = 40
# after a 429 without Retry-After: one call's worth of the hourly broadcast budget (LINE's documented
# limits are per second or per hour, and it asks to find the cause rather than retry at once)
RATE_LIMIT_PAUSE = 60.0
BROADCAST_LANGUAGES = ("ja", "en")  # a broadcast reaches everyone with the same messages (at most 5)


def plan_chunks(session: Session, topic: str | None, languages: set[str]) -> list[PartPlan]:
    """Every subscriber of `topic` (None: every follower the bot knows), grouped by the language they
    will receive, in chunks of 500."""
    by_lang: dict[str, list[str]] = {}
    after: str | None = None
    while page := recipients(session, topic, after=after, limit=20_000):
        for r in page:
            lang = next((step for step in fallback_chain(r.language) if step in languages), "ja")
            by_lang.setdefault(lang, []).append(r.user_id)
        after = page[-1].user_id
    return [
        PartPlan("multicast", lang, tuple(ids[i : i + CHUNK]))
        for lang, ids in sorted(by_lang.items())
        for i in range(0, len(ids), CHUNK)
    ]


class LineChannel(Channel):
    """The city's LINE Official Account."""

    name = "line"
    label = "LINE"
    languages = LANGUAGES
    limit = 5000
    unit = "UTF-16 units per message"
    max_messages = 5
    credentials = ("LINE_CHANNEL_ACCESS_TOKEN",)
    idempotent = True
    key_ttl = 24 * 3600.0
    # insight reports past dates (none before 2016-11-01), 60 calls per rolling hour
    counting = CountingRules(historical=True, history_start=dt.date(2016, 11, 1), calls_per_hour=60)
    buckets = {
        "broadcast": Bucket(60, 3600.0),
        "narrowcast": Bucket(60, 3600.0),
        "multicast": Bucket(200, 1.0),
    }

    def __init__(self, settings: Settings, *, retry: RetryPolicy | None = None) -> None:
        super().__init__(settings)
        self._retry = retry
        self._apis: dict[int, tuple[LineApi, contextlib.AsyncExitStack]] = {}

    @classmethod
    def follower_source(cls, settings: Settings) -> Self:
        """One HTTP call per insight fetch: each takes one slot of LINE's 60/hour budget, and the KPI
        collector retries later itself."""
        from platforms.line_api import RetryPolicy  # line-bot-sdk: loaded only when LINE is used

        return cls(settings, retry=RetryPolicy(attempts=1))

    @staticmethod
    def account_of(settings: Settings) -> str:
        return "official"

    @staticmethod
    def new_key() -> str:
        return str(uuid.uuid4())  # LINE retry keys must be UUIDs

    @staticmethod
    def count(text: str) -> int:
        return utf16_units(text)

    @staticmethod
    def message_groups(texts: dict[str, list[str]], topic: str | None) -> list[list[str]]:
        if topic is None:  # one broadcast carries Japanese, then English
            return [[m for lang in BROADCAST_LANGUAGES if lang in texts for m in texts[lang]]]
        return list(texts.values())

    def _broadcasts(self, out: Outgoing) -> bool:
        return out.topic is None and self.settings.line_everyone == "broadcast"

    def endpoint(self, out: Outgoing) -> str:
        # A multicast fan-out draws from the multicast bucket chunk by chunk (PartStore.throttle).
        return "broadcast" if self._broadcasts(out) else "fanout"

    async def _api(self) -> LineApi:
        from platforms.line_api import LineApi

        loop = id(asyncio.get_running_loop())
        if loop not in self._apis:
            stack = contextlib.AsyncExitStack()
            api = await stack.enter_async_context(LineApi.open(self.settings, retry=self._retry))
            self._apis[loop] = (api, stack)
        return self._apis[loop][0]

    async def send(self, out: Outgoing) -> Published:
        try:
            if self._broadcasts(out):
                return await self._broadcast(out)
            return await self._multicast(out)
        except LineApiError as exc:
            raise _error(exc) from None

    async def _broadcast(self, out: Outgoing) -> Published:
        from linebot.v3.messaging import TextMessage

        messages = [TextMessage(text=t) for t in self.message_groups(out.texts, None)[0]]
        sent = await (await self._api()).broadcast(messages, out.key)
        note = "accepted earlier (retry key)" if sent.accepted_before else "broadcast"
        return Published(platform_id=sent.request_id, request_id=sent.request_id, note=note)

    async def _multicast(self, out: Outgoing) -> Published:
        from linebot.v3.messaging import TextMessage

        parts_store = _parts(out)
        topic = out.topic
        languages = set(out.texts)
        parts = await parts_store.snapshot(lambda session: plan_chunks(session, topic, languages))
        api = await self._api()

        async def push(part: Part) -> tuple[Part, str | None]:
            texts = out.texts.get(part.language) or out.texts["ja"]
            messages = [TextMessage(text=t) for t in texts]
            return part, (await api.multicast(part.recipients, messages, part.retry_key)).request_id

        todo = [p for p in parts if not p.sent]
        # Batches: one rate-limit reservation and one "sent" record per batch. A crash between a
        # chunk's call and its record only means a repeat with the same retry key (answered 409).
        for i in range(0, len(todo), PARALLEL_CHUNKS):
            batch = todo[i : i + PARALLEL_CHUNKS]
            await parts_store.throttle("multicast", self.buckets["multicast"], len(batch))
            results = await asyncio.gather(*(push(p) for p in batch), return_exceptions=True)
            await parts_store.mark_sent([r for r in results if not isinstance(r, BaseException)])
            if errors := [r for r in results if isinstance(r, BaseException)]:
                raise errors[0]
        if not parts:
            nobody = (
                "このトピックの購読者は 0 人: 誰にも届いていません / no subscribers to this topic"
                if topic is not None
                else "ボットが知っている友だちは 0 人: 誰にも届いていません / the bot knows no followers"
            )
            return Published(platform_id=None, note=nobody)
        people = sum(len(p.recipients) for p in todo)
        note = f"{len(parts)} multicast chunk(s); {len(todo)} sent in this attempt to {people} resident(s)"
        return Published(platform_id=f"multicast:{len(parts)}", note=note)

    async def follower_count(self, date: dt.date) -> FollowerCount:
        try:
            api = await self._api()
        except LineApiError as exc:
            return FollowerCount("error", reason=str(exc))
        return await api.followers(date)

    async def aclose(self) -> None:
        for _api, stack in self._apis.values():
            await stack.aclose()
        self._apis.clear()


def _parts(out: Outgoing) -> PartStore:
    if out.parts is None:
        raise Rejected("LINE topic push needs the engine's part store")
    return out.parts


def _error(exc: LineApiError) -> ChannelError:
    kw: dict[str, Any] = {"http_status": exc.status, "request_id": exc.request_id}
    if isinstance(exc, LineRateLimited):
        if exc.kind == "monthly_limit":
            return Rejected(f"{exc} (monthly message limit: resend next month)", **kw)
        wait = exc.retry_after if exc.retry_after else RATE_LIMIT_PAUSE
        return RateLimited(str(exc), retry_at=dt.datetime.now(dt.UTC) + dt.timedelta(seconds=wait), **kw)
    if isinstance(exc, LineRequestInvalid | LineClientError):
        return Rejected(str(exc), **kw)
    if isinstance(exc, LineUnavailable) and exc.status and exc.status >= 500:
        return ServerError(str(exc), **kw)
    return Ambiguous(str(exc), **kw)
