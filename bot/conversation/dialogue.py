"""The conversation, as a pure function: (what the resident did, what we know of them) → the messages
to send and the changes to store. No I/O: the FAQ is passed in, the caller applies the effects.

- Text: a menu keyword (メニュー, 設定, 言語, English, ...) opens that menu; anything else goes to the
  FAQ, whose decision gives an answer (with its source, 👍/👎 and "talk to the city"), three
  suggestions, a kind reply to small talk, or the city's contact details. Every decision is recorded
  for staff's improvement loop (`RecordQuestion`; a fallback's question is logged, masked).
- Postbacks: the buttons of `bot.conversation.menus` and `bot.conversation.postback_data`, handled
  by the function `BUTTONS` names for their action. A tapped suggestion and a vote carry the nonce of
  the reply that offered them, so staff see which question led to the pick or the 👎.
- Follow: welcome and the topic chooser. Unfollow: forget the resident.
- Stickers, images, locations, ...: a hint about what the bot can do.

Its inputs and outputs (`Incoming`, `UserState`, `Context`, the effects, `Turn`) are in
`bot.conversation.dialogue_types` and re-exported here.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Sequence

from app.languages import LANGUAGES, REGISTRY
from bot.audience import effective_language
from bot.conversation import menus
from bot.conversation import postback_data as pb
from bot.conversation.dialogue_types import (
    Context,
    Effect,
    Forget,
    Headline,
    Incoming,
    RecordPick,
    RecordQuestion,
    RecordVote,
    Remember,
    SetLanguage,
    SetTopics,
    Turn,
    UserState,
)
from bot.conversation.line_messages import (
    Message,
    QuickItem,
    clip_units,
    label,
    postback_item,
    say,
    text_message,
)
from faq.answer_text import source_line
from faq.answer_types import Decision, FaqEntryView
from faq.normalize import MAX_QUESTION_CHARS
from faq.question_language import detect

_TRAILING = " 　!！?？。.、,"
__all__ = [
    "Context",
    "Effect",
    "Forget",
    "Headline",
    "Incoming",
    "RecordPick",
    "RecordQuestion",
    "RecordVote",
    "Turn",
    "Remember",
    "SetLanguage",
    "SetTopics",
    "UserState",
    "handle",
]
KEYWORDS: dict[str, tuple[str, dict[str, str]]] = {
    **dict.fromkeys(
        (
            "メニュー",
            "めにゅー",
            "menu",
            "ヘルプ",
            "help",
            "使い方",
            "つかいかた",
            "菜单",
            "메뉴",
            "thực đơn",
            "ajuda",
        ),
        ("menu", {}),
    ),
    **dict.fromkeys(("設定", "せってい", "settings", "現在の設定", "my settings"), ("settings", {})),
    **dict.fromkeys(("配信設定", "配信テーマ", "テーマ", "topics", "subscribe"), ("topics", {})),
    **dict.fromkeys(
        ("言語", "げんご", "ことば", "language", "言語設定", "语言", "언어", "ngôn ngữ", "idioma", "língua"),
        ("lang", {}),
    ),
    **dict.fromkeys(("english", "英語"), ("lang", {"l": "en"})),
    **dict.fromkeys(("日本語", "にほんご", "japanese"), ("lang", {"l": "ja"})),
    **dict.fromkeys(("やさしいにほんご", "easy japanese"), ("lang", {"l": "ja-easy"})),
    **dict.fromkeys(("中文", "简体中文", "chinese"), ("lang", {"l": "zh-Hans"})),
    **dict.fromkeys(("korean",), ("lang", {"l": "ko"})),
    **dict.fromkeys(("vietnamese", "tieng viet"), ("lang", {"l": "vi"})),
    **dict.fromkeys(("portuguese", "portugues"), ("lang", {"l": "pt"})),
    # every language's own name (as the language menu shows it) chooses it
    **{unicodedata.normalize("NFKC", lang.name).lower(): ("lang", {"l": lang.id}) for lang in REGISTRY},
    **dict.fromkeys(("問い合わせ", "お問い合わせ", "連絡先", "contact"), ("contact", {})),
    **dict.fromkeys(("緊急連絡先", "emergency numbers", "110", "119"), ("emergency", {})),
}


# ---- the conversation ----------------------------------------------------------------------------


def handle(incoming: Incoming, state: UserState, ctx: Context) -> Turn:
    """The bot's response to one event; in disaster mode (`ctx.disaster`) its first message starts
    with the city's headline, introduced in the resident's language."""
    turn = respond(incoming, state, ctx)
    if ctx.disaster is None or not turn.messages:
        return turn
    lang = effective_language(state.language, state.profile_language or ctx.profile_language)
    if incoming.kind == "text" and state.language is None:
        lang = text_language(incoming.data[:MAX_QUESTION_CHARS], lang)
    headline = say("disaster_headline", lang, headline=ctx.disaster.headline, link=ctx.disaster.link)
    first = dict(turn.messages[0])
    first["text"] = clip_units(f"{headline}\n\n{first['text']}")
    return Turn([first, *turn.messages[1:]], turn.effects)


def respond(incoming: Incoming, state: UserState, ctx: Context) -> Turn:
    """The bot's response to one event, without the disaster headline."""
    lang = effective_language(state.language, state.profile_language)
    if incoming.kind == "follow":
        lang = effective_language(state.language, ctx.profile_language)
        greeting = menus.welcome(ctx.topics, state.topics, lang, unblocked=incoming.data == "unblocked")
        return Turn(greeting, [Remember(ctx.profile_language)])
    if incoming.kind == "unfollow":
        return Turn([], [Forget()])
    if incoming.kind == "media":
        return Turn([menus.hint(lang, incoming.data.partition("\n")[0])])  # the type, without details
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
    """The language a message is written in when it is not Japanese (Hangul: Korean; Chinese;
    Vietnamese or Portuguese letters and words; other Latin letters: English), else `default` (for
    residents who chose nothing: `faq.question_language.detect`). Plain Latin letters are no sign of
    English from a resident whose LINE profile gave another foreign language (`menu` from a
    Vietnamese profile stays Vietnamese)."""
    found = detect(text)
    if found == "ja" or (found == "en" and default != "ja"):
        return default
    return found


Button = Callable[[pb.Postback, UserState, Context, str], Turn]


def on_button(button: pb.Postback, state: UserState, ctx: Context, lang: str) -> Turn:
    """A menu command, from a postback button or a keyword."""
    return BUTTONS[button.action](button, state, ctx, lang)


def show_topics(button: pb.Postback, state: UserState, ctx: Context, lang: str) -> Turn:
    return Turn([menus.topic_chooser(ctx.topics, state.topics, lang)])


def show_settings(button: pb.Postback, state: UserState, ctx: Context, lang: str) -> Turn:
    return Turn([menus.settings(ctx.topics, state.topics, lang, state.language)])


def choose_language(button: pb.Postback, state: UserState, ctx: Context, lang: str) -> Turn:
    choice = button.get("l")
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
    """A free question for the FAQ: the reply its decision calls for, and the decision recorded."""
    decision = ctx.faq.ask(text, lang=lang) if ctx.faq is not None else Decision("fallback", None, None, 0.0)
    notes = [say("truncated", lang)] if decision.truncated else []
    if decision.decision == "small_talk":
        reply = text_message(say("small_talk", lang, kind=decision.small_talk), menus.menu_items(lang))
    elif decision.decision == "answer" and decision.answer and decision.entry_id:
        reply = answer_message(decision.answer, decision.entry_id, ctx, lang, ctx.nonce, notes)
    elif decision.decision == "suggest" and decision.suggestions:
        reply = suggestions(decision, ctx, lang, notes)
    else:
        reply = text_message(_with_notes(notes, say("fallback", lang)), menus.menu_items(lang))
    return Turn([reply], [RecordQuestion(ctx.nonce, text, decision, lang)])


def _entry(ctx: Context, entry_id: str, lang: str) -> FaqEntryView | None:
    return ctx.faq.entry(entry_id, lang=lang) if ctx.faq is not None and entry_id else None


def _with_notes(notes: Sequence[str], text: str) -> str:
    return "\n\n".join([*notes, text])


def _untranslated(entries: Sequence[FaqEntryView | None], lang: str, *, answer: bool) -> list[str]:
    """A line in the resident's language when some of `entries` (an answer's or the suggestions') are
    shown in another one (`shown`: English for the foreign languages, else Japanese; see
    `app.languages.fallback_chain`)."""
    shown = next((e.lang for e in entries if e is not None and e.lang != lang), None)
    return [say("untranslated", lang, answer=answer, shown=shown)] if shown is not None else []


def answer_message(
    answer: str, entry_id: str, ctx: Context, lang: str, nonce: str, notes: Sequence[str] = ()
) -> Message:
    """The answer with its source and link, asking whether it helped (👍/👎 carrying the entry and the
    nonce of the reply that recorded the question) and offering to talk to the city."""
    entry = _entry(ctx, entry_id, lang)
    notes = [*notes, *_untranslated([entry], lang, answer=True)]
    source = source_line(entry, lang) if entry is not None else ""
    url = entry.url if entry is not None else None
    text = say("sourced_answer", lang, answer=answer, source=source, url=url)
    votes = [
        postback_item(label(key, lang), pb.encode("fb", e=entry_id, v=vote, n=nonce), label(key, lang))
        for key, vote in (("helpful", "1"), ("not_helpful", "0"))
    ]
    return text_message(_with_notes(notes, text), [*votes, _contact_item(lang)])


def _contact_item(lang: str) -> QuickItem:
    return postback_item(label("contact", lang), pb.encode("contact"), label("contact", lang))


def suggestions(decision: Decision, ctx: Context, lang: str, notes: Sequence[str] = ()) -> Message:
    """The top three questions, each a button with the entry's short label; tapping one answers it
    (the button carries this reply's nonce, so the pick is recorded with the question)."""
    top = decision.suggestions[:3]
    entries = [_entry(ctx, s.entry_id, lang) for s in top]
    notes = [*notes, *_untranslated(entries, lang, answer=False)]
    items = [
        postback_item(s.label or s.question, pb.encode("faq", e=s.entry_id, n=ctx.nonce), s.question)
        for s in top
    ]
    items.append(postback_item(label("none_of_these", lang), pb.encode("none"), label("none_of_these", lang)))
    text = say("suggest", lang, questions=[s.question for s in top])
    return text_message(_with_notes(notes, text), items)


def answer_entry(button: pb.Postback, state: UserState, ctx: Context, lang: str) -> Turn:
    """A tapped suggestion: the entry's answer (its 👍/👎 carry the nonce of the reply that offered it),
    or a notice when the entry no longer exists."""
    entry_id, nonce = button.get("e"), button.get("n")
    entry = _entry(ctx, entry_id, lang)
    if entry is None:
        return Turn([menus.notice("entry_gone", lang)])
    reply = answer_message(entry.answer, entry.id, ctx, lang, nonce or ctx.nonce)
    return Turn([reply], [RecordPick(nonce, entry.id, lang)] if nonce else [])


def feedback(button: pb.Postback, state: UserState, ctx: Context, lang: str) -> Turn:
    """👍/👎 on an answer: recorded with the answer's nonce and entry, with no user ID."""
    entry_id, vote, nonce = button.get("e"), button.get("v"), button.get("n")
    if not entry_id or vote not in ("0", "1") or not nonce:
        return Turn([menus.notice("stale_button", lang)])
    if vote == "1":
        thanks = text_message(say("thanks_helpful", lang))
    else:  # offer the ways to reach the city
        thanks = text_message(say("thanks_not_helpful", lang), menus.menu_items(lang))
    return Turn([thanks], [RecordVote(nonce, entry_id, lang, vote == "1")])


def _reply(make: Callable[[str], Message]) -> Button:
    """A button whose answer is one message that depends on the language only."""
    return lambda button, state, ctx, lang: Turn([make(lang)])


_EMERGENCY = _reply(lambda lang: menus.notice("emergency_numbers", lang))

# What each postback action does (`bot.conversation.postback_data.ACTIONS` lists the same actions).
BUTTONS: dict[str, Button] = {
    "menu": _reply(menus.menu),
    "help": _reply(menus.menu),
    "topics": show_topics,
    "settings": show_settings,
    "contact": _reply(menus.contact),
    "emergency": _EMERGENCY,
    "none": _reply(menus.contact),
    "lang": choose_language,
    "sub": toggle_topic,
    "unsub": toggle_topic,
    "faq": answer_entry,
    "fb": feedback,
    # the report flow's hook takes these first; without it (the reports area off) a report button
    # answers with the emergency numbers rather than nothing
    "rp": _EMERGENCY,
}
