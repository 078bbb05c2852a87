"""A preview per channel: the exact texts that would be published, each with its count and limit, how
the channel publishes the languages (`layout`: a thread of posts, one post, each resident theirs), and
the warnings staff should read before scheduling (a LINE topic nobody subscribes to)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from app.settings import Settings
from notifier.channels.channel_base import Channel
from notifier.channels.channel_registry import CHANNELS, missing_credentials
from notifier.compose import PostIn, check_fields, length_problems, render_all
from notifier.problem_texts import say


def audience_warnings(post: PostIn, subscribers: int | None) -> list[dict[str, str]]:
    """What staff should know before scheduling: a LINE push to a topic with no subscribers reaches
    nobody (pure; `subscribers` is the topic's count, None when LINE or the topic is not chosen)."""
    if subscribers != 0 or post.topic is None or "line" not in post.channels:
        return []
    ja = "LINE ではこのトピックの購読者が 0 人のため、0 人の市民に届きます"
    en = "0 residents will receive this on LINE: nobody subscribes to this topic"
    if post.urgency == "emergency":
        ja += "。緊急のお知らせはトピックなし(友だち全員)にしてください"
        en += "; send an emergency without a topic to reach every friend"
    return [{"field": "topic", "message": say("topic", ja, en)}]


def layout(cls: type[Channel]) -> str:
    """How the channel publishes a post's languages: `per_resident` (LINE: each resident theirs),
    `one_post` (Facebook: all below the Japanese), `thread` (the Japanese post, a reply per language)."""
    if cls.max_messages > 1:
        return "per_resident"
    return "one_post" if cls.combined else "thread"


def preview(
    post: PostIn, settings: Settings, now: dt.datetime, subscribers: int | None = None
) -> dict[str, Any]:
    """Rendered messages per channel and language with counts; `problems` lists what would be refused,
    `warnings` what would go out but reach nobody (`subscribers`: the topic's, for LINE)."""
    texts = render_all(post, settings)
    channels: dict[str, Any] = {}
    for name, by_lang in texts.items():
        cls = CHANNELS[name]
        limits = cls.limits(settings)
        languages = {
            lang: [
                {"text": m, "count": limits.count(m), "ok": not limits.problems(m, cls.label)}
                for m in messages
            ]
            for lang, messages in by_lang.items()
        }
        channels[name] = {
            "label": cls.label,
            "limit": limits.limit,
            "unit": limits.unit,
            "limit_source": limits.source,
            "configured": not missing_credentials(name, settings),
            "mode": cls.mode(settings),
            "ok": all(m["ok"] for msgs in languages.values() for m in msgs),
            "languages": languages,
            "layout": layout(cls),
        }
    problems = check_fields(post, settings, now, credentials=True) + length_problems(post, texts, settings)
    return {
        "channels": channels,
        "problems": [{"field": p.field, "message": p.message} for p in problems],
        "warnings": audience_warnings(post, subscribers),
        "subscribers": subscribers,
    }
