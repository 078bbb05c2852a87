"""Compose a post: check POST.json, render it for every chosen channel and check each platform's limit.

Every problem names the field it is about (`channels[2]`, `scheduled_at`, `variants.en.body`), so the
CLI can print it and the API can return it, with a message in Japanese and English that names the
field in words (`notifier.problem_texts`). Nothing is ever cut short later at send time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from app.settings import Settings
from app.topics import LANGUAGES
from notifier import emergency_templates
from notifier.channels.channel_base import TextLimits
from notifier.channels.channel_registry import CHANNELS, missing_credentials
from notifier.problem_texts import from_pydantic, jst_text, say
from notifier.render import Content, Draft, render_channel
from storage.db import storable

BODY_MAX = 10_000
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
    body: str = Field(min_length=1, max_length=BODY_MAX)

    _texts = field_validator("title", "body")(storable)


# The emergency templates' approved edits in force (`notifier.template_revisions.effective_texts`):
# `{template id: {language: Text}}`. A template is filled while its post is validated, and validation
# cannot be handed arguments when FastAPI parses a request body, so the routes that compose set this
# first (`notifier.posts_api.effective_templates`; the CLI: `templates_filled_from`); unset, the
# shipped texts are used.
TEMPLATE_TEXTS: ContextVar[Mapping[str, Mapping[str, emergency_templates.Text]]] = ContextVar(
    "template_texts", default=MappingProxyType({})
)


@contextmanager
def templates_filled_from(texts: Mapping[str, Mapping[str, emergency_templates.Text]]) -> Iterator[None]:
    """Within the block, templates are filled from `texts` (then whatever was set before again)."""
    token = TEMPLATE_TEXTS.set(texts)
    try:
        yield
    finally:
        TEMPLATE_TEXTS.reset(token)


class TemplateRef(BaseModel):
    """An emergency template (`GET /api/v1/emergency-templates`) and its slot values: the post's title,
    body and every language's variant are filled from it (a title, body or variant given as well wins)."""

    model_config = ConfigDict(extra="forbid")
    id: str = Field(min_length=1, max_length=64)
    slots: dict[str, emergency_templates.SlotValue] = Field(default_factory=dict, max_length=16)

    @model_validator(mode="after")
    def _fillable(self) -> TemplateRef:
        try:
            emergency_templates.check(self.id, self.slots)
        except emergency_templates.TemplateProblem as exc:
            raise PydanticCustomError("template", "{en}", {"ja": exc.ja, "en": exc.en}) from None
        return self

    def texts(self) -> dict[str, emergency_templates.Text]:
        """Every language filled from the template's effective texts (`TEMPLATE_TEXTS`)."""
        return emergency_templates.fill(self.id, self.slots, TEMPLATE_TEXTS.get().get(self.id))


def _from_template(data: Any) -> Any:
    """POST.json with `template`: title, body and variants filled in where the post does not give them.
    An unusable reference is left for `TemplateRef` to refuse (naming the slot); the title and body
    then get a stand-in so that the refusal is the only problem reported."""
    if not isinstance(data, dict) or not data.get("template"):
        return data
    try:
        ref = TemplateRef.model_validate(data["template"])
    except ValidationError:
        return {"title": "-", "body": "-", **data}
    texts = ref.texts()
    variants = {lang: {"title": t.title, "body": t.body} for lang, t in texts.items() if lang != "ja"}
    given: dict[str, Any] = data["variants"] if isinstance(data.get("variants"), dict) else {}
    return {
        **data,
        "title": data.get("title") or texts["ja"].title,
        "body": data.get("body") or texts["ja"].body,
        "variants": {**variants, **given},
    }


class PostIn(BaseModel):
    """POST.json: a news item and where and when to publish it."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [EXAMPLE]})
    title: str = Field(min_length=1, max_length=200, description="Japanese title")
    body: str = Field(min_length=1, max_length=BODY_MAX, description="Japanese text")
    link: str | None = Field(default=None, max_length=2000)
    topic: str | None = Field(default=None, description="Topic id; null on LINE = broadcast to everyone")
    urgency: Literal["normal", "emergency"] = "normal"
    channels: list[str] = Field(min_length=1, description="line, x, facebook, mastodon, bluesky")
    scheduled_at: AwareDatetime | None = Field(
        default=None, description="ISO 8601 with offset; null = now (a draft without a time: when scheduled)"
    )
    variants: dict[str, VariantIn] = Field(default_factory=dict, description='e.g. {"en": {...}}')
    channel_texts: dict[str, str] = Field(
        default_factory=dict,
        description='Japanese text used instead of `body` on one channel, e.g. {"x": "a shorter version"}',
    )
    template: TemplateRef | None = Field(
        default=None, description='An emergency template: {"id", "slots"}; fills title, body and variants'
    )

    _texts = field_validator("title", "body", "link", "topic")(storable)
    _filled = model_validator(mode="before")(_from_template)


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
class PreparedPost:
    """A checked post: UTC time (the post's own, or now when it has none) and the rendered messages per
    channel and language."""

    post: PostIn
    scheduled_at: dt.datetime
    texts: dict[str, dict[str, list[str]]]
    accounts: dict[str, str]


def parse(data: Any) -> PostIn:
    """Validate the JSON shape, turning pydantic errors into named-field problems."""
    try:
        return PostIn.model_validate(data)
    except ValidationError as exc:
        raise ComposeError([pydantic_problem(e["loc"], e) for e in exc.errors()]) from None


def pydantic_problem(loc: tuple[int | str, ...], error: Any) -> Problem:
    """A pydantic error as a `Problem` whose message names the field in words."""
    field = field_name(loc)
    return Problem(field, from_pydantic(error, field))


def field_name(loc: tuple[int | str, ...]) -> str:
    """A pydantic error location as a field path: `channels[1]`, `variants.en.body`."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(body)"


def draft_of(post: PostIn, settings: Settings, channel: str | None = None) -> Draft:
    """What rendering needs; on `channel`, its own text (if the post has one) replaces the body."""
    topic = settings.topic(post.topic) if post.topic else None
    body = post.channel_texts.get(channel, "") if channel else ""
    return Draft(
        ja=Content(post.title, body.strip() or post.body),
        link=post.link,
        topic_labels={lang: topic.label(lang) for lang in LANGUAGES} if topic else {},
        emergency=post.urgency == "emergency",
        variants={lang: Content(v.title, v.body) for lang, v in post.variants.items()},
    )


def check_fields(post: PostIn, settings: Settings, now: dt.datetime, *, credentials: bool) -> list[Problem]:
    """Problems with channels, topic, link, variants and time (not lengths)."""
    problems: list[Problem] = []

    def add(field: str, ja: str, en: str) -> None:
        problems.append(Problem(field, say(field, ja, en)))

    known_channels = ", ".join(CHANNELS)
    for i, name in enumerate(post.channels):
        field = f"channels[{i}]"
        if name not in CHANNELS:
            add(field, f"{name!r} というチャネルはありません", f"unknown channel {name!r} ({known_channels})")
        elif post.channels.index(name) != i:
            add(field, f"{name} が 2 回選ばれています", f"{name!r} is listed twice")
        elif credentials and (missing := missing_credentials(name, settings)):
            label = CHANNELS[name].label
            add(
                field,
                f"{label} は未設定です({', '.join(missing)} を設定してください)",
                f"{name} is not configured: set {', '.join(missing)}",
            )
    if post.topic is not None and settings.topic(post.topic) is None:
        known = ", ".join(t.id for t in settings.topics)
        add("topic", f"{post.topic!r} というトピックはありません", f"unknown topic {post.topic!r} ({known})")
    if post.link is not None and not _is_web_url(post.link):
        add(
            "link",
            "http:// か https:// で始まるアドレスにしてください",
            "must be an http:// or https:// address",
        )
    for lang in post.variants:
        if lang not in LANGUAGES or lang == "ja":
            others = ", ".join(x for x in LANGUAGES if x != "ja")
            add(
                f"variants.{lang}",
                f"日本語以外の版は {others} です",
                f"the post itself is Japanese; variants: {others}",
            )
    for name, text in post.channel_texts.items():
        field = f"channel_texts.{name}"
        if name not in post.channels:
            add(field, "配信先に選ばれていないチャネルです", f"{name!r} is not among the chosen channels")
        elif len(text) > BODY_MAX:
            add(field, f"{BODY_MAX:,} 文字以内にしてください", f"at most {BODY_MAX:,} characters")
    if post.scheduled_at is not None and post.scheduled_at < now:
        shown = jst_text(post.scheduled_at)
        add(
            "scheduled_at",
            f"{shown} は過去の日時です。「すぐに」を選ぶか、先の日時にしてください",
            f"{shown} is in the past; choose “now” or a later time",
        )
    return problems


def _is_web_url(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc) and not any(c.isspace() for c in value)


def render_all(post: PostIn, settings: Settings) -> dict[str, dict[str, list[str]]]:
    """Messages per known channel and language (each channel with its own text, if the post has one;
    a reply in another language that would not fit in full: its brief form)."""
    texts = {}
    for name in post.channels:
        if (cls := CHANNELS.get(name)) is None:
            continue
        texts[name] = render_channel(
            name,
            cls.post_languages(settings),
            draft_of(post, settings, name),
            single=cls.max_messages == 1,
            combined=cls.combined,
            fits=None if cls.combined or cls.max_messages > 1 else _fits(cls.limits(settings), cls.label),
        )
    return texts


def _fits(limits: TextLimits, label: str) -> Callable[[str], bool]:
    def fits(text: str) -> bool:
        return not limits.problems(text, label)

    return fits


def prime_limits(settings: Settings) -> None:
    """Resolve the text limits of every channel now (a channel reads its account's limits from the
    platform once and caches them; an unconfigured one is still checked when chosen): the staff API
    calls this before it touches the database, so composing never waits for a platform while holding
    a database connection."""
    for cls in CHANNELS.values():
        cls.limits(settings)


def length_problems(
    post: PostIn, texts: dict[str, dict[str, list[str]]], settings: Settings
) -> list[Problem]:
    """Over-limit texts (by the configured account's `TextLimits`) and too many messages per call,
    naming channel, count and limit."""
    problems = []
    for name, by_lang in texts.items():
        cls = CHANNELS[name]
        own = f"channel_texts.{name}" if post.channel_texts.get(name, "").strip() else "body"
        limits = cls.limits(settings)
        for lang, messages in by_lang.items():
            field = own if lang == "ja" else f"variants.{lang}.body"
            for message in messages:
                problems += [
                    Problem(field, say(field, ja, en)) for ja, en in limits.problems(message, cls.label)
                ]
        for group in cls.message_groups(by_lang, post.topic):
            if len(group) > cls.max_messages:
                ja = f"{cls.label} の 1 回の配信で {len(group)} 通になります(上限 {cls.max_messages} 通)"
                en = f"{cls.label}: {len(group)} messages in one call, the limit is {cls.max_messages}"
                problems.append(Problem("body", say("body", ja, en)))
    return problems


def prepare(data: Any, settings: Settings, now: dt.datetime) -> PreparedPost:
    """Everything the ledger needs to schedule the post; raises `ComposeError` listing every problem."""
    post = data if isinstance(data, PostIn) else parse(data)
    problems = check_fields(post, settings, now, credentials=True)
    texts = render_all(post, settings)
    problems += length_problems(post, texts, settings)
    if problems:
        raise ComposeError(problems)
    return PreparedPost(
        post=post,
        scheduled_at=(post.scheduled_at or now).astimezone(dt.UTC),
        texts=texts,
        accounts={name: CHANNELS[name].bound_account(settings) for name in post.channels},
    )
