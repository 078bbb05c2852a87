"""The FAQ API over real HTTP handling (TestClient) on a fresh migrated database per test."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from app.main import create_app
from faq import entry_store
from faq.service import SEED_CORPUS
from faq.unanswered_log import recent_unanswered
from tests.conftest import make_settings, sign_in

NEW = {
    "id": "sodai-gomi",
    "question": "粗大ごみの出し方",
    "answer": "粗大ごみは申し込み制です。",
    "lang": "ja",
}


def test_search_returns_the_ask_shape(client: TestClient) -> None:
    r = client.get("/api/v1/faq/search", params={"q": "電子書籍を借りたい"})
    assert r.status_code == 200
    data = r.json()
    assert set(data) == {"decision", "answer", "entry_id", "score", "suggestions"}
    assert data["decision"] == "answer" and data["entry_id"] == "e-library"
    assert "x-faq-truncated" not in r.headers


def test_search_suggestions_follow_k(client: TestClient) -> None:
    data = client.get("/api/v1/faq/search", params={"q": "コンビニ", "k": 5}).json()
    assert data["decision"] == "suggest" and 3 < len(data["suggestions"]) <= 5


def test_search_in_english(client: TestClient) -> None:
    data = client.get("/api/v1/faq/search", params={"q": "電子書籍を借りたい", "lang": "en"}).json()
    assert data["answer"].startswith("The electronic library")  # a wish, not a yes/no question: no "Yes."


def test_fallback_is_logged_masked(client: TestClient, session: Session) -> None:
    r = client.get("/api/v1/faq/search", params={"q": "犬が迷子です 090-1234-5678 まで連絡ください"})
    assert r.json()["decision"] == "fallback"
    client.get("/api/v1/faq/search", params={"q": "   "})  # nothing to learn from: not logged
    (row,) = recent_unanswered(session)
    assert "090-1234-5678" not in row.text and "[電話]" in row.text and row.channel == "api"


def test_staff_see_unanswered_questions(staff_client: TestClient) -> None:
    staff_client.get("/api/v1/faq/search", params={"q": "犬が迷子です me@example.com", "lang": "en"})
    (row,) = staff_client.get("/api/v1/faq/unanswered").json()
    assert row["text"] == "犬が迷子です [メール]" and row["lang"] == "en" and row["created_at"]


def test_long_question_is_truncated_and_said_so(client: TestClient) -> None:
    r = client.get("/api/v1/faq/search", params={"q": "電子書籍を借りたい " + "x" * 10_000})
    assert r.status_code == 200 and r.headers["x-faq-truncated"] == "true"


@pytest.mark.parametrize(
    ("params", "status"),
    [({}, 422), ({"q": "x", "k": 0}, 422), ({"q": "x", "lang": "fr"}, 422), ({"q": "x" * 20_001}, 422)],
)
def test_search_bad_parameters(client: TestClient, params: dict[str, str | int], status: int) -> None:
    assert client.get("/api/v1/faq/search", params=params).status_code == status


def test_seeded_from_the_shipped_corpus(staff_client: TestClient) -> None:
    entries = staff_client.get("/api/v1/faq/entries").json()
    assert len(entries) == len(SEED_CORPUS.read_text(encoding="utf-8").splitlines())
    one = staff_client.get("/api/v1/faq/entries/en/e-library").json()
    assert one["lang"] == "en" and one["department"] == "中央図書館"


def test_editing_requires_staff(client: TestClient) -> None:
    assert client.get("/api/v1/faq/entries").status_code == 401
    assert client.post("/api/v1/faq/entries", json=NEW).status_code == 401


def test_create_update_delete_refreshes_the_index(staff_client: TestClient) -> None:
    ask = lambda q: staff_client.get("/api/v1/faq/search", params={"q": q}).json()  # noqa: E731
    assert ask("粗大ごみの出し方")["decision"] == "fallback"
    assert staff_client.post("/api/v1/faq/entries", json=NEW).status_code == 201
    assert ask("粗大ごみの出し方")["entry_id"] == "sodai-gomi"
    assert staff_client.post("/api/v1/faq/entries", json=NEW).status_code == 409
    changed = {**NEW, "answer": "粗大ごみは電話で申し込みます。"}
    r = staff_client.put("/api/v1/faq/entries/ja/sodai-gomi", json=changed)
    assert r.status_code == 200 and ask("粗大ごみの出し方")["answer"] == "粗大ごみは電話で申し込みます。"
    assert staff_client.delete("/api/v1/faq/entries/ja/sodai-gomi").status_code == 204
    assert ask("粗大ごみの出し方")["decision"] == "fallback"
    assert staff_client.delete("/api/v1/faq/entries/ja/sodai-gomi").status_code == 404
    assert staff_client.put("/api/v1/faq/entries/ja/nothing", json=NEW).status_code == 404


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({**NEW, "answer": ""}, "request body:1:1: answer: must not be empty"),
        (
            {**NEW, "lang": "fr"},
            "request body:1:1: lang: must be one of ja, ja-easy, en, zh-Hans, ko, vi, pt",
        ),
        ({"id": "x"}, "request body:1:1: question: is missing"),
    ],
)
def test_bad_entries_get_clear_errors(staff_client: TestClient, body: dict[str, str], error: str) -> None:
    r = staff_client.post("/api/v1/faq/entries", json=body)
    assert r.status_code == 422 and error in r.json()["detail"]["errors"]


def test_import_is_all_or_nothing(staff_client: TestClient, session: Session) -> None:
    before = entry_store.count(session)
    bad = "id,question,answer\nnew-1,新しい質問,回答\nnew-2,,回答\n".encode("cp932")
    r = staff_client.post("/api/v1/faq/import", files={"file": ("faq.csv", bad, "text/csv")})
    assert r.status_code == 422 and r.json()["detail"]["errors"] == [
        "faq.csv:3:2: question: must not be empty"
    ]
    assert entry_store.count(session) == before
    good = "id,question,answer\nnew-1,粗大ごみの出し方,申し込み制です\n".encode("cp932")
    r = staff_client.post("/api/v1/faq/import", files={"file": ("faq.csv", good, "text/csv")})
    assert r.json() == {"imported": 1}
    session.expire_all()
    assert entry_store.count(session) == before + 1
    found = staff_client.get("/api/v1/faq/search", params={"q": "粗大ごみの出し方"}).json()
    assert found["entry_id"] == "new-1"


def test_viewer_cannot_edit(client: TestClient, sessions: sessionmaker[Session]) -> None:
    from app.auth import create_staff_user
    from storage.db import session_scope
    from tests.conftest import STAFF_PASSWORD

    with session_scope(sessions) as s:
        create_staff_user(s, username="viewer", password=STAFF_PASSWORD, role="viewer")
    sign_in(client, "viewer")
    assert client.get("/api/v1/faq/entries").status_code == 200
    assert client.post("/api/v1/faq/entries", json=NEW).status_code == 403


def test_other_processes_see_edits_after_the_refresh_interval(db_url: str, staff_client: TestClient) -> None:
    other = create_app(make_settings(db_url, faq_refresh_seconds=0.2))
    with TestClient(other) as second:
        assert (
            second.get("/api/v1/faq/search", params={"q": "粗大ごみの出し方"}).json()["decision"]
            == "fallback"
        )
        assert staff_client.post("/api/v1/faq/entries", json=NEW).status_code == 201
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if (
                second.get("/api/v1/faq/search", params={"q": "粗大ごみの出し方"}).json()["entry_id"]
                == "sodai-gomi"
            ):
                break
            time.sleep(0.1)
        else:
            pytest.fail("the second app never reloaded")
