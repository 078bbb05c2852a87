"""The audit log: sign-in events are recorded with role, request id and masked address; the hash chain
names the first row changed or removed by hand (`suita audit verify`, exit 1); PostgreSQL refuses
UPDATE and DELETE on the table."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from app import audit
from app.audit_tables import AuditEvent
from storage.db import session_scope
from tests.cli_runner import suita
from tests.conftest import ON_POSTGRES, STAFF_PASSWORD, post_login, sign_in


def rows(sessions: sessionmaker[Session]) -> list[AuditEvent]:
    with sessions() as s:
        return list(s.scalars(select(AuditEvent).order_by(AuditEvent.id)))


def test_sign_in_failure_and_sign_out_are_recorded(
    client: TestClient, staff_user: str, sessions: sessionmaker[Session]
) -> None:
    assert post_login(client, staff_user, "wrong password here").status_code == 401
    sign_in(client, staff_user)
    assert (
        client.post("/logout", headers={"X-Request-ID": "req-logout-1"}, follow_redirects=False).status_code
        == 303
    )
    events = rows(sessions)
    assert [(e.action, e.actor, e.actor_role) for e in events] == [
        ("staff.sign_in_failed", staff_user, "none"),
        ("staff.sign_in", staff_user, "editor"),
        ("staff.sign_out", staff_user, "editor"),
    ]
    assert events[0].summary == {"note": "password"}
    assert events[2].request_id == "req-logout-1"
    assert {e.client for e in events} == {"unknown"}  # masked: the test client has no IP address
    assert events[0].prev_hash == audit.GENESIS and events[1].prev_hash == events[0].hash


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [
        ({"a": 1, "b": "x"}, {"a": 1, "b": "y"}, {"b": ["x", "y"]}),
        ({}, {"title": "連絡先 090-1234-5678"}, {"title": [None, "連絡先 [電話]"]}),
        ({"c": ["line"]}, {"c": ["line", "x"]}, {"c": [["line"], ["line", "x"]]}),
        ({"a": 1}, {"a": 1}, {}),
        ({"long": ""}, {"long": "あ" * 1000}, {"long": ["", "あ" * audit.MAX_VALUE]}),
    ],
)
def test_changes_keep_only_what_changed_masked(
    before: dict[str, Any], after: dict[str, Any], expected: dict[str, Any]
) -> None:
    assert audit.changes(before, after) == expected


def _chain(sessions: sessionmaker[Session], n: int) -> None:
    for i in range(n):
        with session_scope(sessions) as s:
            actor = audit.Actor(f"user{i}", "editor")
            audit.record(s, actor, audit.CLI, "post.edit", "post", i, {"changes": {"title": [f"t{i}", "u"]}})


def _by_hand(engine: Engine, sql: str) -> None:
    """What someone with database access could do (on PostgreSQL past the trigger, as its owner)."""
    with engine.begin() as conn:
        if ON_POSTGRES:
            conn.execute(text("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only"))
        conn.execute(text(sql))
        if ON_POSTGRES:
            conn.execute(text("ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only"))


@pytest.mark.parametrize(
    ("sql", "row", "problem"),
    [
        ("UPDATE audit_events SET actor = 'someone' WHERE id = 3", 3, "content does not match"),
        ("UPDATE audit_events SET summary = '{}' WHERE id = 2", 2, "content does not match"),
        ("DELETE FROM audit_events WHERE id = 3", 4, "row(s) 3 before it are missing"),
        ("UPDATE audit_events SET prev_hash = hash WHERE id = 4", 4, "prev_hash does not match row 3"),
    ],
)
def test_changing_one_row_by_hand_makes_verify_name_it(
    db_url: str, engine: Engine, sessions: sessionmaker[Session], sql: str, row: int, problem: str
) -> None:
    _chain(sessions, 5)
    ok = suita("audit", "verify", env={"DATABASE_URL": db_url})
    assert ok.exit_code == 0 and "intact: 5 rows" in ok.stdout, ok.stderr
    _by_hand(engine, sql)
    broken = suita("audit", "verify", env={"DATABASE_URL": db_url})
    assert broken.exit_code == 1
    assert f"broken at row {row}:" in broken.stderr and problem in broken.stderr


def test_verify_accepts_a_chain_whose_oldest_rows_were_archived(
    engine: Engine, sessions: sessionmaker[Session]
) -> None:
    _chain(sessions, 4)
    _by_hand(engine, "DELETE FROM audit_events WHERE id <= 2")
    with sessions() as s:
        assert audit.verify(s) == (2, None)
    _by_hand(engine, "DELETE FROM audit_events WHERE id = 3")
    _chain(sessions, 1)
    with sessions() as s:
        checked, broken = audit.verify(s)
    assert broken is None and checked == 2  # rows 4 and 5: the anchor is row 4's prev_hash


@pytest.mark.skipif(not ON_POSTGRES, reason="the trigger exists on PostgreSQL")
@pytest.mark.parametrize("sql", ["UPDATE audit_events SET actor = 'x'", "DELETE FROM audit_events"])
def test_postgres_refuses_update_and_delete(
    engine: Engine, sessions: sessionmaker[Session], sql: str
) -> None:
    _chain(sessions, 1)
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
        conn.execute(text(sql))


def test_the_masked_address_is_kept_never_the_full_one(
    live_server: Any, staff_user: str, sessions: sessionmaker[Session]
) -> None:
    import httpx

    with httpx.Client(base_url=live_server.url) as http:
        token = re.search(r'name="csrf_token" value="([^"]+)"', http.get("/login").text)
        assert token is not None
        form = {"username": staff_user, "password": "wrong password 1", "csrf_token": token.group(1)}
        assert http.post("/login", data=form, headers={"Origin": live_server.url}).status_code == 401
    assert [e.client for e in rows(sessions)] == ["127.0.0.x"]


def test_password_change_is_recorded(
    client: TestClient, staff_user: str, sessions: sessionmaker[Session]
) -> None:
    sign_in(client, staff_user)
    new = "another strong passphrase 42"
    body = {"current_password": STAFF_PASSWORD, "new_password": new}
    assert client.post("/api/v1/session/password", json=body).status_code == 200
    assert [e.action for e in rows(sessions)][-2:] == ["staff.password_change", "staff.sign_in"]


def test_imports_and_targets_from_the_command_line_are_recorded(
    db_url: str, tmp_path: Any, sessions: sessionmaker[Session]
) -> None:
    env = {"DATABASE_URL": db_url, "APP_ENV": "test"}
    source = tmp_path / "new.csv"
    source.write_bytes("id,question,answer\nsodai,粗大ごみの出し方,申し込み制です\n".encode("cp932"))
    assert suita("faq", "import", str(source), env=env).exit_code == 0
    assert suita("kpi", "targets", "set", "2030-03-31", "120000", env=env).exit_code == 0
    events = rows(sessions)
    assert [(e.action, e.actor_role, e.object_id) for e in events] == [
        ("faq.import", "cli", "*"),
        ("kpi.target_set", "cli", "total"),
    ]
    assert events[0].actor.startswith("cli:") and events[0].summary["note"] == "1 entries from new.csv"
    assert events[1].summary["changes"]["2030-03-31"][1] == 120000
