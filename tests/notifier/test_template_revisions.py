"""Staff edits of the emergency templates' texts and review marks: an edit is checked as the shipped file
is (slots named in the refusal), waits for another approver when approval is on (never self-approved),
becomes the text posts are filled from only once approved, clears the language's review; an approver
marks the text in force reviewed; every action is in the audit log. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.audit_tables import AuditEvent
from app.languages import LANGUAGES
from app.settings import Settings
from notifier import emergency_templates as et
from notifier import template_revisions as tr
from notifier.compose import TEMPLATE_TEXTS
from notifier.ledger_tables import Post, TemplateReview, TemplateRevision
from storage.db import session_scope
from tests.notifier import test_approval
from tests.notifier.conftest import Fakes, post_data
from tests.notifier.test_approval import as_
from tests.notifier.test_cli import env_for, notifier, write
from tests.notifier.test_emergency_templates import ORDER

ID = "evacuation-level4-instruction"
settings, people = test_approval.settings, test_approval.people  # fixtures: approval on, four people
BASE = f"/api/v1/emergency-templates/{ID}"
VI = {
    "title": "[Cảnh báo cấp 4] LỆNH SƠ TÁN {area}",
    "body": "Lúc {time}, thành phố Suita ra lệnh sơ tán cho {area}. Hãy đến nơi an toàn ngay.\n"
    "Nơi sơ tán: {shelters}",
}


def template_post(client: TestClient, path: str = "/api/v1/posts/preview") -> dict[str, Any]:
    data = post_data(channels=["line"], topic="bousai", urgency="emergency", template=ORDER)
    del data["title"], data["body"]
    r = client.post(path, json=data)
    assert r.status_code in (200, 201), r.text
    body: dict[str, Any] = r.json()
    return body


def vi_line_text(preview: dict[str, Any]) -> str:
    text: str = preview["channels"]["line"]["languages"]["vi"][0]["text"]
    return text


# ---- pure ------------------------------------------------------------------------------------------

TEMPLATE = et.library()[ID]
OK_BODY = "{time} {area} {shelters}"


@pytest.mark.parametrize(
    ("title", "body", "expected"),
    [
        ("{area}", OK_BODY, []),
        ("題", "{time} {area}", ["項目 {shelters} がありません"]),
        ("{area}", OK_BODY + " {river}", ["このテンプレートにない項目です: {river}"]),
        ("{area}", OK_BODY + " {Area}", ["本文に項目ではない波かっこ"]),
        ("{area} }", OK_BODY, ["題名に項目ではない波かっこ"]),
        ("x" * 201, OK_BODY, ["題名は 200 文字以内にしてください(201 文字)"]),
        ("{area}", OK_BODY + "x" * 4000, ["本文は 4,000 文字以内にしてください"]),
        (" ", OK_BODY.replace("{area}", ""), ["題名を入力してください", "項目 {area} がありません"]),
    ],
)
def test_an_edited_text_is_checked_as_the_shipped_file_is(title: str, body: str, expected: list[str]) -> None:
    problems = et.text_problems(TEMPLATE, title, body)
    assert len(problems) == len(expected)
    for (ja, en), words in zip(problems, expected, strict=True):
        assert ja.startswith(words) and en


def test_fill_uses_the_texts_it_is_given_and_the_shipped_ones_elsewhere() -> None:
    edited = {"vi": et.Text(**VI)}
    filled = et.fill(ID, ORDER["slots"], edited)
    assert filled["vi"].title == "[Cảnh báo cấp 4] LỆNH SƠ TÁN 千里山西 (Senriyamanishi)"
    assert filled["en"] == et.fill(ID, ORDER["slots"])["en"]
    assert filled["ja"].title == "【警戒レベル4】避難指示 千里山西"


NOW = dt.datetime(2026, 12, 7, 1, 0, tzinfo=dt.UTC)


def _rev(rid: int) -> TemplateRevision:
    return TemplateRevision(
        id=rid, template_id=ID, language="vi", title="t", body="b", author="a", state="approved"
    )


def _mark(revision_id: int | None) -> TemplateReview:
    return TemplateReview(
        template_id=ID, language="vi", revision_id=revision_id, reviewed_by="shounin", reviewed_at=NOW
    )


@pytest.mark.parametrize(
    ("current", "mark", "expected"),
    [
        (None, None, None),  # the shipped file has no review
        (None, _mark(None), "2026-12-07"),  # the shipped text was checked
        (_rev(3), _mark(None), None),  # an edit was approved since: not covered
        (_rev(3), _mark(3), "2026-12-07"),
        (_rev(4), _mark(3), None),
    ],
)
def test_a_review_covers_only_the_text_it_checked(
    current: TemplateRevision | None, mark: TemplateReview | None, expected: str | None
) -> None:
    review = tr.review_in_force(TEMPLATE, "vi", current, mark)
    assert (review["on"] if review else None) == expected
    if review:
        assert review["by"] == "shounin" and review["at"] == "2026-12-07T10:00:00+09:00"


# ---- the API ---------------------------------------------------------------------------------------


def test_an_approved_edit_becomes_the_text_posts_are_filled_from(
    client: TestClient, people: dict[str, str], sessions: sessionmaker[Session]
) -> None:
    shipped_vi = vi_line_text(template_post(as_(client, "hensyu")))
    assert "Chỉ thị sơ tán" in shipped_vi

    r = client.put(f"{BASE}/texts/vi", json=VI)
    assert r.status_code == 200, r.text
    vi = r.json()["texts"]["vi"]
    assert vi["revision"] is None and vi["title"] == TEMPLATE.texts["vi"].title  # still the shipped text
    pending = vi["pending"]
    assert pending["state"] == "awaiting_approval" and pending["author"] == "hensyu"
    listed = {t["id"]: t for t in client.get("/api/v1/emergency-templates").json()}
    assert listed[ID]["awaiting_approval"] == ["vi"]
    waiting = client.get("/api/v1/emergency-templates/awaiting-approval").json()
    assert [(w["revision"], w["language"]) for w in waiting] == [(pending["revision"], "vi")]
    assert vi_line_text(template_post(client)) == shipped_vi  # a pending edit is not used

    assert client.post(f"{BASE}/revisions/{pending['revision']}/approve").status_code == 403  # editor
    as_(client, "shounin")
    r = client.post(f"{BASE}/revisions/{pending['revision']}/approve")
    assert r.status_code == 200, r.text
    vi = r.json()["texts"]["vi"]
    assert (vi["revision"], vi["title"], vi["approved_by"], vi["pending"]) == (
        pending["revision"],
        VI["title"],
        "shounin",
        None,
    )
    assert "LỆNH SƠ TÁN 千里山西 (Senriyamanishi)" in vi_line_text(template_post(client))
    created = template_post(as_(client, "kanri"), "/api/v1/posts")
    assert created["variants"]["vi"]["title"] == "[Cảnh báo cấp 4] LỆNH SƠ TÁN 千里山西 (Senriyamanishi)"
    assert created["variants"]["en"]["title"].startswith("[Alert Level 4] Evacuation Instruction")
    with sessions() as s:
        assert s.scalars(select(Post.id)).all() == [created["id"]]


@pytest.mark.parametrize("approver", ["shounin", "kanri"])
def test_nobody_approves_their_own_edit(client: TestClient, people: dict[str, str], approver: str) -> None:
    as_(client, approver)
    rev = client.put(f"{BASE}/texts/ko", json={"title": "{area}", "body": OK_BODY}).json()["texts"]["ko"][
        "pending"
    ]
    r = client.post(f"{BASE}/revisions/{rev['revision']}/approve")
    assert r.status_code == 403
    assert r.json()["detail"].startswith(f"自分が編集した版 No. {rev['revision']} は承認できません")


def test_a_rejected_edit_keeps_the_text_and_says_why(client: TestClient, people: dict[str, str]) -> None:
    as_(client, "hensyu")
    first = client.put(f"{BASE}/texts/pt", json={"title": "{area} 1", "body": OK_BODY}).json()
    second = client.put(f"{BASE}/texts/pt", json={"title": "{area} 2", "body": OK_BODY}).json()
    old, new = first["texts"]["pt"]["pending"]["revision"], second["texts"]["pt"]["pending"]["revision"]
    assert new > old
    as_(client, "shounin")
    r = client.post(f"{BASE}/revisions/{old}/approve")  # replaced by the second edit
    assert r.status_code == 409 and "superseded" in r.json()["detail"]
    r = client.post(f"{BASE}/revisions/{new}/reject", json={"reason": "用語が国の指針と違います"})
    assert r.status_code == 200, r.text
    pt = r.json()["texts"]["pt"]
    assert pt["revision"] is None and pt["pending"] is None
    assert (pt["rejected"]["revision"], pt["rejected"]["reason"]) == (new, "用語が国の指針と違います")
    assert client.post(f"{BASE}/revisions/{new}/approve").status_code == 409


def test_without_approval_an_edit_is_in_force_at_once(
    client: TestClient, people: dict[str, str], settings: Settings
) -> None:
    client.app.state.settings = settings.model_copy(update={"approval_required": False})  # type: ignore[attr-defined]
    as_(client, "hensyu")
    vi = client.put(f"{BASE}/texts/vi", json=VI).json()["texts"]["vi"]
    assert (vi["title"], vi["approved_by"], vi["pending"]) == (VI["title"], "hensyu", None)
    draft = client.put(f"{BASE}/texts/vi", json={**VI, "title": "{area}", "draft": True}).json()["texts"][
        "vi"
    ]
    assert draft["title"] == VI["title"] and draft["pending"]["state"] == "draft"


@pytest.mark.parametrize(
    ("path", "body", "status", "words"),
    [
        ("texts/vi", {"title": "{area}", "body": "{time}"}, 422, "項目 {shelters} がありません"),
        (
            "texts/vi",
            {"title": "{area} {river}", "body": OK_BODY},
            422,
            "このテンプレートにない項目です: {river}",
        ),
        ("texts/vi", {"title": "{area}"}, 422, "body"),
        ("texts/xx", {"title": "{area}", "body": OK_BODY}, 404, "'xx' という言語はありません"),
        (
            "../no-such/texts/vi",
            {"title": "{area}", "body": OK_BODY},
            404,
            "'no-such' というテンプレートはありません",
        ),
    ],
)
def test_a_bad_edit_is_refused_naming_the_problem(
    client: TestClient, people: dict[str, str], path: str, body: dict[str, Any], status: int, words: str
) -> None:
    as_(client, "hensyu")
    url = f"{BASE}/{path}" if not path.startswith("..") else f"/api/v1/emergency-templates/{path[3:]}"
    r = client.put(url, json=body)
    assert r.status_code == status, r.text
    assert words in str(r.json()["detail"])


def test_marking_reviewed_covers_the_text_in_force_until_an_edit_is_approved(
    client: TestClient, people: dict[str, str]
) -> None:
    as_(client, "hensyu")
    assert client.post(f"{BASE}/texts/vi/reviewed", json={"revision": None}).status_code == 403  # editor
    as_(client, "shounin")
    r = client.post(f"{BASE}/texts/vi/reviewed", json={"revision": None})
    assert r.status_code == 200, r.text
    today = r.json()["texts"]["vi"]["review"]["on"]
    listed = {t["id"]: t for t in client.get("/api/v1/emergency-templates").json()}[ID]
    assert listed["reviewed"] == {**dict.fromkeys(LANGUAGES), "vi": today}
    assert listed["reviewed_by"]["vi"] == "shounin"

    as_(client, "hensyu")
    rev = client.put(f"{BASE}/texts/vi", json=VI).json()["texts"]["vi"]["pending"]["revision"]
    assert client.get(BASE).json()["reviewed"]["vi"] == today  # still the reviewed text in force
    as_(client, "kanri")
    assert client.post(f"{BASE}/texts/vi/reviewed", json={"revision": None}).status_code == 200
    client.post(f"{BASE}/revisions/{rev}/approve").raise_for_status()
    assert client.get(BASE).json()["reviewed"]["vi"] is None  # the text changed: unreviewed again
    stale = client.post(f"{BASE}/texts/vi/reviewed", json={"revision": None})
    assert stale.status_code == 409 and "reload" in stale.json()["detail"]
    as_(client, "hensyu")
    as_(client, "shounin")
    assert client.post(f"{BASE}/texts/vi/reviewed", json={"revision": rev}).status_code == 200
    assert client.get(BASE).json()["texts"]["vi"]["review"]["by"] == "shounin"


def test_the_author_of_the_text_in_force_cannot_mark_it_reviewed(
    client: TestClient, people: dict[str, str]
) -> None:
    as_(client, "shounin")
    rev = client.put(f"{BASE}/texts/en", json={"title": "{area}", "body": OK_BODY}).json()["texts"]["en"]
    as_(client, "kanri")
    client.post(f"{BASE}/revisions/{rev['pending']['revision']}/approve").raise_for_status()
    as_(client, "shounin")
    r = client.post(f"{BASE}/texts/en/reviewed", json={"revision": rev["pending"]["revision"]})
    assert r.status_code == 403 and "someone else must review it" in r.json()["detail"]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", BASE, None),
        ("PUT", f"{BASE}/texts/vi", VI),
        ("POST", f"{BASE}/revisions/1/approve", None),
        ("POST", f"{BASE}/revisions/1/reject", {"reason": "x"}),
        ("POST", f"{BASE}/texts/vi/reviewed", {"revision": None}),
    ],
)
def test_every_route_needs_a_session_and_the_csrf_token(
    client: TestClient, people: dict[str, str], method: str, path: str, body: Any
) -> None:
    assert client.request(method, path, json=body).status_code == 401
    if method != "GET":
        as_(client, "kanri")
        token = client.headers.pop("X-CSRF-Token")
        assert client.request(method, path, json=body).status_code == 403
        client.headers["X-CSRF-Token"] = token
        as_(client, "etsuran")  # a viewer reads, never changes
        assert client.request(method, path, json=body).status_code == 403


def test_every_action_is_in_the_audit_log(
    client: TestClient, people: dict[str, str], sessions: sessionmaker[Session]
) -> None:
    as_(client, "hensyu")
    first = client.put(f"{BASE}/texts/vi", json=VI).json()["texts"]["vi"]["pending"]["revision"]
    second = client.put(f"{BASE}/texts/ko", json={"title": "{area}", "body": OK_BODY}).json()
    as_(client, "shounin")
    client.post(f"{BASE}/revisions/{first}/approve").raise_for_status()
    ko = second["texts"]["ko"]["pending"]["revision"]
    client.post(f"{BASE}/revisions/{ko}/reject", json={"reason": "敬語を直してください"}).raise_for_status()
    client.post(f"{BASE}/texts/vi/reviewed", json={"revision": first}).raise_for_status()
    with sessions() as s:
        rows = s.scalars(
            select(AuditEvent).where(AuditEvent.object_type == "emergency_template").order_by(AuditEvent.id)
        ).all()
        seen = [
            (e.actor, e.action, e.object_id, e.summary.get("language"), e.summary.get("state")) for e in rows
        ]
    assert seen == [
        ("hensyu", "emergency_template.edit", ID, "vi", "awaiting_approval"),
        ("hensyu", "emergency_template.edit", ID, "ko", "awaiting_approval"),
        ("shounin", "emergency_template.approve", ID, "vi", "approved"),
        ("shounin", "emergency_template.reject", ID, "ko", "rejected"),
        ("shounin", "emergency_template.review", ID, "vi", None),
    ]
    assert rows[3].summary["reason"] == "敬語を直してください"


def test_the_cli_fills_a_template_from_its_approved_edits(
    db_url: str, fakes: Fakes, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    with session_scope(sessions) as s:
        tr.save_edit(s, ID, "vi", VI["title"], VI["body"], NOW, by="a", draft=False, approval_required=False)
    data = post_data(channels=["line"], topic="bousai", urgency="emergency", template=ORDER)
    del data["title"], data["body"]
    created = notifier(
        "post", "create", "--draft", "--json-file", write(tmp_path, data), env=env_for(db_url, fakes)
    )
    assert created.exit_code == 0, created.output
    assert not TEMPLATE_TEXTS.get()  # set for that command only: later posts in this process use their own
    with sessions() as s:
        post = s.get(Post, int(created.stdout.strip()))
        assert post is not None
        vi = {v.language: v.title for v in post.variants}["vi"]
        assert vi == "[Cảnh báo cấp 4] LỆNH SƠ TÁN 千里山西 (Senriyamanishi)"


@pytest.mark.parametrize(
    ("name", "forms", "approve", "mark"),
    [
        ("etsuran", 0, 0, 0),  # a viewer reads
        ("hensyu", 7, 0, 0),  # an editor edits; their own edit waits for someone else
        ("shounin", 7, 1, 7),  # an approver approves others' edits and marks texts reviewed
    ],
)
def test_the_texts_page_offers_each_role_its_actions(
    client: TestClient, people: dict[str, str], name: str, forms: int, approve: int, mark: int
) -> None:
    as_(client, "hensyu")
    client.put(f"{BASE}/texts/ko", json={"title": "{area}", "body": OK_BODY}).raise_for_status()
    rejected = client.put(f"{BASE}/texts/pt", json={"title": "{area}", "body": OK_BODY}).json()
    as_(client, "kanri")
    rev = rejected["texts"]["pt"]["pending"]["revision"]
    client.post(f"{BASE}/revisions/{rev}/reject", json={"reason": "<b>用語</b>を直して"}).raise_for_status()
    as_(client, name)
    page = client.get(f"/emergency/templates?id={ID}")
    assert page.status_code == 200
    html = page.text
    assert html.count('class="edit-text') == forms
    assert html.count('class="approve"') == approve
    assert html.count('class="mark-reviewed"') == mark
    assert html.count("未レビュー / Not reviewed") == 7
    assert "差し戻されました / Rejected" in html and "&lt;b&gt;用語&lt;/b&gt;を直して" in html
    assert f"/emergency/templates?id={ID}#lang-ko" in html  # the waiting list links to the language


def test_the_texts_page_needs_a_session(client: TestClient) -> None:
    r = client.get("/emergency/templates", follow_redirects=False)
    assert r.status_code in (302, 303, 307) and "/login" in r.headers["location"]
