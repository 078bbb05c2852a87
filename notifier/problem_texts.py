"""What staff read when a post is refused: Japanese first, then English, naming the field in words
(「配信日時 / When」, not `scheduled_at`), times in Japan time without fractions of a second. Pure
functions; `notifier.compose` and the posts API use them for their own checks and for pydantic's."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

from app.languages import BY_ID
from notifier.channels.channel_registry import CHANNELS

JST = dt.timezone(dt.timedelta(hours=9), "JST")

# field path -> (Japanese, English) name shown to staff
FIELD_NAMES: dict[str, tuple[str, str]] = {
    "title": ("タイトル", "Title"),
    "body": ("本文", "Text"),
    "link": ("リンク", "Link"),
    "topic": ("トピック", "Topic"),
    "urgency": ("緊急度", "Urgency"),
    "channels": ("配信先", "Channels"),
    "scheduled_at": ("配信日時", "When"),
    "variants": ("英語版", "English version"),
    "variants.en": ("英語版", "English version"),
    "variants.en.title": ("英語版のタイトル", "English title"),
    "variants.en.body": ("英語版の本文", "English text"),
    "channel_texts": ("チャネル別の本文", "Text per channel"),
    "template": ("テンプレート", "Template"),
    "draft": ("下書き", "Draft"),
    "outcome": ("対応", "Decision"),
    "platform_id": ("投稿の ID", "Post ID"),
}
CHANNEL_LABELS = {
    "line": "LINE",
    "x": "X",
    "facebook": "Facebook",
    "mastodon": "Mastodon",
    "bluesky": "Bluesky",
}
_INDEX = re.compile(r"\[(\d+)\]$")


def field_words(field: str) -> tuple[str, str]:
    """The field's name in Japanese and English: `channels[1]` → 配信先(2 番目)/ Channels (no. 2),
    `channel_texts.x` → X 用の本文 / Text for X."""
    if match := _INDEX.search(field):
        ja, en = field_words(field[: match.start()])
        n = int(match.group(1)) + 1
        return f"{ja}({n} 番目)", f"{en} (no. {n})"
    if field.startswith("channel_texts."):
        name = field.split(".", 1)[1]
        label = CHANNELS[name].label if name in CHANNELS else name
        return f"{label} 用の本文", f"Text for {label}"
    if field in FIELD_NAMES:
        return FIELD_NAMES[field]
    if field.startswith("variants.") and (lang := BY_ID.get(field.split(".")[1])) is not None:
        part = field.split(".")[2] if field.count(".") == 2 else ""
        ja_part, en_part = {"title": ("のタイトル", " title"), "body": ("の本文", " text")}.get(
            part, ("", " version")
        )
        return f"{lang.japanese}版{ja_part}", f"{lang.english}{en_part}"
    return field, field


def say(field: str, ja: str, en: str) -> str:
    """「名前: 日本語 / Name: English」 for a problem with `field`."""
    name_ja, name_en = field_words(field)
    return f"{name_ja}: {ja} / {name_en}: {en}"


def jst_text(value: dt.datetime) -> str:
    """A time as staff read it: `2030-04-01 09:00 (JST)`; seconds only when there are some."""
    local = value.astimezone(JST).replace(microsecond=0)
    shown = local.strftime("%Y-%m-%d %H:%M:%S" if local.second else "%Y-%m-%d %H:%M")
    return f"{shown} (JST)"


def from_pydantic(error: Mapping[str, Any], field: str) -> str:
    """A pydantic validation error as a message that names `field` in words."""
    kind = str(error.get("type", ""))
    ctx = error.get("ctx") or {}
    if kind == "missing" or (kind == "string_too_short" and ctx.get("min_length") == 1):
        return say(field, "入力してください", "required, please fill it in")
    if kind == "too_short" and field == "channels":
        return say(field, "1 つ以上選んでください", "choose at least 1 channel")
    if kind == "string_too_long":
        n = int(ctx.get("max_length", 0))
        return say(field, f"{n:,} 文字以内にしてください", f"at most {n:,} characters")
    if kind == "literal_error":
        expected = str(ctx.get("expected", ""))
        return say(field, f"次のどれかにしてください: {expected}", f"must be {expected}")
    if kind == "timezone_aware":
        return say(
            field,
            "時差(+09:00 など)付きの日時にしてください",
            "a date and time with its timezone offset, e.g. 2030-04-01T09:00:00+09:00",
        )
    if kind.startswith(("datetime", "date_")):
        return say(
            field,
            "日時の形式が正しくありません(例: 2030-04-01T09:00:00+09:00)",
            "not a valid datetime, e.g. 2030-04-01T09:00:00+09:00",
        )
    if kind == "template":
        return say(field, str(ctx.get("ja", "")), str(ctx.get("en", "")))
    if kind == "extra_forbidden":
        return say(field, "この項目は使えません", "not permitted (no such field)")
    return say(field, "値が正しくありません", str(error.get("msg", "invalid value")))
