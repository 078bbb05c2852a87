"""The conversation as a pure function: table-driven, no database, no HTTP."""

from __future__ import annotations

import pytest

from app.topics import DEFAULT_TOPICS, Topic
from bot.conversation import dialogue as cv
from bot.conversation import postback_data as pb
from fakes.fake_line_rules import message_errors
from tests.bot.helpers import TinyFaq, quick_data, quick_labels

ALL = frozenset(t.id for t in DEFAULT_TOPICS)
JA = cv.UserState(True, None, "ja", frozenset({"bousai"}))
EN = cv.UserState(True, "en", "ja", frozenset())
NEW = cv.UserState()


def run(kind: str, data: str = "", state: cv.UserState = JA, profile: str | None = None) -> cv.Turn:
    ctx = cv.Context(DEFAULT_TOPICS, TinyFaq(), nonce="n0nce", profile_language=profile)
    outcome = cv.handle(cv.Incoming(kind, data), state, ctx)
    assert message_errors(outcome.messages) == [] or not outcome.messages  # what LINE would accept
    for message in outcome.messages:
        assert all(len(label) <= 20 for label in quick_labels(message))
    return outcome


@pytest.mark.parametrize(
    ("data", "profile", "first", "remember"),
    [
        ("", "ja", "友だち追加ありがとうございます", "ja"),
        ("unblocked", "ja", "おかえりなさい", "ja"),
        ("", "en-US", "Thank you for adding", "en-US"),
        ("", "zh-TW", "Thank you for adding", "zh-TW"),
        ("", None, "友だち追加ありがとうございます", None),
    ],
)
def test_follow_welcomes_and_invites_to_choose_topics(
    data: str, profile: str | None, first: str, remember: str | None
) -> None:
    outcome = run("follow", data, NEW, profile)
    welcome, chooser = outcome.messages
    assert welcome["text"].startswith(first)
    assert "a=sub&t=bousai" in quick_data(chooser) and "a=sub&t=%2A" in quick_data(chooser)
    assert outcome.effects == [cv.Remember(remember)]


def test_unfollow_forgets_and_says_nothing() -> None:
    assert run("unfollow") == cv.Turn([], [cv.Forget()])


def recorded(outcome: cv.Turn) -> tuple[str, str, str, str, str | None]:
    """The one effect of a question: what the FAQ decided, recorded under the reply's nonce."""
    (effect,) = outcome.effects
    assert isinstance(effect, cv.RecordQuestion)
    return (effect.nonce, effect.question, effect.lang, effect.decision.decision, effect.decision.entry_id)


def test_answer_names_its_source_and_offers_votes_and_the_city() -> None:
    outcome = run("text", "住民票をコンビニで取りたい")
    (message,) = outcome.messages
    assert message["text"].startswith(
        "マイナンバーカードがあれば取れます。\n\n出典: 第4期情報化推進計画 第2章"
    )
    assert "担当: 市民課\n詳しくは: https://example.jp/c" in message["text"]
    assert message["text"].endswith("「問い合わせ先」を押してください。")
    assert quick_labels(message) == ["👍 役に立った", "👎 役に立たなかった", "問い合わせ先"]
    assert quick_data(message) == ["a=fb&e=conv&v=1&n=n0nce", "a=fb&e=conv&v=0&n=n0nce", "a=contact"]
    assert recorded(outcome) == ("n0nce", "住民票をコンビニで取りたい", "ja", "answer", "conv")


def test_answer_in_english_for_a_resident_who_chose_english() -> None:
    (message,) = run("text", "コンビニ", EN).messages
    assert message["text"].startswith(
        "Yes, with your My Number Card.\n\nSource: Suita City 4th Informatization"
    )
    assert "Department: Residents Section" in message["text"] and "Japanese" not in message["text"]
    assert quick_labels(message) == ["👍 Helpful", "👎 Not helpful", "Contact the city"]


def test_suggestions_offer_the_entries_labels_with_the_nonce() -> None:
    outcome = run("text", "ごみ")
    (message,) = outcome.messages
    assert "1. 粗大ごみの出し方は？" in message["text"] and "3. ごみの収集日は？" in message["text"]
    assert quick_labels(message) == ["粗大ごみの出し方", "ごみの分別", "ごみの収集日", "どれでもない"]
    assert quick_data(message) == [
        "a=faq&e=gomi1&n=n0nce",
        "a=faq&e=gomi2&n=n0nce",
        "a=faq&e=gomi3&n=n0nce",
        "a=none",
    ]
    display = [i["action"].get("displayText") for i in message["quickReply"]["items"]]
    assert display[0] == "粗大ごみの出し方は？"
    assert recorded(outcome) == ("n0nce", "ごみ", "ja", "suggest", None)


@pytest.mark.parametrize(
    ("data", "state", "starts", "votes_nonce", "effects"),
    [
        ("a=faq&e=gomi1&n=abc", JA, "申し込みが必要です。", "abc", [cv.RecordPick("abc", "gomi1", "ja")]),
        ("a=faq&e=gomi1", JA, "申し込みが必要です。", "n0nce", []),  # a button from before the nonce
        (
            "a=faq&e=gomi1&n=abc",
            EN,
            "This answer is not available in English yet, so it is shown in Japanese.\n\n申し込み",
            "abc",
            [cv.RecordPick("abc", "gomi1", "en")],
        ),
        (
            "a=faq&e=conv&n=abc",
            EN,
            "Yes, with your My Number Card.",
            "abc",
            [cv.RecordPick("abc", "conv", "en")],
        ),
    ],
)
def test_a_tapped_suggestion_is_recorded_and_its_votes_carry_the_offers_nonce(
    data: str, state: cv.UserState, starts: str, votes_nonce: str, effects: list[cv.Effect]
) -> None:
    outcome = run("postback", data, state)
    (message,) = outcome.messages
    assert message["text"].startswith(starts)
    entry = data.split("&")[1]
    assert quick_data(message) == [
        f"a=fb&{entry}&v=1&n={votes_nonce}",
        f"a=fb&{entry}&v=0&n={votes_nonce}",
        "a=contact",
    ]
    assert outcome.effects == effects


def test_suggestions_without_the_residents_language_say_so() -> None:
    (message,) = run("text", "ごみ", EN).messages
    assert message["text"].startswith("Some of these questions are not available in English yet")
    assert "1. 粗大ごみの出し方は？" in message["text"] and quick_labels(message)[-1] == "None of these"


@pytest.mark.parametrize(
    ("text", "state", "starts", "kind"),
    [
        ("こんにちは", JA, "こんにちは。吹田市の LINE 公式アカウントです。", "greeting"),
        ("ありがとうございました！", JA, "どういたしまして。", "thanks"),
        ("あなたはボットですか？", JA, "わたしは吹田市の自動応答ボットです", "bot"),
        ("役に立たない", JA, "うまくお答えできず、ごめんなさい。", "complaint"),
        ("hello", NEW, "Hello! This is Suita City's official LINE account.", "greeting"),
        ("Thank you so much", EN, "You're welcome.", "thanks"),
        ("are you a bot?", NEW, "I am Suita City's automatic answering bot", "bot"),
    ],
)
def test_small_talk_gets_a_kind_reply_with_the_menu(
    text: str, state: cv.UserState, starts: str, kind: str
) -> None:
    outcome = run("text", text, state)
    (message,) = outcome.messages
    assert message["text"].startswith(starts) and "06-6384-1231" not in message["text"]
    lang = "ja" if state is JA else "en"
    assert quick_data(message) == ["a=topics", "a=lang", "a=settings", "a=contact"]
    assert recorded(outcome) == ("n0nce", text, lang, "small_talk", None)
    (effect,) = outcome.effects
    assert isinstance(effect, cv.RecordQuestion) and effect.decision.small_talk == kind


def test_truncated_question_is_mentioned() -> None:
    (message,) = run("text", "ごみ" + "あ" * 500).messages
    assert message["text"].startswith("※ 質問が長かったため")


@pytest.mark.parametrize("text", ["電話 06-1234-5678 の件", "わからないこと", "？？？", "🙂"])
def test_fallback_gives_contact_and_records_the_question(text: str) -> None:
    """Recorded as a fallback; `faq.answer_log` counts it in the unanswered log when it has words."""
    outcome = run("text", text)
    (message,) = outcome.messages
    assert "06-6384-1231" in message["text"]
    assert quick_labels(message)[-1] == "問い合わせ先"
    assert recorded(outcome) == ("n0nce", text, "ja", "fallback", None)


def test_without_faq_everything_falls_back() -> None:
    ctx = cv.Context(DEFAULT_TOPICS, None, nonce="n")
    outcome = cv.handle(cv.Incoming("text", "コンビニ"), JA, ctx)
    assert "06-6384-1231" in outcome.messages[0]["text"]


@pytest.mark.parametrize(
    ("text", "state", "starts", "effects"),
    [
        ("メニュー", JA, "吹田市公式LINEでは", []),
        ("ＭＥＮＵ", JA, "吹田市公式LINEでは", []),
        ("menu", NEW, "With Suita City", []),
        ("ヘルプ！", JA, "吹田市公式LINEでは", []),
        ("設定", JA, "現在の設定", []),
        ("settings", EN, "Your settings", []),
        ("配信設定", JA, "受け取るお知らせのテーマ", []),
        ("言語", JA, "表示する言語を選んでください", []),
        ("English", JA, "Your language is now English.", [cv.SetLanguage("en")]),
        ("日本語", EN, "言語を日本語に設定しました。", [cv.SetLanguage("ja")]),
        ("問い合わせ", JA, "吹田市役所へのお問い合わせ", []),
    ],
)
def test_keywords_open_the_menus(
    text: str, state: cv.UserState, starts: str, effects: list[cv.Effect]
) -> None:
    outcome = run("text", text, state)
    assert outcome.messages[0]["text"].startswith(starts)
    assert outcome.effects == effects


@pytest.mark.parametrize(
    ("data", "note", "topics"),
    [
        ("a=sub&t=event", "「イベント・観光」を登録しました。", {"bousai", "event"}),
        ("a=unsub&t=bousai", "「防災・防犯」を解除しました。", set()),
        ("a=sub&t=bousai", "「防災・防犯」を登録しました。", {"bousai"}),
        ("a=sub&t=%2A", "すべてのテーマを登録しました。", set(ALL)),
        ("a=unsub&t=%2A", "すべてのテーマを解除しました。", set()),
    ],
)
def test_topic_buttons(data: str, note: str, topics: set[str]) -> None:
    outcome = run("postback", data)
    (message,) = outcome.messages
    assert message["text"].startswith(note)
    assert outcome.effects == [cv.SetTopics(frozenset(topics))]
    marked = [label.split(" ", 1)[1] for label in quick_labels(message) if label.startswith("✅")]
    assert set(marked) == {t.ja for t in DEFAULT_TOPICS if t.id in topics}


def test_a_removed_topic_is_refused_and_the_chooser_shown() -> None:
    outcome = run("postback", "a=sub&t=gomi")
    assert outcome.effects == [] and "そのテーマは現在ありません" in outcome.messages[0]["text"]


def test_custom_topic_catalog_is_used() -> None:
    topics = [Topic(id="gomi", ja="ごみ・リサイクル", en="Waste")]
    ctx = cv.Context(topics, TinyFaq())
    (message,) = cv.handle(cv.Incoming("postback", "a=topics"), NEW, ctx).messages
    assert "⬜ ごみ・リサイクル" in message["text"] and quick_data(message)[0] == "a=sub&t=gomi"


@pytest.mark.parametrize(
    ("data", "starts", "effects"),
    [
        ("a=lang&l=en", "Your language is now English.", [cv.SetLanguage("en")]),
        ("a=lang&l=fr", "表示する言語を選んでください", []),
        ("a=lang", "表示する言語を選んでください", []),
        ("a=settings", "現在の設定", []),
        ("a=contact", "吹田市役所へのお問い合わせ", []),
        ("a=none", "吹田市役所へのお問い合わせ", []),
        ("a=faq&e=deleted&n=abc", "ごめんなさい、その質問の回答は見つかりませんでした", []),
        ("a=fb&e=conv&v=1&n=abc", "ご回答ありがとうございます", [cv.RecordVote("abc", "conv", "ja", True)]),
        ("a=fb&e=conv&v=0&n=abc", "ご意見ありがとうございます", [cv.RecordVote("abc", "conv", "ja", False)]),
        ("a=fb&e=conv&v=7&n=abc", "このボタンは使えなくなりました", []),
        ("a=fb&e=conv&v=1", "このボタンは使えなくなりました", []),
        ("garbage", "このボタンは使えなくなりました", []),
    ],
)
def test_postbacks(data: str, starts: str, effects: list[cv.Effect]) -> None:
    outcome = run("postback", data)
    assert outcome.messages[0]["text"].startswith(starts)
    assert outcome.effects == effects


def test_every_postback_action_has_a_handler() -> None:
    assert set(cv.BUTTONS) == pb.ACTIONS


def test_settings_show_language_and_topics() -> None:
    (message,) = run("postback", "a=settings", cv.UserState(True, "en", None, frozenset({"event"}))).messages
    assert "Language: English\n" in message["text"] and "News topics: Events & sightseeing" in message["text"]


@pytest.mark.parametrize(
    ("media", "starts"),
    [
        ("sticker", "スタンプありがとうございます。"),
        ("image", "ごめんなさい、このボットは画像を読み取れません。"),
        ("location", "ごめんなさい、このボットは位置情報を読み取れません。"),
        ("video", "ごめんなさい、このボットは文字以外のメッセージを読み取れません。"),
    ],
)
def test_media_gets_a_hint(media: str, starts: str) -> None:
    outcome = run("media", media)
    assert outcome.messages[0]["text"].startswith(starts) and outcome.effects == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [("hello", "en"), ("How do I?", "en"), ("住民票", "ja"), ("123", "ja"), ("menu 日本", "ja")],
)
def test_text_language(text: str, expected: str) -> None:
    assert cv.text_language(text, "ja") == expected
