"""Archiving the audit log's oldest rows (`suita audit archive`, the daily retention job) and checking
archives with the rows kept (`suita audit verify --archive`), on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from app import audit, audit_archive
from app.audit_tables import AuditEvent
from app.auth import create_staff_user
from notifier import audit_retention_job, periodic_jobs
from storage.db import session_scope
from tests.cli_runner import suita
from tests.conftest import ON_POSTGRES, make_settings, sign_in
from tests.platform_fakes import run_async
from tests.test_audit import _by_hand

OLD = dt.datetime(2026, 1, 10, 3, 0, tzinfo=dt.UTC)  # the rows of January
CUT_1 = "2026-01-12"  # before it (JST): rows 1–2 (10 and 11 January)
CUT_2 = "2026-02-01"  # before it: every January row


@pytest.fixture
def archive_dir(tmp_path: Path) -> Path:
    """Where archives go (not yet created: the command makes it)."""
    return tmp_path / "audit-archive"


def write_rows(sessions: sessionmaker[Session], old: int = 4, recent: int = 2) -> None:
    """`old` rows a day apart from 10 January, then `recent` rows written now."""
    now = dt.datetime.now(dt.UTC)
    times = [OLD + dt.timedelta(days=i) for i in range(old)] + [now] * recent
    for i, at in enumerate(times):
        with session_scope(sessions) as s:
            summary = {"changes": {"title": [f"t{i}", "新しい題名"]}}
            audit.record(
                s, audit.Actor(f"user{i}", "editor"), audit.CLI, "post.edit", "post", i, summary, now=at
            )


def ids(sessions: sessionmaker[Session]) -> list[int]:
    with sessions() as s:
        return list(s.scalars(select(AuditEvent.id).order_by(AuditEvent.id)))


def env(db_url: str, folder: Path, **more: str) -> dict[str, str]:
    return {"DATABASE_URL": db_url, "APP_ENV": "test", "AUDIT_ARCHIVE_DIR": str(folder), **more}


def archive(db_url: str, folder: Path, *args: str, **more: str) -> Any:
    return suita("audit", "archive", *args, env=env(db_url, folder, **more))


def verify(db_url: str, folder: Path, *files: Path) -> Any:
    return suita(
        "audit", "verify", *[a for f in files for a in ("--archive", str(f))], env=env(db_url, folder)
    )


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.mark.parametrize("with_archive", [False, True])
def test_archive_then_verify(
    db_url: str, sessions: sessionmaker[Session], archive_dir: Path, with_archive: bool
) -> None:
    write_rows(sessions)
    done = archive(db_url, archive_dir, "--before", CUT_2)
    assert done.exit_code == 0, done.stderr
    path = archive_dir / "audit-000000001-000000004.jsonl"
    assert f"archived rows 1–4 (4 rows) to {path}" in done.stdout
    header, *rows = lines(path)
    assert [r["id"] for r in rows] == [1, 2, 3, 4]
    assert set(rows[0]) == set(audit_archive.COLUMNS) and rows[0]["prev_hash"] == audit.GENESIS
    assert header["format"] == "suita-audit-archive" and (header["first_id"], header["last_id"]) == (1, 4)
    assert header["rows"] == 4 and header["last_hash"] == rows[-1]["hash"]
    assert ids(sessions) == [5, 6, 7]  # row 7: the audit.archive event, after the rows kept
    assert [p.name for p in archive_dir.iterdir()] == [path.name]  # no temp file left

    checked = verify(db_url, archive_dir, *([path] if with_archive else []))
    assert checked.exit_code == 0, checked.stderr
    assert "audit log intact: 3 rows" in checked.stdout
    assert f"row 5 follows hash {header['last_hash']}" in checked.stdout
    assert ("archive " in checked.stdout and "intact: rows 1–4 (4 rows)" in checked.stdout) is with_archive
    assert ("(the last archived row's hash: checked)" in checked.stdout) is with_archive


@pytest.mark.parametrize(
    ("given", "ok", "expected"),
    [
        (["first", "second"], True, "(the last archived row's hash: checked)"),
        (["second", "first"], True, "(the last archived row's hash: checked)"),
        (["second"], True, "give the older archives to check it too"),
        (["first"], False, "audit log broken at row 5: row(s) 3–4 before it are missing"),
    ],
)
def test_consecutive_archives_link(
    db_url: str, sessions: sessionmaker[Session], archive_dir: Path, given: list[str], ok: bool, expected: str
) -> None:
    write_rows(sessions)
    assert archive(db_url, archive_dir, "--before", CUT_1).exit_code == 0
    assert archive(db_url, archive_dir, "--before", CUT_2).exit_code == 0
    files = {
        "first": archive_dir / "audit-000000001-000000002.jsonl",
        "second": archive_dir / "audit-000000003-000000004.jsonl",
    }
    assert lines(files["second"])[1]["prev_hash"] == lines(files["first"])[0]["last_hash"]
    result = verify(db_url, archive_dir, *[files[name] for name in given])
    assert result.exit_code == (0 if ok else 1)
    assert expected in (result.stdout if ok else result.stderr)


def _edit_row(row: int, change: dict[str, Any]) -> Any:
    def edit(text_lines: list[str]) -> list[str]:
        data = json.loads(text_lines[row])
        data.update(change)
        text_lines[row] = json.dumps(data, ensure_ascii=False)
        return text_lines

    return edit


@pytest.mark.parametrize(
    ("tamper", "where", "problem"),
    [
        (_edit_row(2, {"actor": "someone"}), "row 2", "its content does not match its hash"),
        (_edit_row(3, {"summary": {}}), "row 3", "its content does not match its hash"),
        (lambda ls: ls[:3] + ls[4:], "row 4", "row(s) 3 before it are missing"),
        (lambda ls: [*ls[:2], ls[3], ls[2], *ls[4:]], "row 3", "row(s) 2 before it are missing"),
        (lambda ls: [*ls[:3], ls[2], *ls[3:]], "row 2", "its id does not come after row 2"),
        (lambda ls: [*ls[:2], "{not json", *ls[3:]], "row 2", "line 3 is not a row"),
        (_edit_row(0, {"last_hash": "0" * 64}), "its header", "its header names 4 rows"),
        (lambda ls: ls[:-1], "its header", "the file has 3 rows ending at row 3"),
    ],
)
def test_a_changed_archive_fails_naming_the_row(
    db_url: str, sessions: sessionmaker[Session], archive_dir: Path, tamper: Any, where: str, problem: str
) -> None:
    write_rows(sessions)
    assert archive(db_url, archive_dir, "--before", CUT_2).exit_code == 0
    path = archive_dir / "audit-000000001-000000004.jsonl"
    path.write_text("\n".join(tamper(path.read_text(encoding="utf-8").splitlines())) + "\n", encoding="utf-8")
    result = verify(db_url, archive_dir, path)
    assert result.exit_code == 1
    assert f"archive {path} broken at {where}: " in result.stderr and problem in result.stderr


@pytest.mark.parametrize(
    ("sql", "row"),
    [
        ("UPDATE audit_events SET actor = 'someone' WHERE id = 2", 2),
        ("DELETE FROM audit_events WHERE id = 3", 4),
        ("UPDATE audit_events SET prev_hash = hash WHERE id = 5", 5),  # the first row kept
    ],
)
def test_a_broken_chain_is_never_archived(
    db_url: str, engine: Engine, sessions: sessionmaker[Session], archive_dir: Path, sql: str, row: int
) -> None:
    write_rows(sessions)
    _by_hand(engine, sql)
    before = ids(sessions)
    result = archive(db_url, archive_dir, "--before", CUT_2)
    assert result.exit_code == 1
    assert (
        f"the audit log is broken at row {row}:" in result.stderr and "nothing was archived" in result.stderr
    )
    assert ids(sessions) == before and list(archive_dir.iterdir()) == []  # no temp file left either


@pytest.mark.skipif(not ON_POSTGRES, reason="the append-only trigger exists on PostgreSQL")
@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE audit_events SET actor = 'x'",
        "DELETE FROM audit_events",
        "DELETE FROM audit_events WHERE id = (SELECT min(id) FROM audit_events)",
    ],
)
def test_postgres_still_refuses_update_and_delete_after_archiving(
    db_url: str, engine: Engine, sessions: sessionmaker[Session], archive_dir: Path, sql: str
) -> None:
    write_rows(sessions)
    assert archive(db_url, archive_dir, "--before", CUT_2).exit_code == 0
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
        conn.execute(text(sql))
    with engine.connect() as conn:
        enabled = conn.scalar(
            text("SELECT tgenabled FROM pg_trigger WHERE tgname = 'audit_events_append_only'")
        )
    assert enabled == "O" and ids(sessions) == [5, 6, 7]


def test_a_failed_transaction_removes_nothing_and_leaves_no_file(
    db_url: str, sessions: sessionmaker[Session], archive_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*_args: Any, **_kwargs: Any) -> None:
        raise RuntimeError("the event could not be written\nsecond line")

    write_rows(sessions)
    monkeypatch.setattr(audit, "record", refuse)  # fails after the DELETE, in the same transaction
    result = archive(db_url, archive_dir, "--before", CUT_2)
    assert result.exit_code == 1
    assert "RuntimeError: the event could not be written; nothing was removed" in result.stderr
    assert ids(sessions) == [1, 2, 3, 4, 5, 6] and list(archive_dir.iterdir()) == []


@pytest.mark.skipif(not ON_POSTGRES, reason="table ownership is PostgreSQL's")
def test_postgres_a_role_that_does_not_own_the_table_archives_nothing(
    db_url: str, engine: Engine, sessions: sessionmaker[Session], archive_dir: Path
) -> None:
    write_rows(sessions)
    role = f"clerk_{uuid.uuid4().hex[:8]}"  # roles are the cluster's: a name of this test's own
    with engine.begin() as conn:
        conn.execute(text(f'CREATE ROLE "{role}" LOGIN'))
        conn.execute(text(f'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO "{role}"'))
    try:
        clerk = make_url(db_url).set(username=role).render_as_string(hide_password=False)
        result = archive(clerk, archive_dir, "--before", CUT_2)
        assert result.exit_code == 1, result.stdout
        assert "must be owner of table audit_events; nothing was removed" in result.stderr
        assert ids(sessions) == [1, 2, 3, 4, 5, 6] and list(archive_dir.iterdir()) == []
    finally:
        with engine.begin() as conn:
            conn.execute(text(f'DROP OWNED BY "{role}"'))
            conn.execute(text(f'DROP ROLE "{role}"'))


@pytest.mark.parametrize(
    ("args", "more", "code", "expected", "kept"),
    [
        ((), {}, 0, "nothing to do: AUDIT_RETENTION_DAYS is 0 (keep every row)", 6),
        ((), {"AUDIT_RETENTION_DAYS": "0"}, 0, "nothing to do", 6),
        (("--before", "2025-12-01"), {}, 0, "nothing to archive: no row before 2025-12-01T00:00:00+09:00", 6),
        (("--before", "2999-01-01"), {}, 2, "--before must not be after today", 6),
        ((), {"AUDIT_RETENTION_DAYS": "30"}, 0, "archived rows 1–4 (4 rows)", 3),
    ],
)
def test_what_archive_does_by_setting_and_option(
    db_url: str,
    sessions: sessionmaker[Session],
    archive_dir: Path,
    args: tuple[str, ...],
    more: dict[str, str],
    code: int,
    expected: str,
    kept: int,
) -> None:
    write_rows(sessions)
    result = archive(db_url, archive_dir, *args, **more)
    assert result.exit_code == code
    assert expected in (result.stdout if code == 0 else result.stderr)
    assert len(ids(sessions)) == kept


def test_the_newest_row_always_stays(db_url: str, sessions: sessionmaker[Session], archive_dir: Path) -> None:
    write_rows(sessions, old=3, recent=0)
    result = archive(db_url, archive_dir, "--before", CUT_2)
    assert "archived rows 1–2 (2 rows)" in result.stdout, result.stderr
    assert ids(sessions) == [3, 4]  # the newest old row, then the audit.archive event linked to it
    assert verify(db_url, archive_dir, archive_dir / "audit-000000001-000000002.jsonl").exit_code == 0


def test_out_names_the_file_and_never_overwrites(
    db_url: str, sessions: sessionmaker[Session], archive_dir: Path
) -> None:
    write_rows(sessions)
    out = archive_dir.parent / "kept" / "2026-01.jsonl"
    out.parent.mkdir()
    out.write_text("an older file\n")
    refused = archive(db_url, archive_dir, "--before", CUT_2, "--out", str(out))
    assert refused.exit_code == 1 and "exists already" in refused.stderr and len(ids(sessions)) == 6
    out.unlink()
    done = archive(db_url, archive_dir, "--before", CUT_2, "--out", str(out))
    assert done.exit_code == 0 and lines(out)[0]["last_id"] == 4
    assert verify(db_url, archive_dir, out).exit_code == 0


def test_an_archive_planned_before_another_one_removes_nothing(
    sessions: sessionmaker[Session], archive_dir: Path
) -> None:
    """Two archivers at once (the job and an operator): the later one's rows were removed meanwhile,
    so its transaction refuses and its file is dropped."""
    write_rows(sessions)
    cutoff = audit_archive.day_start(dt.date(2026, 2, 1))
    with sessions() as s:
        stale = audit_archive.plan_header(s, 1, 4, cutoff)
    kw: dict[str, Any] = {"directory": archive_dir, "actor": audit.cli_actor(), "origin": audit.CLI}
    assert audit_archive.archive(sessions, before=cutoff, **kw) is not None
    meanwhile = pytest.raises(audit_archive.ArchiveError, match="changed or were archived meanwhile")
    with meanwhile, session_scope(sessions) as s:
        audit_archive._delete(s, stale, audit.cli_actor(), audit.CLI, "late.jsonl")
    assert ids(sessions) == [5, 6, 7]


@pytest.mark.parametrize(
    ("retention", "kept"), [(0, [1, 2, 3, 4, 5, 6]), (30, [5, 6, 7]), (3650, [1, 2, 3, 4, 5, 6])]
)
def test_the_daily_job_archives_only_when_retention_is_set(
    db_url: str, sessions: sessionmaker[Session], archive_dir: Path, retention: int, kept: list[int]
) -> None:
    write_rows(sessions)
    settings = make_settings(db_url, audit_retention_days=retention, audit_archive_dir=archive_dir)
    ctx = periodic_jobs.JobContext(settings, sessions, "worker-1", dt.datetime.now(dt.UTC))
    run_async(audit_retention_job.archive_old_audit_rows(ctx))
    assert ids(sessions) == kept
    assert len(list(archive_dir.glob("*"))) == (1 if kept[0] > 1 else 0)
    if kept[0] > 1:
        with sessions() as s:
            event = s.get(AuditEvent, 7)
        assert event is not None and (event.actor, event.actor_role) == ("system:audit-retention", "system")
        assert event.request_id == "job:worker-1" and event.summary["last_id"] == 4


def test_the_job_is_a_daily_periodic_job_of_the_workers(
    db_url: str, sessions: sessionmaker[Session], archive_dir: Path
) -> None:
    (job,) = [j for j in periodic_jobs.registered() if j.name == audit_retention_job.JOB_NAME]
    assert job.run is audit_retention_job.archive_old_audit_rows and job.interval == dt.timedelta(days=1)
    write_rows(sessions)
    worker = suita("notifier", "worker", "--once", env=env(db_url, archive_dir, AUDIT_RETENTION_DAYS="30"))
    assert worker.exit_code == 0, worker.stderr
    assert ids(sessions) == [5, 6, 7]
    again = suita("notifier", "worker", "--once", env=env(db_url, archive_dir, AUDIT_RETENTION_DAYS="1"))
    assert again.exit_code == 0 and ids(sessions) == [5, 6, 7]  # once a day, whichever worker


def test_the_archive_event_is_in_the_api(
    db_url: str, client: TestClient, sessions: sessionmaker[Session], archive_dir: Path
) -> None:
    write_rows(sessions)
    assert archive(db_url, archive_dir, "--before", CUT_2).exit_code == 0
    header = lines(archive_dir / "audit-000000001-000000004.jsonl")[0]
    with session_scope(sessions) as s:
        create_staff_user(s, username="kanri", password="correct horse battery", role="admin")
    sign_in(client, "kanri")
    (event,) = client.get("/api/v1/audit", params={"action": "audit.archive"}).json()["events"]
    assert (event["object_type"], event["object_id"], event["actor_role"]) == ("audit_events", "1-4", "cli")
    assert "rows 1-4 (4) archived to audit-000000001-000000004.jsonl" in event["note"]
    assert header["last_hash"] in event["note"]
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.id <= 4)) == 0
