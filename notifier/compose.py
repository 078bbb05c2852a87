"""Compose a post: check POST.json, render it for every chosen channel and check each platform's limit.

Every problem names the field it is about (`channels[2]`, `scheduled_at`, `variants.en.body`), so the
CLI can print it and the API can return it. Nothing is ever cut short later at send time.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from app.settings import Settings
from app.topics import LANGUAGES
from notifier.channels.channel_registry import CHANNELS, missing_credentials
from notifier.render import Content, Draft, render_channel

EXAMPLE: dict[str, Any] = {
    "title": "防災訓練のお知らせ",
    "body": "11月3日に市内全域で防災訓練を行います。",
    "link": "https://www.city.suita.osaka.jp/",
    "topic": "bousai",
    "urgency": "normal",
    "channels": ["line", "x", "facebook", "mastodon", "bluesky"],
    "scheduled_at": "2030-11-01T09:00:00+09:00",
    "variants": {"en": {"title": "Disaster drill", "body": "A city-wide drill on 3 November."}},
}


class VariantIn(BaseModel):
    """The post in another language."""

    model_config = ConfigDict(extra="forbid")
    title: str = Field(min_length=1, max_length=200)
    body: str = Field(min_length=1, max_length=10_000)


class PostIn(BaseModel):
    """POST.json: a news item and where and when to publish it."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [EXAMPLE]})
    title: str = Field(min_length=1, max_length=200, description="Japanese title")
    body: str = Field(min_length=1, max_length=10_000, description="Japanese text")
    link: str | None = Field(default=None, max_length=2000)
    topic: str | None = Field(default=None, description="Topic id; null on LINE = broadcast to everyone")
    urgency: Literal["normal", "emergency"] = "normal"
    channels: list[str] = Field(min_length=1, description="line, x, facebook, mastodon, bluesky")
    scheduled_at: AwareDatetime | None = Field(default=None, description="ISO 8601 with offset; null = now")
    variants: dict[str, VariantIn] = Field(default_factory=dict, description='e.g. {"en": {...}}')


@dataclass(frozen=True)
class Problem:
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


class ComposeError(ValueError):
    """The post cannot be accepted; `problems` lists each field and what is wrong with it."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems


@dataclass(frozen=True)
class Prepared:
    """A checked post: UTC time and the rendered messages per channel and language."""

    post: PostIn
    scheduled_at: dt.datetime
    texts: dict[str, dict[str, list[str]]]
    accounts: dict[str, str]


def parse(data: Any) -> PostIn:
    """Validate the JSON shape, turning pydantic errors into named-field problems."""
    try:
        return PostIn.model_validate(data)
    except ValidationError as exc:
        raise ComposeError([Problem(field_name(e["loc"]), e["msg"]) for e in exc.errors()]) from None


def field_name(loc: tuple[int | str, ...]) -> str:
    """A pydantic error location as a field path: `channels[1]`, `variants.en.body`."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(body)"


def draft_of(post: PostIn, settings: Settings) -> Draft:
    topic = settings.topic(post.topic) if post.topic else None
    return Draft(
        ja=Content(post.title, post.body),
        link=post.link,
        topic_labels={lang: topic.label(lang) for lang in LANGUAGES} if topic else {},
        emergency=post.urgency == "emergency",
        variants={lang: Content(v.title, v.body) for lang, v in post.variants.items()},
    )


def check_fields(post: PostIn, settings: Settings, now: dt.datetime, *, credentials: bool) -> list[Problem]:
    """Problems with channels, topic, link, variants and time (not lengths)."""
    problems: list[Problem] = []
    for i, name in enumerate(post.channels):
        if name not in CHANNELS:
            problems.append(Problem(f"channels[{i}]", f"unknown channel {name!r} ({', '.join(CHANNELS)})"))
        elif post.channels.index(name) != i:
            problems.append(Problem(f"channels[{i}]", f"{name!r} is listed twice"))
        elif credentials and (missing := missing_credentials(name, settings)):
            problems.append(Problem(f"channels[{i}]", f"{name} is not configured: set {', '.join(missing)}"))
    if post.topic is not None and settings.topic(post.topic) is None:
        known = ", ".join(t.id for t in settings.topics)
        problems.append(Problem("topic", f"unknown topic {post.topic!r} ({known})"))
    if post.link is not None and not _is_web_url(post.link):
        problems.append(Problem("link", "must be an http:// or https:// address"))
    for lang in post.variants:
        if lang not in LANGUAGES or lang == "ja":
            problems.append(Problem(f"variants.{lang}", "the post itself is Japanese; variants: en"))
    if post.scheduled_at is not None and post.scheduled_at < now:
        shown = post.scheduled_at.isoformat()
        problems.append(Problem("scheduled_at", f"{shown} is in the past (null = now)"))
    return problems


def _is_web_url(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc) and not any(c.isspace() for c in value)


def render_all(post: PostIn, settings: Settings) -> dict[str, dict[str, list[str]]]:
    """Messages per known channel and language."""
    draft = draft_of(post, settings)
    return {
        name: render_channel(name, cls.languages, draft, single=cls.max_messages == 1)
        for name in post.channels
        if (cls := CHANNELS.get(name)) is not None
    }


def length_problems(post: PostIn, texts: dict[str, dict[str, list[str]]]) -> list[Problem]:
    """Over-limit texts and too many messages per call, naming channel, count and limit."""
    problems = []
    for name, by_lang in texts.items():
        cls = CHANNELS[name]
        for lang, messages in by_lang.items():
            field = "body" if lang == "ja" else f"variants.{lang}.body"
            for message in messages:
                if (n := cls.count(message)) > cls.limit:
                    problems.append(
                        Problem(field, f"too long for {cls.label}: {n} {cls.unit}, the limit is {cls.limit}")
                    )
        for group in cls.message_groups(by_lang, post.topic):
            if len(group) > cls.max_messages:
                problems.append(
                    Problem(
                        "body",
                        f"{cls.label}: {len(group)} messages in one call, the limit is {cls.max_messages}",
                    )
                )
    return problems


def prepare(data: Any, settings: Settings, now: dt.datetime) -> Prepared:
    """Everything the ledger needs to schedule the post; raises `ComposeError` listing every problem."""
    post = data if isinstance(data, PostIn) else parse(data)
    problems = check_fields(post, settings, now, credentials=True)
    texts = render_all(post, settings)
    problems += length_problems(post, texts)
    if problems:
        raise ComposeError(problems)
    return Prepared(
        post=post,
        scheduled_at=(post.scheduled_at or now).astimezone(dt.UTC),
        texts=texts,
        accounts={name: CHANNELS[name].bound_account(settings) for name in post.channels},
    )
