"""The conversation as a pure function: table-driven, no database, no HTTP."""

from __future__ import annotations

import pytest

from app.topics import DEFAULT_TOPICS, Topic
from bot.conversation import dialogue as cv
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


def test_answer_asks_for_feedback_with_the_nonce() -> None:
    outcome = run("text", "住民票をコンビニで取りたい")
    (message,) = outcome.messages
    assert message["text"].startswith("はい、マイナンバーカードで取れます。")
    assert "https://example.jp/c" in message["text"] and message["text"].endswith("役に立ちましたか？")
    assert quick_data(message) == ["a=fb&e=conv&v=1&n=n0nce", "a=fb&e=conv&v=0&n=n0nce"]
    assert outcome.effects == []


def test_answer_in_english_for_a_resident_who_chose_english() -> None:
    (message,) = run("text", "コンビニ", EN).messages
    assert message["text"].endswith("Was this answer helpful?")
    assert quick_labels(message) == ["👍 Helpful", "👎 Not helpful"]


def test_suggestions_offer_the_top_three_and_none() -> None:
    (message,) = run("text", "ごみ").messages
    assert "1. 粗大ごみの出し方は？" in message["text"] and "3. ごみの収集日は？" in message["text"]
    assert quick_data(message) == ["a=faq&e=gomi1", "a=faq&e=gomi2", "a=faq&e=gomi3", "a=none"]
    display = [i["action"].get("displayText") for i in message["quickReply"]["items"]]
    assert display[0] == "粗大ごみの出し方は？"


def test_truncated_question_is_mentioned() -> None:
    (message,) = run("text", "ごみ" + "あ" * 500).messages
    assert message["text"].startswith("※ 質問が長かったため")


@pytest.mark.parametrize(
    ("text", "logged"),
    [("電話 06-1234-5678 の件", True), ("わからないこと", True), ("？？？", False), ("🙂", False)],
)
def test_fallback_gives_contact_and_logs_real_questions(text: str, logged: bool) -> None:
    outcome = run("text", text)
    (message,) = outcome.messages
    assert "06-6384-1231" in message["text"]
    assert outcome.effects == ([cv.LogUnanswered(text, "ja", 0.1)] if logged else [])


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
        ("a=faq&e=gomi1", "申し込みが必要です。", []),
        ("a=faq&e=deleted", "ごめんなさい、その質問の回答は見つかりませんでした", []),
        ("a=fb&e=conv&v=1&n=abc", "ご回答ありがとうございます", [cv.Feedback("conv", "ja", True, "abc")]),
        ("a=fb&e=conv&v=0&n=abc", "ご意見ありがとうございます", [cv.Feedback("conv", "ja", False, "abc")]),
        ("a=fb&e=conv&v=7&n=abc", "このボタンは使えなくなりました", []),
        ("a=fb&e=conv&v=1", "このボタンは使えなくなりました", []),
        ("garbage", "このボタンは使えなくなりました", []),
    ],
)
def test_postbacks(data: str, starts: str, effects: list[cv.Effect]) -> None:
    outcome = run("postback", data)
    assert outcome.messages[0]["text"].startswith(starts)
    assert outcome.effects == effects


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
