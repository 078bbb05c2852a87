"""Bounded work per request: free text cut before anything else, bodies limited, a busy pool answered
with 503 at once, values a database refuses answered 422 (never 500)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from app import privacy
from faq.normalize import MAX_QUESTION_CHARS
from faq.service import FaqIndexService
from tests.conftest import make_settings

BIG_QUESTION = "県市" * 3_500  # 7,000 characters, 63 KB once URL-encoded


def test_a_63_kb_search_is_cut_before_matching_or_masking(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: dict[str, list[int]] = {"ask": [], "mask": []}
    ask, mask = FaqIndexService.ask, privacy.mask_pii

    def spy_ask(self: FaqIndexService, question: str, **kwargs: Any) -> Any:
        seen["ask"].append(len(question))
        return ask(self, question, **kwargs)

    def spy_mask(value: str) -> str:
        seen["mask"].append(len(value))
        return mask(value)

    monkeypatch.setattr(FaqIndexService, "ask", spy_ask)
    monkeypatch.setattr("faq.unanswered_log.mask_pii", spy_mask)
    r = client.get("/api/v1/faq/search", params={"q": BIG_QUESTION})
    assert r.status_code == 200 and r.headers["X-FAQ-Truncated"] == "true"
    assert seen["ask"] == [MAX_QUESTION_CHARS]
    assert all(n <= MAX_QUESTION_CHARS for n in seen["mask"])


def test_a_long_line_message_is_cut_before_the_faq_sees_it() -> None:
    from bot.conversation import dialogue as cv
    from bot.conversation.dialogue_types import UserState
    from bot.conversation.line_messages import say
    from faq.answer_types import Decision

    asked: list[int] = []

    class Faq:
        def ask(self, question: str, *, lang: str = "ja") -> Decision:

            asked.append(len(question))
            return Decision("fallback", None, None, 0.0, [], truncated=len(question) > MAX_QUESTION_CHARS)

        def entry(self, entry_id: str, *, lang: str = "ja") -> None:
            return None

    ctx = cv.Context((), Faq(), "n", None)
    turn = cv.handle(cv.Incoming("text", "質問" * 2_500), UserState(), ctx)
    assert asked == [MAX_QUESTION_CHARS + 1]  # one more than the limit: the FAQ still says it cut
    assert say("truncated", "ja") in str(turn.messages[0])  # and the resident is told


@pytest.mark.parametrize("size", [3 * 1024 * 1024 + 1, 8 * 1024 * 1024])
def test_a_body_over_the_limit_is_refused_before_it_is_read(client: TestClient, size: int) -> None:
    r = client.post("/simulator/api/send", content=b"x" * size, headers={"content-type": "application/json"})
    assert r.status_code == 413


def test_a_streamed_body_over_the_limit_is_refused(client: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(64):
            yield b"x" * 65_536

    r = client.post("/simulator/api/send", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413


@pytest.fixture
def busy_client(db_url: str) -> Iterator[TestClient]:
    """A client of an app whose main pool is held by other work (every connection checked out)."""
    from app.main import create_app

    app = create_app(make_settings(db_url, db_pool_timeout=0.2))
    with TestClient(app) as client:
        engine = app.state.engine
        held = [engine.connect() for _ in range(engine.pool.size() + engine.pool._max_overflow)]
        for conn in held:
            conn.execute(text("SELECT 1"))
        yield client
        for conn in held:
            conn.close()


def test_an_exhausted_pool_answers_503_at_once(busy_client: TestClient) -> None:
    r = busy_client.get("/api/v1/faq/search", params={"q": "火星の土地を買う方法"})
    assert r.status_code == 503 and r.headers["Retry-After"] == "2"
    assert "混雑" in r.json()["detail"]
    assert busy_client.get("/healthz").status_code == 200
    ready = busy_client.get("/readyz")
    assert ready.status_code == 503 and ready.json()["checks"]["database"]["status"] == "error"


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/api/v1/faq/search?q=%E4%BD%8F%E6%B0%91%00%E7%A5%A8", None),
        ("GET", "/api/v1/faq/entries/ja/a%00b", None),
        ("POST", "/api/v1/faq/entries", {"id": "nul", "question": "住民票", "answer": "a\u0000b"}),
        ("POST", "/api/v1/faq/entries", {"id": "nul", "question": "住\u0000民票", "answer": "ab"}),
        ("POST", "/api/v1/faq/entries", {"id": "sur", "question": "住民票", "answer": "a\ud800b"}),
        ("PUT", "/api/v1/faq/entries/ja/passport", {"question": "旅券", "answer": "x\u0000"}),
        ("POST", "/api/v1/posts", {"title": "避難\u0000情報", "body": "本文", "channels": ["line"]}),
        ("POST", "/api/v1/posts/preview", {"title": "t", "body": "本文\u0000", "channels": ["line"]}),
        ("GET", "/api/v1/posts?state=%00", None),
        ("GET", "/api/v1/faq/report?month=0001-01", None),  # before year 1 in UTC (found by the fuzzer)
        ("GET", "/api/v1/faq/report.csv?month=9999-12", None),
    ],
)
def test_values_a_database_refuses_are_a_4xx_never_a_500(
    staff_client: TestClient, method: str, path: str, body: Any
) -> None:
    content = json.dumps(body) if body is not None else None  # ASCII: \\u0000 and \\ud800 as escapes
    r = staff_client.request(method, path, content=content, headers={"content-type": "application/json"})
    assert 400 <= r.status_code < 500, r.text
    assert r.status_code != 404 or "a%00b" in path  # an ID that does not exist may be 404 on SQLite
