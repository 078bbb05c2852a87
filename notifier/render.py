"""Render a post's text per channel and language from `templates/messages/notifier/<channel>.<lang>.txt.j2`,
or, when a channel has no template of its own for a language, the shared layout `_common.<lang>.txt.j2`
(so a new language needs only its `_common` and LINE templates to reach every network).

A template may split its output into several LINE message bubbles with a line `<!-- next message -->`.
A channel that publishes its languages in one post (Facebook) gets the other languages' texts, rendered
with their own templates and without the link (the post carries it once), as `others`. On a network
that publishes the other languages as replies, a reply that would not fit the limit in full is rendered
`brief` (title and link: the full text is behind the link); the Japanese post is never shortened (staff
give a shorter text per channel instead).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

from app.templating import TEMPLATES, render_text

MESSAGE_BREAK = "<!-- next message -->"
# The urgency markers the templates add (【緊急】, [EMERGENCY], one per language) and the ways staff type
# them: a title that already carries one gets no second one.
URGENCY_MARKERS = (
    "【緊急】",
    "[緊急]",
    "［緊急］",
    "[emergency]",
    "［emergency］",
    "【きんきゅう】",
    "【紧急】",
    "[긴급]",
    "[khẩn cấp]",
    "[emergência]",
)


def carries_marker(title: str) -> bool:
    """Whether the title already carries an urgency marker, wherever it is."""
    folded = title.casefold()
    return any(marker in folded for marker in URGENCY_MARKERS)


@dataclass(frozen=True)
class Content:
    """The words of a post in one language."""

    title: str
    body: str


@dataclass(frozen=True)
class Draft:
    """What rendering needs from a post: Japanese content, other languages, link, topic, urgency."""

    ja: Content
    link: str | None = None
    topic_labels: dict[str, str] = field(default_factory=dict)  # language -> label of the topic
    emergency: bool = False
    variants: dict[str, Content] = field(default_factory=dict)

    def content(self, language: str) -> Content | None:
        return self.ja if language == "ja" else self.variants.get(language)


@lru_cache(maxsize=256)
def template_name(channel: str, language: str) -> str:
    """The channel's own template for `language`, else the shared layout of that language."""
    own = f"messages/notifier/{channel}.{language}.txt.j2"
    return own if (TEMPLATES / own).is_file() else f"messages/notifier/_common.{language}.txt.j2"


def render_messages(
    channel: str,
    language: str,
    draft: Draft,
    *,
    others: tuple[str, ...] = (),
    with_link: bool = True,
    brief: bool = False,
) -> list[str]:
    """The message texts of `draft` on `channel` in `language` (one for SNS; up to 5 on LINE);
    `others`: the other languages' texts a one-post channel carries below the Japanese; `brief`: the
    title and link only."""
    content = draft.content(language)
    if content is None:
        raise KeyError(language)
    text = render_text(
        template_name(channel, language),
        title=content.title,
        body=content.body,
        link=draft.link if with_link else None,
        topic_label=draft.topic_labels.get(language),
        emergency=draft.emergency and not carries_marker(content.title),
        language=language,
        others=others,
        brief=brief,
    )
    return [part.strip() for part in text.split(MESSAGE_BREAK) if part.strip()]


def render_channel(
    channel: str,
    languages: tuple[str, ...],
    draft: Draft,
    *,
    single: bool = False,
    combined: bool = False,
    fits: Callable[[str], bool] | None = None,
) -> dict[str, list[str]]:
    """Messages per language for every language the channel publishes and the post has, in the order
    of `languages` (`single`: one message per language, for channels that publish one post;
    `combined`: one Japanese post carrying the other languages below it; `fits`: whether a reply in
    another language fits the channel, else it is rendered brief)."""
    present = [lang for lang in languages if draft.content(lang) is not None]
    if combined:
        others = tuple(
            "\n\n".join(render_messages(channel, lang, draft, with_link=False))
            for lang in present
            if lang != "ja"
        )
        return {"ja": ["\n\n".join(render_messages(channel, "ja", draft, others=others))]}
    texts = {}
    for lang in present:
        messages = render_messages(channel, lang, draft)
        if fits is not None and lang != "ja" and not all(fits(m) for m in messages):
            messages = render_messages(channel, lang, draft, brief=True)
        texts[lang] = ["\n\n".join(messages)] if single else messages
    return texts
