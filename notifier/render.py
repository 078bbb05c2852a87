"""Render a post's text per channel and language from `templates/messages/notifier/<channel>.<lang>.txt.j2`.

A template may split its output into several LINE message bubbles with a line `<!-- next message -->`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from app.templating import render_text

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


def template_name(channel: str, language: str) -> str:
    return f"messages/notifier/{channel}.{language}.txt.j2"


def render_messages(channel: str, language: str, draft: Draft) -> list[str]:
    """The message texts of `draft` on `channel` in `language` (one for SNS; up to 5 on LINE)."""
    content = draft.content(language)
    if content is None:
        raise KeyError(language)
    text = render_text(
        template_name(channel, language),
        title=content.title,
        body=content.body,
        link=draft.link,
        topic_label=draft.topic_labels.get(language),
        emergency=draft.emergency and not carries_marker(content.title),
        language=language,
        # an emergency's English text, for the channels that publish it with the Japanese (Facebook)
        english=draft.variants.get("en") if draft.emergency and language == "ja" else None,
    )
    return [part.strip() for part in text.split(MESSAGE_BREAK) if part.strip()]


def render_channel(
    channel: str, languages: tuple[str, ...], draft: Draft, *, single: bool = False
) -> dict[str, list[str]]:
    """Messages per language for every language the channel publishes and the post has
    (`single`: one message per language, for channels that publish one post)."""
    texts = {}
    for lang in languages:
        if draft.content(lang) is not None:
            messages = render_messages(channel, lang, draft)
            texts[lang] = ["\n\n".join(messages)] if single else messages
    return texts
