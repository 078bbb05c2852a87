"""The improvement loop over the staff API: groups of unanswered questions become entries the bot
answers at once, 👎 entries, picked suggestions, the monthly report; only staff switch logging off."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from faq.unanswered_log import recent_unanswered
from tests.conftest import sign_in_as
from tests.faq.conftest import record_downvote_and_pick

GOMI = ["粗大ごみの出し方", "粗大ごみを捨てたい", "粗大ゴミの出し方を教えて"]  # the FAQ has none


def ask(client: TestClient, q: str, **params: str) -> dict[str, object]:
    data: dict[str, object] = client.get("/api/v1/faq/search", params={"q": q, **params}).json()
    return data


def test_only_staff_can_switch_logging_off(client: TestClient, sessions: sessionmaker[Session]) -> None:
    ask(client, "火星の天気", log="false")  # anyone: logged anyway
    sign_in_as(client, sessions, "viewer")
    ask(client, "火星への転出届", log="false")  # signed-in staff trying questions: not logged
    ask(client, "ありがとう")  # small talk: never logged
    with sessions() as s:
        assert [r.text for r in recent_unanswered(s)] == ["火星の天気"]


def test_a_group_becomes_an_entry_the_bot_answers(staff_client: TestClient) -> None:
    for q in GOMI + [GOMI[0]]:
        assert ask(staff_client, q)["decision"] != "answer"
    ask(staff_client, "火星の天気")
    groups = staff_client.get("/api/v1/faq/unanswered/groups").json()
    gomi = groups[0]
    assert gomi["count"] == 4 and set(gomi["examples"]) == set(GOMI) and len(groups) == 2
    assert gomi["first_seen"] <= gomi["last_seen"]
    new = {
        "id": "sodai-gomi",
        "question": "犬の登録はどこでできますか？",
        "answer": "保健所で登録できます。",
    }
    r = staff_client.post("/api/v1/faq/unanswered/groups/apply", json={"ids": gomi["ids"], "entry": new})
    assert r.status_code == 200, r.text
    assert set(r.json()["alternatives"]) == set(GOMI) and r.json()["label"]
    for q in GOMI:
        d = ask(staff_client, q)
        assert d["decision"] == "answer" and d["entry_id"] == "sodai-gomi", (q, d)
    left = staff_client.get("/api/v1/faq/unanswered/groups").json()
    assert [g["examples"] for g in left] == [["火星の天気"]]  # the group left the open list


def test_a_group_extends_an_existing_entry(staff_client: TestClient) -> None:
    ask(staff_client, "おうちで読書")
    (g,) = staff_client.get("/api/v1/faq/unanswered/groups").json()
    r = staff_client.post(
        "/api/v1/faq/unanswered/groups/apply", json={"ids": g["ids"], "entry_id": "e-library", "lang": "ja"}
    )
    assert r.status_code == 200 and "おうちで読書" in r.json()["alternatives"]
    assert ask(staff_client, "おうちで読書")["entry_id"] == "e-library"
    missing = staff_client.post("/api/v1/faq/unanswered/groups/apply", json={"ids": [999], "entry_id": "x"})
    assert missing.status_code == 404


def test_viewers_read_the_loop_but_cannot_change_it(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    ask(client, "火星の天気")
    sign_in_as(client, sessions, "viewer")
    (g,) = client.get("/api/v1/faq/unanswered/groups").json()
    r = client.post("/api/v1/faq/unanswered/groups/apply", json={"ids": g["ids"], "entry_id": "e-library"})
    assert r.status_code == 403
    r = client.post("/api/v1/faq/entries/ja/e-library/alternatives", json={"texts": ["x"]})
    assert r.status_code == 403
    assert client.get("/api/v1/faq/report").status_code == 200


def test_feedback_picks_and_alternatives(staff_client: TestClient, sessions: sessionmaker[Session]) -> None:
    record_downvote_and_pick(sessions)
    (fb,) = staff_client.get("/api/v1/faq/feedback").json()
    assert fb["entry_id"] == "passport" and fb["not_helpful"] == 1 and fb["questions"] == ["パスポートどこ"]
    (pick,) = staff_client.get("/api/v1/faq/picks").json()
    assert pick["question"] == "本をスマホで読む" and pick["entry_id"] == "e-library"
    assert pick["already_alternative"] is False
    r = staff_client.post("/api/v1/faq/entries/ja/e-library/alternatives", json={"texts": [pick["question"]]})
    assert r.status_code == 200
    assert staff_client.get("/api/v1/faq/picks").json()[0]["already_alternative"] is True
    assert ask(staff_client, "本をスマホで読む")["entry_id"] == "e-library"


def test_monthly_report_and_csv(staff_client: TestClient) -> None:
    ask(staff_client, "火星の天気")
    data = staff_client.get("/api/v1/faq/report", params={"month": "2026-12"}).json()
    assert data["month"] == "2026-12" and data["previous_month"] == "2026-11"
    assert set(data["numbers"]) >= {"questions", "answered_rate", "suggested_rate", "fallback_rate"}
    r = staff_client.get("/api/v1/faq/report.csv", params={"month": "2026-12"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert 'filename="faq-report-2026-12.csv"' in r.headers["content-disposition"]
    bad = staff_client.get("/api/v1/faq/report", params={"month": "12/2026"})
    assert bad.status_code == 422 and "YYYY-MM" in bad.text
