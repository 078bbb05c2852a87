"""Merging duplicate reports into a main report (and undoing it), confirming or dismissing collected
posts, and every staff change of a report in the audit log (which still verifies)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.deps import MAX_ROW_ID
from fakes.fake_line import FakeLine
from reports import line_flow
from reports import report_store as store
from reports.report_triage import MAX_MERGE
from reports.reports_tables import Reporter, ReportNotice
from storage.db import session_scope
from tests.bot.helpers import wait_for
from tests.cli_runner import suita
from tests.conftest import sign_in_as
from tests.line_fixtures import user_id
from tests.reports.photo_samples import jpeg_with_gps


def phone(client: TestClient, category: str = "road", **form: Any) -> int:
    photo = form.pop("photo", None)
    files = {"photo": ("p.jpg", photo, "image/jpeg")} if photo is not None else None
    made = client.post(
        "/api/v1/reports", data={"category": category, "address": "江坂町", **form}, files=files
    )
    assert made.status_code == 201, made.text
    return int(made.json()["id"])


def merge(
    client: TestClient, main: int, *duplicates: Any, note: str | None = None, undo: bool = False
) -> Any:
    path = "unmerge" if undo else "merge"
    return client.post(f"/api/v1/reports/{main}/{path}", json={"duplicates": list(duplicates), "note": note})


def test_merge_shows_a_combined_view_and_unmerge_restores(staff_client: TestClient) -> None:
    main = phone(staff_client, note="江坂駅前の道路が陥没")
    a = phone(staff_client, note="駅前で道がへこんでいる", photo=jpeg_with_gps())
    b = phone(staff_client, "other", note="穴があいている")
    assert staff_client.post(f"/api/v1/reports/{b}/status", json={"status": "checking"}).status_code == 200

    merged = merge(staff_client, main, a, b, note="同じ陥没")
    assert merged.status_code == 200, merged.text
    view = merged.json()
    assert view["id"] == main and view["duplicate_count"] == 2
    assert [(d["id"], d["status"], d["duplicate_of"], d["source"]) for d in view["duplicates"]] == [
        (a, "duplicate", main, "phone"),
        (b, "duplicate", main, "phone"),
    ]
    first = view["duplicates"][0]
    assert first["note"] == "駅前で道がへこんでいる" and first["created_at"]
    assert (
        first["photos"][0]["url"] and staff_client.get(first["photos"][0]["thumbnail_url"]).status_code == 200
    )
    assert (
        f"R-{a:06d}, R-{b:06d}" in view["history"][-1]["note"] and "同じ陥没" in view["history"][-1]["note"]
    )

    listed = staff_client.get("/api/v1/reports").json()["reports"]
    assert {r["id"]: r["duplicate_count"] for r in listed} == {main: 2, a: 0, b: 0}
    hidden = staff_client.get("/api/v1/reports", params={"duplicates": "false"}).json()["reports"]
    assert [r["id"] for r in hidden] == [main]
    only = staff_client.get("/api/v1/reports", params={"status": "duplicate"}).json()["reports"]
    assert {r["id"] for r in only} == {a, b}

    undone = merge(staff_client, main, b, note="別の穴だった", undo=True)
    assert undone.status_code == 200 and undone.json()["duplicate_count"] == 1
    back = staff_client.get(f"/api/v1/reports/{b}").json()
    assert (back["status"], back["duplicate_of"]) == ("checking", None)  # its status before the merge
    assert "別の穴だった" in back["history"][-1]["note"]
    assert staff_client.get(f"/api/v1/reports/{a}").json()["status"] == "duplicate"


def test_merging_a_main_report_moves_its_duplicates_along(staff_client: TestClient) -> None:
    """Flat: a duplicate's main report is never a duplicate, so merges never form chains or cycles."""
    x, y, z = (phone(staff_client) for _ in range(3))
    assert merge(staff_client, y, z).status_code == 200
    assert merge(staff_client, x, y).status_code == 200
    view = staff_client.get(f"/api/v1/reports/{x}").json()
    assert sorted(d["id"] for d in view["duplicates"]) == [y, z]
    assert staff_client.get(f"/api/v1/reports/{z}").json()["duplicate_of"] == x
    # the other way round is now refused: y is a duplicate (of x)
    refused = merge(staff_client, y, x)
    assert refused.status_code == 422 and f"R-{x:06d}" in refused.json()["detail"]


@pytest.mark.parametrize(
    ("duplicates", "why"),
    [
        (["main"], "cannot be merged into itself"),
        ([], ""),
        ([0], ""),
        ([MAX_ROW_ID + 1], ""),
        (list(range(1, MAX_MERGE + 2)), ""),
        ([99_999], "no such report"),
        (["merged"], "already merged"),
        (["dup_elsewhere_main"], "already merged"),
    ],
)
def test_bad_merges_are_refused_and_change_nothing(
    staff_client: TestClient, duplicates: list[Any], why: str
) -> None:
    main, merged, free = phone(staff_client), phone(staff_client), phone(staff_client)
    assert merge(staff_client, main, merged).status_code == 200
    names = {"main": main, "merged": merged, "dup_elsewhere_main": merged}
    ids = [names.get(d, d) for d in duplicates]
    before = staff_client.get("/api/v1/reports").json()
    answer = merge(staff_client, main, *ids)
    assert answer.status_code == 422, answer.text
    assert why in answer.text
    assert staff_client.get("/api/v1/reports").json() == before
    # into a duplicate; unmerging a report that is not merged there
    assert "itself a duplicate" in merge(staff_client, merged, free).json()["detail"]
    assert "not merged into" in merge(staff_client, main, free, undo=True).json()["detail"]
    assert merge(staff_client, 99_999, free).status_code == 404


def test_status_duplicate_is_a_merge(staff_client: TestClient) -> None:
    main, other = phone(staff_client), phone(staff_client)
    moved = staff_client.post(
        f"/api/v1/reports/{other}/status", json={"status": "duplicate", "duplicate_of": main}
    )
    assert moved.status_code == 200 and moved.json()["id"] == other and moved.json()["duplicate_of"] == main
    assert staff_client.get(f"/api/v1/reports/{main}").json()["duplicate_count"] == 1
    # a duplicate moved to another status leaves its main report
    freed = staff_client.post(f"/api/v1/reports/{other}/status", json={"status": "not_actionable"})
    assert freed.json()["duplicate_of"] is None
    assert staff_client.get(f"/api/v1/reports/{main}").json()["duplicate_count"] == 0


def _resident_report(sessions: sessionmaker[Session], user: str, lang: str) -> int:
    with session_scope(sessions) as s:
        reporter = store.reporter_for(s, user, "line", lang)
        report = store.create(
            s,
            store.NewReport("road", "line", "道路の陥没", address="江坂町", reporter_id=reporter.id),
            "resident",
        )
        assert report is not None
        return report.id


def test_residents_who_filed_duplicates_hear_the_main_reports_status_in_their_language(
    flow_client: TestClient, fake_line: FakeLine, sessions: sessionmaker[Session]
) -> None:
    ja, en, ko = user_id(401), user_id(402), user_id(403)
    main = _resident_report(sessions, ja, "ja")
    dup_en = _resident_report(sessions, en, "en")
    dup_ko = _resident_report(sessions, ko, "ko")
    sign_in_as(flow_client, sessions, "editor")
    assert merge(flow_client, main, dup_en, dup_ko).status_code == 200
    pushes = len(fake_line.deliveries("push"))
    assert flow_client.post(f"/api/v1/reports/{main}/status", json={"status": "handled"}).status_code == 200
    wait_for(lambda: len(fake_line.deliveries("push")) >= pushes + 3, what="three status pushes")
    sent = {d.to[0]: d.messages[0]["text"] for d in fake_line.deliveries("push")[pushes:]}
    assert sent[en] == f"Your report R-{dup_en:06d} has been handled. Thank you for reporting."
    assert sent[ko].startswith(f"접수 번호 R-{dup_ko:06d}의 신고는 처리가 완료되었습니다")
    assert sent[ja] == line_flow.status_message(f"R-{main:06d}", "handled", "ja")["text"]
    with sessions() as s:
        assert s.get(Reporter, 2).lang == "en"  # type: ignore[union-attr]


def test_merging_into_a_report_being_checked_tells_the_new_duplicates_reporter(
    staff_client: TestClient, sessions: sessionmaker[Session]
) -> None:
    main = phone(staff_client)
    assert staff_client.post(f"/api/v1/reports/{main}/status", json={"status": "checking"}).status_code == 200
    dup = _resident_report(sessions, user_id(404), "vi")
    assert merge(staff_client, main, dup).status_code == 200
    with sessions() as s:
        notices = [(n.report_id, n.status) for n in s.scalars(select(ReportNotice))]
    assert notices == [(dup, "checking")]


def test_collected_posts_are_confirmed_or_dismissed(
    staff_client: TestClient, sessions: sessionmaker[Session]
) -> None:
    with session_scope(sessions) as s:
        ids = [
            store.create(
                s,
                store.NewReport("other", "mastodon", f"#吹田市災害 {n}", external_id=str(n), confirmed=False),
                "system",
            ).id  # type: ignore[union-attr]
            for n in range(2)
        ]
    kept = staff_client.post(f"/api/v1/reports/{ids[0]}/confirm", json={"note": "写真で確認"})
    assert kept.status_code == 200 and (kept.json()["confirmed"], kept.json()["status"]) == (True, "new")
    dropped = staff_client.post(f"/api/v1/reports/{ids[1]}/dismiss", json={})
    assert (dropped.json()["confirmed"], dropped.json()["status"]) == (True, "not_actionable")
    assert "却下 / dismissed" in dropped.json()["history"][-1]["note"]
    again = staff_client.post(f"/api/v1/reports/{ids[0]}/confirm", json={})
    assert again.status_code == 422 and "already confirmed" in again.text
    assert staff_client.post("/api/v1/reports/99999/dismiss", json={}).status_code == 404
    assert staff_client.get("/api/v1/reports", params={"confirmed": "false"}).json()["reports"] == []


def test_every_staff_change_is_in_the_audit_log_and_the_chain_verifies(
    client: TestClient, sessions: sessionmaker[Session], db_url: str
) -> None:
    editor = sign_in_as(client, sessions, "editor")
    main = phone(client, "fire", note="田中太郎 090-1234-5678 宅で火災", lat="34.76", lon="135.51")
    other = phone(client)
    with session_scope(sessions) as s:
        post = store.create(
            s, store.NewReport("other", "bluesky", "#吹田市災害", external_id="p1", confirmed=False), "system"
        )
        assert post is not None
        post_id = post.id
    assert (
        client.post(
            f"/api/v1/reports/{main}/status", json={"status": "checking", "note": "現地へ"}
        ).status_code
        == 200
    )
    assert (
        client.patch(f"/api/v1/reports/{main}", json={"address": "山田太郎さん宅 090-9999-8888"}).status_code
        == 200
    )
    assert merge(client, main, other, note="同じ火災").status_code == 200
    assert merge(client, main, other, undo=True).status_code == 200
    assert client.post(f"/api/v1/reports/{post_id}/confirm", json={}).status_code == 200
    assert merge(client, main, main).status_code == 422  # refused: nothing recorded

    sign_in_as(client, sessions, "admin")
    events = client.get("/api/v1/audit", params={"object_type": "report"}).json()["events"]
    assert [(e["action"], e["actor"], e["object_id"]) for e in reversed(events)] == [
        ("report.create", editor, str(main)),
        ("report.create", editor, str(other)),
        ("report.status", editor, str(main)),
        ("report.correct", editor, str(main)),
        ("report.merge", editor, str(main)),
        ("report.unmerge", editor, str(main)),
        ("report.confirm", editor, str(post_id)),
    ]
    by_action = {e["action"]: e for e in events}
    assert by_action["report.status"]["changes"] == {"status": ["new", "checking"]}
    assert by_action["report.status"]["note"] == "現地へ"
    fixed = by_action["report.correct"]["changes"]["address"]
    assert fixed[0] == "江坂町" and "山田太郎" not in fixed[1] and "090-9999-8888" not in fixed[1]  # masked
    assert by_action["report.merge"]["note"] == "同じ火災"
    assert by_action["report.confirm"]["changes"] == {"confirmed": [False, True]}
    created = next(e for e in events if e["action"] == "report.create" and e["object_id"] == str(main))
    assert created["changes"]["category"] == [None, "fire"] and "090-1234-5678" not in str(created)

    verified = suita("audit", "verify", env={"DATABASE_URL": db_url})
    assert verified.exit_code == 0 and "intact" in verified.stdout, verified.stderr
