"""The webhook's fast path (`bot.intake.webhook.fast_webhook`, in front of the FastAPI stack) answers exactly
like the FastAPI route kept for the OpenAPI document, with the request ID and access line of the
app's middleware; an unexpected error is a 503 (LINE redelivers, the inbox de-duplicates), never a 500;
and the inbox's compiled insert stays a plain de-duplicating INSERT on both databases."""

from __future__ import annotations

import gc
import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.dialects import sqlite
from sqlalchemy.dialects.postgresql import psycopg
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session, sessionmaker

from app.logs import JsonFormatter
from app.main import freeze_startup_objects
from bot.bot_tables import InboxEvent
from bot.inbox.inbox_store import EventsInsert
from fakes import fake_line_events as ev
from fakes.fake_line import FakeLine
from tests.bot.helpers import CHANNEL_SECRET
from tests.line_fixtures import user_id

U1 = user_id(301)
TEXT = ev.body([ev.text_event(U1, "住民票をコンビニで取りたい")])


def _signed(raw: bytes) -> dict[str, str]:
    return ev.signed(raw, CHANNEL_SECRET)


CASES: list[tuple[str, Callable[[], tuple[bytes, dict[str, str]]]]] = [
    ("stored", lambda: (TEXT, _signed(TEXT))),
    (
        "verify button",
        lambda: (b'{"destination":"U1","events":[]}', _signed(b'{"destination":"U1","events":[]}')),
    ),
    ("no signature", lambda: (TEXT, {})),
    ("wrong signature", lambda: (TEXT, {"x-line-signature": "AAAA"})),
    ("malformed JSON", lambda: (b'{"events": [', _signed(b'{"events": ['))),
    ("too large", lambda: (b"x" * (1024 * 1024 + 1), {})),
    ("dead letter", lambda: (b"[]", _signed(b"[]"))),
]


def _answer(app: FastAPI, raw: bytes, headers: dict[str, str]) -> tuple[int, bytes, str, str | None]:
    with TestClient(app) as client:
        r = client.post("/line/webhook", content=raw, headers={**headers, "x-request-id": "rid-7"})
    return r.status_code, r.content, r.headers["x-request-id"], r.headers.get("content-type")


@pytest.mark.parametrize(("case", "make"), CASES, ids=[c[0] for c in CASES])
def test_fast_path_answers_like_the_route(
    case: str, make: Callable[[], tuple[bytes, dict[str, str]]], bot_app: FastAPI, fake_line: FakeLine
) -> None:
    raw, headers = make()
    fast = _answer(bot_app, raw, headers)
    routes, bot_app.fast_routes = bot_app.fast_routes, {}  # type: ignore[attr-defined]
    try:
        slow = _answer(bot_app, raw, headers)
    finally:
        bot_app.fast_routes = routes  # type: ignore[attr-defined]
    assert fast == slow
    assert fast[2] == "rid-7"


def test_webhook_writes_one_access_line_with_the_request_id(
    bot_app: FastAPI, fake_line: FakeLine, caplog: pytest.LogCaptureFixture
) -> None:
    with TestClient(bot_app) as client, caplog.at_level(logging.INFO, logger="app.access"):
        r = client.post("/line/webhook", content=TEXT, headers=_signed(TEXT))
    lines = [json.loads(JsonFormatter().format(rec)) for rec in caplog.records if rec.name == "app.access"]
    assert r.status_code == 200 and len(lines) == 1
    assert lines[0]["message"] == "POST /line/webhook 200"
    assert lines[0]["request_id"] == r.headers["x-request-id"] and len(lines[0]["request_id"]) == 32
    assert U1 not in json.dumps(lines[0])


def test_unexpected_error_is_503_and_the_redelivery_is_stored_once(
    bot_app: FastAPI, fake_line: FakeLine, sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    with TestClient(bot_app) as client:

        def broken(*_: Any) -> None:
            raise RuntimeError("boom")

        monkeypatch.setattr(bot_app.state.bot.worker, "notify", broken)
        first = client.post("/line/webhook", content=TEXT, headers=_signed(TEXT))
        monkeypatch.undo()
        again = client.post("/line/webhook", content=TEXT, headers=_signed(TEXT))
    assert first.status_code == 503 and first.json() == {"detail": "temporarily unavailable"}
    assert again.status_code == 200
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(InboxEvent)) == 1


@pytest.mark.parametrize("dialect", [sqlite.dialect(), psycopg.dialect()], ids=["sqlite", "psycopg"])
def test_inbox_insert_is_compiled_once_without_returning(dialect: Dialect) -> None:
    insert = EventsInsert(dialect)
    assert insert.sql.startswith("INSERT INTO line_inbox (event_id,")
    assert insert.sql.endswith("ON CONFLICT (event_id) DO NOTHING")
    assert insert.received_at(datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)) is not None


def test_startup_objects_are_frozen() -> None:
    try:
        freeze_startup_objects()
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
    assert gc.get_freeze_count() == 0
