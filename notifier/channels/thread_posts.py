"""A post in several languages as a thread (X, Mastodon, Bluesky): the Japanese post, then each other
language the account publishes as a reply to the post before it.

Each post of the thread is a part of the delivery (`PartStore`), snapshotted at the first send with
its own key (`Channel.part_key`: the Japanese post keeps the delivery's key) and recorded with its
platform id as soon as it is published. A retry skips the recorded posts and replies to the last of
them, so nothing is posted twice and nothing is lost; the delivery's platform id is the Japanese
post's. A look-up after an unclear call (`find_thread`) records every post it finds and settles the
delivery only when the whole thread is there.

The replies are not throttled here: these networks' limits come from their response headers, and a
429 on a reply (`RateLimited`) hands the delivery back until the reset with the posts before it
recorded; waiting in the worker could outlast its lease (X's daily cap resets within 24 hours).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from notifier.channels.channel_base import Channel, Outgoing, Part, PartPlan, Published
from platforms.call_errors import Ambiguous, Rejected


@dataclass(frozen=True)
class ThreadStep:
    """One post to publish: its place, language, text and key; `root` and `parent` are the platform
    ids of the thread's first post and of the post it replies to (None for the first);
    `maybe_sent`: an earlier attempt may have published it."""

    seq: int
    language: str
    text: str
    key: str
    root: str | None
    parent: str | None
    maybe_sent: bool


PostOne = Callable[[ThreadStep], Awaitable[Published]]
FindOne = Callable[[ThreadStep], Awaitable[str | None]]


def thread_languages(out: Outgoing) -> list[str]:
    """The languages of the thread in order: Japanese, then the others as rendered."""
    return ["ja", *(lang for lang in out.texts if lang != "ja")]


def thread_plan(channel: Channel, out: Outgoing) -> list[PartPlan]:
    """One part per language, each with its derived key."""
    return [
        PartPlan("post", lang, key=channel.part_key(out.key, seq))
        for seq, lang in enumerate(thread_languages(out))
    ]


async def _parts(channel: Channel, out: Outgoing) -> list[Part]:
    """The stored parts, or (without the engine's store: a single call) the plan as unsent parts."""
    if out.parts is not None:
        return await out.parts.snapshot(lambda _session: thread_plan(channel, out))
    return [
        Part(
            id=-1, seq=seq, kind=p.kind, language=p.language, recipients=(), retry_key=str(p.key), sent=False
        )
        for seq, p in enumerate(thread_plan(channel, out))
    ]


def _step(out: Outgoing, part: Part, ids: list[str]) -> ThreadStep:
    return ThreadStep(
        seq=part.seq,
        language=part.language,
        text=out.text(part.language),
        key=part.retry_key,
        root=ids[0] if ids else None,
        parent=ids[-1] if ids else None,
        maybe_sent=out.resumed or out.attempt > 1,
    )


def _recorded(part: Part) -> str | None:
    if part.sent and not part.platform_id:
        raise Ambiguous(f"post {part.seq} ({part.language}) of the thread is recorded without its id")
    return part.platform_id if part.sent else None


async def publish_thread(channel: Channel, out: Outgoing, post_one: PostOne) -> Published:
    """Publish the thread's unrecorded posts in order, each recorded as soon as it is out; raise the
    first failure (the posts before it stay recorded for the retry)."""
    parts = await _parts(channel, out)
    if out.parts is None and len(parts) > 1:
        raise Rejected(f"{channel.label}: a post in several languages needs the engine's part store")
    ids: list[str] = []
    last: Published | None = None
    posted: list[str] = []
    for part in parts:
        if (recorded := _recorded(part)) is not None:
            ids.append(recorded)
            continue
        last = await post_one(_step(out, part, ids))
        if not last.platform_id:
            raise Ambiguous(f"{channel.label} answered without the id of post {part.seq}")
        if out.parts is not None:
            await out.parts.mark_published(part, last.platform_id, last.request_id)
        ids.append(last.platform_id)
        posted.append(part.language)
    if len(parts) == 1 and last is not None:
        return last
    note = f"thread of {len(parts)} posts ({', '.join(p.language for p in parts)}); " + (
        f"posted now: {', '.join(posted)}" if posted else "all posted earlier"
    )
    return Published(
        platform_id=ids[0],
        http_status=last.http_status if last else None,
        request_id=last.request_id if last else None,
        rate=last.rate if last else None,
        note=note,
    )


async def find_thread(channel: Channel, out: Outgoing, find_one: FindOne) -> str | None:
    """Reconciliation of a thread: look for each post not recorded yet and record the ones found;
    the Japanese post's id when every post is there (else None: the delivery is not settled)."""
    ids: list[str] = []
    complete = True
    for part in await _parts(channel, out):
        found = _recorded(part)
        if found is None and complete:
            found = await find_one(_step(out, part, ids))
            if found is not None and out.parts is not None:
                await out.parts.mark_published(part, found, None)
        if found is None:
            complete = False  # a later post cannot be a reply to a missing one
            continue
        ids.append(found)
    return ids[0] if complete and ids else None


def language_tag(language: str) -> str:
    """The language code a platform takes for one of `app.languages` (ISO 639-1: `ja-easy` is
    Japanese, `zh-Hans` Chinese)."""
    return language.split("-")[0]
