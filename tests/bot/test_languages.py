"""Every resident language: each bot text exists and renders, the language menu, profile languages,
question languages and the FAQ's fallback line (table-driven, no HTTP)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.languages import LANGUAGES, REGISTRY, fallback_chain, from_profile
from app.templating import TEMPLATES
from app.topics import DEFAULT_TOPICS
from bot.audience import effective_language
from bot.conversation import dialogue as cv
from bot.conversation.line_messages import MAX_LABEL, label, say
from fakes.fake_line_rules import message_errors
from faq.question_language import bridge, detect
from faq.service import FaqIndexService
from tests.bot.helpers import TinyFaq, quick_data, quick_labels

BOT = TEMPLATES / "messages" / "bot"
# Every template's variables (a template that needs one more fails to render: StrictUndefined).
CONTEXTS: dict[str, dict[str, Any]] = {
    "hint": {"media": "image"},
    "settings": {"topics": ["A", "B"], "language": "x", "explicit": False},
    "small_talk": {"kind": "greeting"},
    "sourced_answer": {"answer": "A.", "source": "S", "url": "https://example.jp/"},
    "suggest": {"questions": ["Q1", "Q2"]},
    "topic_on": {"topic": "T"},
    "topic_off": {"topic": "T"},
    "topics": {"note": "N", "lines": ["✅ T"]},
    "untranslated": {"answer": True, "shown": "en"},
    "welcome": {"unblocked": False},
    "disaster_headline": {"headline": "避難指示", "link": "https://example.jp/"},
}
TEMPLATE_NAMES = sorted(
    p.name.removesuffix(".ja.txt.j2") for p in BOT.glob("*.ja.txt.j2") if p.name != "labels.ja.txt.j2"
)
LABEL_KEYS = (
    "topics", "language", "settings", "contact", "all_topics", "no_topics", "done", "helpful",
    "not_helpful", "none_of_these",
)  # fmt: skip


def test_the_registry_lists_the_seven_languages_each_in_its_own_script() -> None:
    assert LANGUAGES == ("ja", "ja-easy", "en", "zh-Hans", "ko", "vi", "pt")
    assert all(len(lang) <= 8 for lang in LANGUAGES)  # line_users.language, post_variants.language
    names = {lang.id: lang.name for lang in REGISTRY}
    assert names == {
        "ja": "日本語",
        "ja-easy": "やさしい日本語",
        "en": "English",
        "zh-Hans": "简体中文",
        "ko": "한국어",
        "vi": "Tiếng Việt",
        "pt": "Português",
    }


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("name", TEMPLATE_NAMES)
def test_every_bot_text_exists_in_every_language_and_renders(name: str, lang: str) -> None:
    assert (BOT / f"{name}.{lang}.txt.j2").is_file(), f"missing {name}.{lang}.txt.j2"
    text = say(name, lang, **CONTEXTS.get(name, {}))
    assert text.strip()
    if lang not in ("ja", "ja-easy", "zh-Hans") and name != "language":  # the menu is bilingual on purpose
        assert "ください" not in text


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_button_label_exists_and_fits(lang: str) -> None:
    for key in LABEL_KEYS:
        assert 0 < len(label(key, lang)) <= MAX_LABEL, (lang, key)


@pytest.mark.parametrize("lang", [lang for lang in LANGUAGES if lang != "en"])  # en: cut as before
def test_topic_labels_fit_a_toggle_button_in_every_language(lang: str) -> None:
    for topic in DEFAULT_TOPICS:
        assert 0 < len(f"✅ {topic.label(lang)}") <= MAX_LABEL


def test_topics_without_a_label_in_a_language_show_english_or_japanese() -> None:
    topic = DEFAULT_TOPICS[0].model_copy(update={"names": {}})
    assert topic.label("ja-easy") == "防災・防犯" and topic.label("ko") == "Disaster & safety"


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("ja", "ja"),
        ("ja-JP", "ja"),
        ("en-US", "en"),
        ("zh-Hans", "zh-Hans"),
        ("zh-CN", "zh-Hans"),
        ("zh-TW", None),
        ("zh-Hant", None),
        ("ko-KR", "ko"),
        ("vi", "vi"),
        ("pt-BR", "pt"),
        ("fr", None),
        ("", None),
        (None, None),
    ],
)
def test_a_line_profile_language_among_ours_starts_the_resident_in_it(
    code: str | None, expected: str | None
) -> None:
    assert from_profile(code) == expected
    assert effective_language(None, code) == (expected or ("en" if code else "ja"))


def test_fallback_chains() -> None:
    assert fallback_chain("vi") == ("vi", "en", "ja")
    assert fallback_chain("ja-easy") == ("ja-easy", "ja")
    assert fallback_chain("en") == ("en", "ja")
    assert fallback_chain("ja") == ("ja",)


def run(kind: str, data: str, state: cv.UserState, faq: Any = None, **ctx: Any) -> cv.Turn:
    context = cv.Context(DEFAULT_TOPICS, faq if faq is not None else TinyFaq(), nonce="n", **ctx)
    outcome = cv.handle(cv.Incoming(kind, data), state, context)
    assert message_errors(outcome.messages) == [] or not outcome.messages
    return outcome


def test_the_language_menu_offers_every_language_in_its_own_script() -> None:
    (message,) = run("text", "言語", cv.UserState(True, "vi")).messages
    assert quick_labels(message) == [lang.name for lang in REGISTRY]
    assert quick_data(message)[3] == "a=lang&l=zh-Hans"
    assert message["text"].startswith("Vui lòng chọn ngôn ngữ.")


@pytest.mark.parametrize(
    ("typed", "lang"),
    [
        ("Tiếng Việt", "vi"),
        ("한국어", "ko"),
        ("简体中文", "zh-Hans"),
        ("やさしい日本語", "ja-easy"),
        ("Português", "pt"),
    ],
)
def test_typing_a_language_name_chooses_it(typed: str, lang: str) -> None:
    outcome = run("text", typed, cv.UserState(True))
    assert outcome.effects == [cv.SetLanguage(lang)]
    assert outcome.messages[0]["text"] == say("language_set", lang)


VI = cv.UserState(True, "vi", "ja", frozenset({"bousai"}))


def test_a_vietnamese_resident_gets_menus_and_fallbacks_in_vietnamese() -> None:
    (menu,) = run("text", "menu", VI).messages
    assert menu["text"].startswith("Với tài khoản LINE chính thức")
    assert quick_labels(menu) == [
        "Chủ đề tin tức",
        "Ngôn ngữ / Language",
        "Cài đặt hiện tại",
        "Liên hệ thành phố",
    ]
    (fallback,) = run("text", "xyz", VI).messages
    assert fallback["text"].startswith("Xin lỗi, chúng tôi không trả lời được")
    (settings,) = run("postback", "a=settings", VI).messages
    assert "Ngôn ngữ: Tiếng Việt" in settings["text"] and "Thiên tai, an ninh" in settings["text"]


@pytest.mark.parametrize(
    ("profile", "first"),
    [
        ("vi-VN", "Cảm ơn bạn đã kết bạn"),
        ("ko", "스이타시 공식 LINE 계정을"),
        ("pt-BR", "Obrigado por adicionar"),
    ],
)
def test_follow_greets_in_the_profile_language(profile: str, first: str) -> None:
    welcome, _chooser = run("follow", "", cv.UserState(), profile_language=profile).messages
    assert welcome["text"].startswith(first)


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("住民票をコンビニで取りたい", "ja"),
        ("住民票", "ja"),
        ("How do I get a passport?", "en"),
        ("护照在哪里申请", "zh-Hans"),
        ("垃圾怎么扔", "zh-Hans"),
        ("쓰레기는 어떻게 버려요?", "ko"),
        ("Tôi muốn đăng ký thư viện", "vi"),
        ("Onde posso jogar o lixo?", "pt"),
        ("Preciso de um passaporte", "pt"),
        ("", "ja"),
    ],
)
def test_question_languages_are_detected(text: str, lang: str) -> None:
    assert detect(text) == lang


def test_the_bridge_turns_glossary_terms_into_japanese_words() -> None:
    assert bridge("护照在哪里申请", "zh-Hans") == "パスポート 申請 在哪里"
    assert bridge("도서관 전자책", "ko") == "図書館 電子書籍"
    assert bridge("lorem ipsum", "pt") is None
    assert bridge("anything", "en") is None


@pytest.fixture(scope="module")
def faq() -> Iterator[FaqIndexService]:
    yield FaqIndexService.from_file()


KO = cv.UserState(True, "ko")


def test_a_korean_question_gets_the_english_entry_with_a_line_in_korean(faq: FaqIndexService) -> None:
    decision = faq.ask("여권은 어디서 신청해요?", lang="ko")
    assert decision.decision in ("answer", "suggest")
    outcome = run("text", "여권은 어디서 신청해요?", KO, faq)
    text = outcome.messages[0]["text"]
    assert text.startswith("이 답변은 아직 한국어로 준비되지 않아 영어로 표시합니다.") or text.startswith(
        "일부 질문은 아직 한국어로 준비되지 않아 영어로 표시합니다."
    )
    assert "passport" in text.lower() or any(
        "passport" in q.lower() for q in quick_labels(outcome.messages[0])
    )


def test_easy_japanese_is_answered_in_japanese_with_a_line_in_easy_japanese(faq: FaqIndexService) -> None:
    outcome = run("text", "パスポートはどこで申請できますか", cv.UserState(True, "ja-easy"), faq)
    text = outcome.messages[0]["text"]
    assert text.startswith(
        "この こたえは、やさしい にほんごが まだ ありません。ふつうの にほんごで だして います。"
    )
    assert "パスポート" in text


def test_an_unmatched_chinese_question_gets_the_contact_hint_in_chinese(faq: FaqIndexService) -> None:
    (message,) = run("text", "你们那里的天气怎么样", cv.UserState(True), faq).messages
    assert message["text"].startswith("抱歉,无法回答这个问题。") and "06-6384-1231" in message["text"]


def test_in_disaster_mode_every_answer_starts_with_the_headline_in_the_residents_language() -> None:
    headline = cv.Headline("吹田市全域に避難指示", "https://example.jp/d")
    for state, intro in ((VI, "⚠️ Thông tin khẩn cấp"), (cv.UserState(True, "ja"), "⚠️【災害時の緊急情報】")):
        for kind, data in (("text", "menu"), ("text", "xyz"), ("postback", "a=settings")):
            first = run(kind, data, state, disaster=headline).messages[0]["text"]
            assert first.startswith(f"{intro}") and "吹田市全域に避難指示" in first.split("\n")[0]
            assert "https://example.jp/d" in first
    assert run("unfollow", "", VI, disaster=headline).messages == []


def test_adding_a_language_needs_its_templates(tmp_path: Path) -> None:
    """The registry is the one list: every registered language has every text (checked above), and
    no stray language has texts the registry does not know."""
    found = {p.name.split(".")[1] for p in BOT.glob("*.txt.j2") if p.name.count(".") == 3}
    assert found == set(LANGUAGES)
