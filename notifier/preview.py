"""A preview per channel: the exact texts that would be published, each with its count and limit."""

from __future__ import annotations

import datetime as dt
from typing import Any

from app.settings import Settings
from notifier.channels.channel_registry import CHANNELS, missing_credentials
from notifier.compose import PostIn, check_fields, length_problems, render_all


def preview(post: PostIn, settings: Settings, now: dt.datetime) -> dict[str, Any]:
    """Rendered messages per channel and language with counts; `problems` lists what would be refused."""
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
            "ok": all(m["ok"] for msgs in languages.values() for m in msgs),
            "languages": languages,
        }
    problems = check_fields(post, settings, now, credentials=True) + length_problems(post, texts, settings)
    return {"channels": channels, "problems": [{"field": p.field, "message": p.message} for p in problems]}
