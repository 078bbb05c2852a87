"""The conversation, as a pure function: (what the resident did, what we know of them) → the messages
to send and the changes to store. No I/O: the FAQ is passed in, the caller applies the effects.

- Text: a menu keyword (メニュー, 設定, 言語, English, ...) opens that menu; anything else goes to the
  FAQ, whose decision gives an answer (with 👍/👎), three suggestions, or the city's contact details
  (and the question is logged for staff, masked).
- Postbacks: the buttons of `bot.conversation.menus` and `bot.conversation.postback_data`.
- Follow: welcome and the topic chooser. Unfollow: forget the resident.
- Stickers, images, locations, ...: a hint about what the bot can do.

Its inputs and outputs (`Incoming`, `UserState`, `Context`, the effects, `Turn`) are in
`bot.conversation.dialogue_types` and re-exported here.
"""

from __future__ import annotations

import re
import unicodedata

from app.topics import LANGUAGES
from bot.audience import effective_language
from bot.conversation import menus
from bot.conversation import postback_data as pb
from bot.conversation.dialogue_types import (
    Context,
    Effect,
    Feedback,
    Forget,
    Incoming,
    LogUnanswered,
    Remember,
    SetLanguage,
    SetTopics,
    Turn,
    UserState,
)
from bot.conversation.line_messages import label, postback_item, say, text_message
from faq.answer_types import Decision
from faq.normalize import MAX_QUESTION_CHARS

_JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]")
_LATIN = re.compile(r"[A-Za-z]")
_TRAILING = " 　!！?？。.、,"
__all__ = [
    "Context",
    "Effect",
    "Feedback",
    "Forget",
    "Incoming",
    "LogUnanswered",
    "Turn",
    "Remember",
    "SetLanguage",
    "SetTopics",
    "UserState",
    "handle",
]
KEYWORDS: dict[str, tuple[str, dict[str, str]]] = {
    **dict.fromkeys(("メニュー", "めにゅー", "menu", "ヘルプ", "help", "使い方", "つかいかた"), ("menu", {})),
    **dict.fromkeys(("設定", "せってい", "settings", "現在の設定", "my settings"), ("settings", {})),
    **dict.fromkeys(("配信設定", "配信テーマ", "テーマ", "topics", "subscribe"), ("topics", {})),
    **dict.fromkeys(("言語", "げんご", "language", "言語設定"), ("lang", {})),
    **dict.fromkeys(("english", "英語"), ("lang", {"l": "en"})),
    **dict.fromkeys(("日本語", "にほんご", "japanese"), ("lang", {"l": "ja"})),
    **dict.fromkeys(("問い合わせ", "お問い合わせ", "連絡先", "contact"), ("contact", {})),
}


# ---- the conversation ----------------------------------------------------------------------------


def handle(incoming: Incoming, state: UserState, ctx: Context) -> Turn:
    """The bot's response to one event."""
    lang = effective_language(state.language, state.profile_language)
    if incoming.kind == "follow":
        lang = effective_language(state.language, ctx.profile_language)
        greeting = menus.welcome(ctx.topics, state.topics, lang, unblocked=incoming.data == "unblocked")
        return Turn(greeting, [Remember(ctx.profile_language)])
    if incoming.kind == "unfollow":
        return Turn([], [Forget()])
    if incoming.kind == "media":
        return Turn([menus.hint(lang, incoming.data)])
    if incoming.kind == "postback":
        button = pb.decode(incoming.data)
        if button is None:
            return Turn([menus.notice("stale_button", lang)])
        return on_button(button, state, ctx, lang)
    text = incoming.data[: MAX_QUESTION_CHARS + 1]  # cut first (one more: the FAQ still says it cut)
    if state.language is None:
        lang = text_language(text, lang)
    command = keyword(text)
    if command is not None:
        return on_button(pb.Postback(*command), state, ctx, lang)
    return ask(text, ctx, lang)


def keyword(text: str) -> tuple[str, dict[str, str]] | None:
    """The menu command a whole message names (`メニュー`, `English`, ...), or None."""
    key = unicodedata.normalize("NFKC", text).strip(_TRAILING).lower()
    return KEYWORDS.get(key)


def text_language(text: str, default: str) -> str:
    """English for a message in Latin letters only, else `default` (for residents who chose nothing)."""
    if _LATIN.search(text) and not _JAPANESE.search(text):
        return "en"
    return default


def on_button(button: pb.Postback, state: UserState, ctx: Context, lang: str) -> Turn:
    """A menu command, from a postback button or a keyword."""
    action = button.action
    if action in ("menu", "help"):
        return Turn([menus.menu(lang)])
    if action == "topics":
        return Turn([menus.topic_chooser(ctx.topics, state.topics, lang)])
    if action == "settings":
        return Turn([menus.settings(ctx.topics, state.topics, lang, state.language)])
    if action in ("contact", "none"):
        return Turn([menus.contact(lang)])
    if action == "lang":
        return choose_language(button.get("l"), lang)
    if action in ("sub", "unsub"):
        return toggle_topic(button, state, ctx, lang)
    if action == "faq":
        return answer_entry(button.get("e"), ctx, lang)
    return feedback(button, lang)


def choose_language(choice: str, lang: str) -> Turn:
    if choice not in LANGUAGES:
        return Turn([menus.language_chooser(lang)])
    return Turn([menus.notice("language_set", choice)], [SetLanguage(choice)])


def toggle_topic(button: pb.Postback, state: UserState, ctx: Context, lang: str) -> Turn:
    """Subscribe to or leave one topic (or all of them), then show the chooser again."""
    known = {t.id: t for t in ctx.topics}
    wanted = button.get("t")
    subscribe = button.action == "sub"
    if wanted == pb.ALL_TOPICS:
        chosen = frozenset(known) if subscribe else frozenset()
        note = say("all_topics_on" if subscribe else "all_topics_off", lang)
    elif wanted in known:
        chosen = state.topics | {wanted} if subscribe else state.topics - {wanted}
        name = known[wanted].label(lang)
        note = say("topic_on" if subscribe else "topic_off", lang, topic=name)
    else:
        note = say("unknown_topic", lang)
        return Turn([menus.topic_chooser(ctx.topics, state.topics, lang, note=note)])
    chosen = frozenset(t for t in chosen if t in known)
    return Turn([menus.topic_chooser(ctx.topics, chosen, lang, note=note)], [SetTopics(chosen)])


def ask(text: str, ctx: Context, lang: str) -> Turn:
    """A free question for the FAQ."""
    decision = ctx.faq.ask(text, lang=lang) if ctx.faq is not None else Decision("fallback", None, None, 0.0)
    prefix = say("truncated", lang) + "\n\n" if decision.truncated else ""
    if decision.decision == "answer" and decision.answer and decision.entry_id:
        url = _entry_url(ctx, decision.entry_id, lang)
        return answer_message(decision.answer, decision.entry_id, url, ctx, lang, prefix)
    if decision.decision == "suggest" and decision.suggestions:
        return suggestions(decision, lang, prefix)
    effects: list[Effect] = []
    if any(c.isalnum() for c in text):
        effects.append(LogUnanswered(text, lang, decision.score))
    message = text_message(prefix + say("fallback", lang), menus.menu_items(lang))
    return Turn([message], effects)


def _entry_url(ctx: Context, entry_id: str, lang: str) -> str | None:
    entry = ctx.faq.entry(entry_id, lang=lang) if ctx.faq is not None else None
    return getattr(entry, "url", None) if entry is not None else None


def answer_message(
    answer: str, entry_id: str, url: str | None, ctx: Context, lang: str, prefix: str = ""
) -> Turn:
    """The answer, asking whether it helped (👍/👎 buttons carrying the entry and this answer's nonce)."""
    votes = [
        postback_item(label(key, lang), pb.encode("fb", e=entry_id, v=vote, n=ctx.nonce), label(key, lang))
        for key, vote in (("helpful", "1"), ("not_helpful", "0"))
    ]
    text = prefix + say("answer", lang, answer=answer, url=url)
    return Turn([text_message(text, votes)])


def suggestions(decision: Decision, lang: str, prefix: str = "") -> Turn:
    """The top three questions as buttons; tapping one answers it."""
    top = decision.suggestions[:3]
    items = [
        postback_item(f"{i}. {s.question}", pb.encode("faq", e=s.entry_id), s.question)
        for i, s in enumerate(top, 1)
    ]
    items.append(postback_item(label("none_of_these", lang), pb.encode("none"), label("none_of_these", lang)))
    text = prefix + say("suggest", lang, questions=[s.question for s in top])
    return Turn([text_message(text, items)])


def answer_entry(entry_id: str, ctx: Context, lang: str) -> Turn:
    """A tapped suggestion: the entry's answer, or a notice when it no longer exists."""
    entry = ctx.faq.entry(entry_id, lang=lang) if ctx.faq is not None and entry_id else None
    if entry is None:
        return Turn([menus.notice("entry_gone", lang)])
    return answer_message(entry.answer, entry.id, entry.url, ctx, lang)


def feedback(button: pb.Postback, lang: str) -> Turn:
    """👍/👎 on an answer: stored per entry and answer, with no user ID."""
    entry_id, vote, nonce = button.get("e"), button.get("v"), button.get("n")
    if not entry_id or vote not in ("0", "1") or not nonce:
        return Turn([menus.notice("stale_button", lang)])
    if vote == "1":
        thanks = text_message(say("thanks_helpful", lang))
    else:  # offer the ways to reach the city
        thanks = text_message(say("thanks_not_helpful", lang), menus.menu_items(lang))
    return Turn([thanks], [Feedback(entry_id, lang, vote == "1", nonce)])
