"""The FAQ's improvement loop through the bot, end to end over the signed webhook with the real FAQ:
each reply's decision is recorded for staff (small talk never as an unanswered question), picks and
votes join the question that led to them, a group of unanswered questions becomes an entry that the
bot answers at once, and an entry without the resident's language is shown in Japanese with a note."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from fakes.fake_line import FakeLine
from faq import answer_log
from faq.faq_tables import ShownAnswer, UnansweredQuestion
from tests.bot.helpers import RESIDENT, idle, quick_data, quick_labels, say, tap
from tests.conftest import sign_in_as
from tests.line_fixtures import user_id

GOMI = ["粗大ごみの出し方", "粗大ごみを捨てたい", "粗大ゴミの出し方を教えて"]  # the shipped FAQ has none


def params(data: str) -> dict[str, str]:
    return dict(p.split("=", 1) for p in data.split("&"))


def shown(sessions: sessionmaker[Session]) -> list[ShownAnswer]:
    with sessions() as s:
        return list(s.scalars(select(ShownAnswer).order_by(ShownAnswer.created_at)))


def unanswered(sessions: sessionmaker[Session]) -> list[tuple[str, int]]:
    with sessions() as s:
        return [
            (r.text, r.count) for r in s.scalars(select(UnansweredQuestion).order_by(UnansweredQuestion.id))
        ]


def test_small_talk_is_answered_kindly_and_not_logged_as_unanswered(
    bot_client: TestClient, fake_line: FakeLine, sessions: sessionmaker[Session]
) -> None:
    replies = [say(bot_client, fake_line, text) for text in ("こんにちは", "ありがとう", "hello")]
    idle(bot_client)
    assert replies[0]["text"].startswith("こんにちは。吹田市の LINE 公式アカウントです。")
    assert replies[1]["text"].startswith("どういたしまして。")
    assert replies[2]["text"].startswith("Hello! This is Suita City's official LINE account.")
    assert all("06-6384-1231" not in r["text"] for r in replies)  # not the fallback
    assert quick_labels(replies[2]) == ["News topics", "言語 / Language", "My settings", "Contact the city"]
    assert unanswered(sessions) == []
    assert [(r.decision, r.question, r.lang) for r in shown(sessions)] == [
        ("small_talk", None, "ja"),
        ("small_talk", None, "ja"),
        ("small_talk", None, "en"),
    ]


def test_a_wish_to_register_a_seal_is_not_answered_with_the_certificate(
    bot_client: TestClient, fake_line: FakeLine, sessions: sessionmaker[Session]
) -> None:
    reply = say(bot_client, fake_line, "印鑑登録したい")
    idle(bot_client)
    assert not any(d.startswith("a=fb&") for d in quick_data(reply))  # no answer to vote on
    ((decision, entry),) = [(r.decision, r.entry_id) for r in shown(sessions)]
    assert decision != "answer" and entry != "convenience-inkan"


def test_an_answer_names_its_source_and_its_votes_are_kept_per_reply_without_the_user(
    bot_client: TestClient, fake_line: FakeLine, sessions: sessionmaker[Session]
) -> None:
    answer = say(bot_client, fake_line, "住民票をコンビニで取りたい")
    assert "出典: 第4期情報化推進計画" in answer["text"] and answer["text"].startswith("マイナンバーカード")
    up, down, contact = quick_data(answer)
    assert contact == "a=contact" and quick_labels(answer)[2] == "問い合わせ先"
    assert tap(bot_client, fake_line, up)["text"].startswith("ご回答ありがとうございます")
    assert tap(bot_client, fake_line, down)["text"].startswith("ご意見ありがとうございます")
    assert tap(bot_client, fake_line, contact)["text"].startswith("吹田市役所へのお問い合わせ")
    second = say(bot_client, fake_line, "住民票をコンビニで取りたい")
    tap(bot_client, fake_line, quick_data(second)[0])
    idle(bot_client)
    rows = shown(sessions)
    assert [(r.decision, r.entry_id, r.helpful) for r in rows] == [
        ("answer", "convenience-certificates", False),  # the first answer's vote was changed
        ("answer", "convenience-certificates", True),
    ]
    assert rows[0].nonce == params(up)["n"] and rows[0].question == "住民票をコンビニで取りたい"
    assert all(RESIDENT not in f"{r.nonce} {r.question} {r.entry_id}" for r in rows)
    assert unanswered(sessions) == []


def test_a_picked_suggestion_and_its_vote_join_the_question_that_offered_it(
    bot_client: TestClient, fake_line: FakeLine, sessions: sessionmaker[Session]
) -> None:
    offer = say(bot_client, fake_line, "証明書")
    *choices, none = quick_data(offer)
    assert none == "a=none" and len(choices) == 3
    labels = quick_labels(offer)[:3]
    assert labels == [
        "コンビニで取れる証明書",
        "課税証明をコンビニで",
        "戸籍証明をコンビニで",
    ]  # the entries' labels (the last two score within 0.001 of each other)
    picked = params(choices[1])
    answer = tap(bot_client, fake_line, choices[1])
    assert "出典:" in answer["text"]
    down = quick_data(answer)[1]
    assert params(down) == {"a": "fb", "e": picked["e"], "v": "0", "n": picked["n"]}
    tap(bot_client, fake_line, down)
    idle(bot_client)
    (row,) = shown(sessions)
    assert (row.decision, row.question, row.picked, row.entry_id, row.helpful) == (
        "suggest",
        "証明書",
        picked["e"],
        picked["e"],
        False,
    )
    with sessions() as s:
        assert answer_log.downvoted_questions(s, picked["e"]) == ["証明書"]
        assert [(p.question, p.entry_id) for p in answer_log.picked_suggestions(s)] == [
            ("証明書", picked["e"])
        ]


def test_a_group_of_unanswered_questions_becomes_an_entry_the_bot_then_answers(
    bot_client: TestClient, fake_line: FakeLine, sessions: sessionmaker[Session]
) -> None:
    english = user_id(302)
    say(bot_client, fake_line, "English", user=english)
    for text in [*GOMI, GOMI[0]]:
        reply = say(bot_client, fake_line, text)
        assert "06-6384-1231" in reply["text"]  # the fallback: how to reach the city
    idle(bot_client)
    assert sorted(unanswered(sessions)) == sorted([(GOMI[0], 2), (GOMI[1], 1), (GOMI[2], 1)])

    sign_in_as(bot_client, sessions, "editor")  # the staff page's calls (tested in Chromium in tests/faq)
    (group,) = bot_client.get("/api/v1/faq/unanswered/groups").json()
    assert group["count"] == 4 and set(group["examples"]) == set(GOMI)
    entry = {
        "id": "sodai-gomi",
        "question": "粗大ごみはどう出せばいいですか？",
        "answer": "粗大ごみは事前の申し込みが必要です。",
        "department": "環境部 事業課",
        "url": "https://www.city.suita.osaka.jp/",
    }
    made = bot_client.post("/api/v1/faq/unanswered/groups/apply", json={"ids": group["ids"], "entry": entry})
    assert made.status_code == 200, made.text

    for text in GOMI:  # at once, through the signed webhook
        reply = say(bot_client, fake_line, text)
        assert reply["text"].startswith("粗大ごみは事前の申し込みが必要です。\n\n担当: 環境部 事業課"), text
        assert params(quick_data(reply)[0])["e"] == "sodai-gomi"
    # the new entry has no English yet: an English speaker gets it in Japanese, told so in English
    reply = say(bot_client, fake_line, GOMI[0], user=english)
    assert reply["text"].startswith(
        "This answer is not available in English yet, so it is shown in Japanese.\n\n粗大ごみは事前の申し込み"
    )
    assert "Department: 環境部 事業課" in reply["text"]
    assert quick_labels(reply) == ["👍 Helpful", "👎 Not helpful", "Contact the city"]
    idle(bot_client)
    assert bot_client.get("/api/v1/faq/unanswered/groups").json() == []
    answered = [r for r in shown(sessions) if r.decision == "answer"]
    assert [(r.entry_id, r.lang) for r in answered] == [("sodai-gomi", "ja")] * 3 + [("sodai-gomi", "en")]
