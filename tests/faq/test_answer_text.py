"""Small talk, the yes/no lead and the source line (pure functions), and how `ask` uses them."""

from __future__ import annotations

import pytest

from app.templating import render_text
from faq.answer_text import fit_answer, is_yes_no, small_talk, source_line
from faq.corpus import Entry
from faq.service import FaqIndexService


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("こんにちは", "greeting"),
        ("こんにちは！", "greeting"),
        ("おはようございます", "greeting"),
        ("Hello!", "greeting"),
        ("ありがとう", "thanks"),
        ("ありがとうございました🙏", "thanks"),
        ("Thank you so much", "thanks"),
        ("あなたはボットですか？", "bot"),
        ("Are you a bot?", "bot"),
        ("すごい！", "praise"),
        ("good bot", "praise"),
        ("役に立たない", "complaint"),
        ("This doesn't work", "complaint"),
        ("バイバイ", "goodbye"),
        ("了解です", "ack"),
        ("住民票をコンビニで取りたい", None),
        ("こんにちは、パスポートはどこで作れますか", None),  # a greeting before a question
        ("ありがとうございます。ところで図書館のWi-Fiのパスワードを教えてほしいのですが", None),
        ("便利なサービスはありますか", None),
        ("🙏", None),
    ],
)
def test_small_talk(text: str, kind: str | None) -> None:
    assert small_talk(text) == kind


@pytest.mark.parametrize(
    ("question", "yes_no"),
    [
        ("コンビニで住民票取れますか？", True),
        ("電子書籍は借りられますか", True),
        ("Wi-Fiある？", True),
        ("パスポートはどこで作る？", False),
        ("印鑑証明が欲しい", False),
        ("電子書籍を借りたい", False),
        ("市報すいたについて教えて", False),
        ("Can I pay taxes by credit card?", True),
        ("Where can I apply for a passport?", False),
        ("How do I follow the city on LINE?", False),
    ],
)
def test_is_yes_no(question: str, yes_no: bool) -> None:
    assert is_yes_no(question) is yes_no


@pytest.mark.parametrize(
    ("answer", "question", "shown"),
    [
        ("はい。電子図書館があります。", "電子書籍を借りたい", "電子図書館があります。"),
        ("はい。電子図書館があります。", "電子書籍は借りられますか？", "はい。電子図書館があります。"),
        ("Yes. the e-library lends books.", "I want e-books", "The e-library lends books."),
        ("Yes. The e-library lends books.", "Can I borrow e-books?", "Yes. The e-library lends books."),
        ("電子図書館があります。", "電子書籍を借りたい", "電子図書館があります。"),
    ],
)
def test_fit_answer(answer: str, question: str, shown: str) -> None:
    assert fit_answer(answer, question) == shown


def test_source_line_in_both_languages() -> None:
    src = "第4期情報化推進計画 アクションプランNo.2"
    ja = Entry(id="a", question="q", answer="a", department="市民課", source=src)
    en = Entry(id="a", question="q", answer="a", department="市民課", source=src, lang="en")
    assert source_line(ja) == "出典: 第4期情報化推進計画 アクションプランNo.2 / 担当: 市民課"
    assert source_line(en, "en") == (
        "Source: Suita City 4th Informatization Promotion Plan Action Plan No.2 / Department: 市民課"
    )
    assert source_line(Entry(id="b", question="q", answer="a")) == ""


@pytest.mark.parametrize(("text", "lang"), [("こんにちは", "ja"), ("ありがとう", "ja"), ("Thanks!", "en")])
def test_ask_answers_small_talk_without_searching(suita: FaqIndexService, text: str, lang: str) -> None:
    d = suita.ask(text, lang=lang)
    assert d.decision == "small_talk" and d.small_talk is not None and d.entry_id is None
    assert d.to_json()["decision"] == "small_talk" and "small_talk" not in d.to_json()


def test_answers_fit_the_question(suita: FaqIndexService) -> None:
    how = suita.ask("パスポートはどこで作る？")
    assert how.answer is not None and not how.answer.startswith("はい")
    yes_no = suita.ask("印鑑証明ってコンビニで取れる？")
    assert yes_no.answer is not None and yes_no.answer.startswith("はい。")


def test_suggestions_carry_short_labels(suita: FaqIndexService) -> None:
    d = suita.ask("コンビニ")
    assert d.decision == "suggest" and all(0 < len(s.label) <= 20 for s in d.suggestions)


@pytest.mark.parametrize("lang", ["ja", "en"])
@pytest.mark.parametrize("kind", ["greeting", "thanks", "bot", "praise", "complaint", "goodbye", "ack"])
def test_the_bots_small_talk_replies_exist_for_every_kind(kind: str, lang: str) -> None:
    text = render_text(f"messages/bot/small_talk.{lang}.txt.j2", kind=kind)
    first, *rest = text.splitlines()
    assert first and rest and len(text) < 400  # a short kind reply, then what the bot can do


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_the_bots_sourced_answer_names_the_source_and_the_city(suita: FaqIndexService, lang: str) -> None:
    entry = suita.entry("passport", lang=lang)
    assert entry is not None
    text = render_text(
        f"messages/bot/sourced_answer.{lang}.txt.j2",
        answer=entry.answer,
        source=source_line(entry, lang),
        url=entry.url,
    )
    assert ("出典: 第4期情報化推進計画" if lang == "ja" else "Source: Suita City 4th") in text
    assert ("問い合わせ先" if lang == "ja" else "Contact the city") in text
