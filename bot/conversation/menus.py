"""The bot's menu messages (pure): the main menu, the topic chooser, the language chooser, the current
settings, the welcome, the contact details and the hint for stickers and images."""

from __future__ import annotations

from collections.abc import Sequence

from app.languages import REGISTRY
from app.topics import Topic
from bot.conversation import postback_data as pb
from bot.conversation.line_messages import Message, QuickItem, label, postback_item, say, text_message


def menu_items(lang: str) -> list[QuickItem]:
    """The main menu as quick-reply buttons."""
    return [
        postback_item(label("topics", lang), pb.encode("topics"), label("topics", lang)),
        postback_item(label("language", lang), pb.encode("lang"), label("language", lang)),
        postback_item(label("settings", lang), pb.encode("settings"), label("settings", lang)),
        postback_item(label("contact", lang), pb.encode("contact"), label("contact", lang)),
    ]


def menu(lang: str) -> Message:
    return text_message(say("menu", lang), menu_items(lang))


def topic_items(topics: Sequence[Topic], chosen: frozenset[str], lang: str) -> list[QuickItem]:
    """One toggle per topic (✅ subscribed / ⬜ not), then all, none and done: at most 13 buttons."""
    items = []
    for topic in list(topics)[:10]:
        on = topic.id in chosen
        action = "unsub" if on else "sub"
        shown = f"{'✅' if on else '⬜'} {topic.label(lang)}"
        items.append(postback_item(shown, pb.encode(action, t=topic.id)))
    items.append(postback_item(label("all_topics", lang), pb.encode("sub", t=pb.ALL_TOPICS)))
    items.append(postback_item(label("no_topics", lang), pb.encode("unsub", t=pb.ALL_TOPICS)))
    items.append(postback_item(label("done", lang), pb.encode("settings"), label("done", lang)))
    return items


def topic_lines(topics: Sequence[Topic], chosen: frozenset[str], lang: str) -> list[str]:
    return [f"{'✅' if t.id in chosen else '⬜'} {t.label(lang)}" for t in topics]


def topic_chooser(topics: Sequence[Topic], chosen: frozenset[str], lang: str, note: str = "") -> Message:
    """The topics with their state and the toggles; `note` (e.g. "subscribed to X") comes first."""
    text = say("topics", lang, note=note, lines=topic_lines(topics, chosen, lang))
    return text_message(text, topic_items(topics, chosen, lang))


def language_chooser(lang: str) -> Message:
    """Every language of `app.languages.REGISTRY`, each named in its own script."""
    items = [postback_item(each.name, pb.encode("lang", l=each.id), each.name) for each in REGISTRY]
    return text_message(say("language", lang), items)


def settings(
    topics: Sequence[Topic], chosen: frozenset[str], lang: str, chosen_language: str | None
) -> Message:
    """The resident's current language and topics."""
    names = [t.label(lang) for t in topics if t.id in chosen]
    text = say("settings", lang, topics=names, language=lang, explicit=chosen_language is not None)
    return text_message(text, menu_items(lang))


def welcome(topics: Sequence[Topic], chosen: frozenset[str], lang: str, *, unblocked: bool) -> list[Message]:
    """The greeting, then the invitation to choose topics."""
    return [
        text_message(say("welcome", lang, unblocked=unblocked)),
        topic_chooser(topics, chosen, lang, note=say("choose_topics", lang)),
    ]


def contact(lang: str) -> Message:
    return text_message(say("contact", lang), menu_items(lang))


def hint(lang: str, media: str) -> Message:
    """What the bot can do, for a sticker, image, location and the like."""
    return text_message(say("hint", lang, media=media), menu_items(lang))


def notice(name: str, lang: str, **context: str) -> Message:
    """A short message from a template, followed by the main menu buttons."""
    return text_message(say(name, lang, **context), menu_items(lang))
