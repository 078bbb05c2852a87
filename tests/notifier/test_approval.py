"""Approval before anything goes public (APPROVAL_REQUIRED): an editor's post reaches no platform until
another approver approves it, self-approval is refused, a rejection goes back with its reason, editing
an approved post sends it back, and an emergency goes out at once and waits "to review"."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from app import audit
from app.auth import create_staff_user
from app.settings import Settings
from storage.db import session_scope
from tests.conftest import STAFF_PASSWORD, sign_in
from tests.notifier.conftest import SNS, Fakes, post_data, run_worker

PEOPLE = {"hensyu": "editor", "shounin": "approver", "kanri": "admin", "etsuran": "viewer"}


@pytest.fixture
def settings(sns_settings: Settings) -> Settings:
    return sns_settings.model_copy(update={"approval_required": True})


@pytest.fixture
def people(sessions: sessionmaker[Session]) -> dict[str, str]:
    with session_scope(sessions) as s:
        for name, role in PEOPLE.items():
            create_staff_user(s, username=name, password=STAFF_PASSWORD, role=role)
    return PEOPLE


def published(fakes: Fakes) -> dict[str, int]:
    return {name: len(fakes.published(name)) for name in SNS}


def as_(client: TestClient, name: str) -> TestClient:
    return sign_in(client, name, STAFF_PASSWORD)


def test_an_editors_post_reaches_no_platform_until_another_approver_approves(
    client: TestClient, people: dict[str, str], settings: Settings, fakes: Fakes
) -> None:
    as_(client, "hensyu")
    created = client.post("/api/v1/posts", json=post_data())
    assert created.status_code == 201, created.text
    post = created.json()
    assert post["state"] == "awaiting_approval" and post["deliveries"] == []
    assert post["approval"]["state"] == "awaiting_approval"
    assert post["approval"]["submitted_by"] == "hensyu" and post["approval"]["approved_by"] is None
    run_worker(settings)
    assert published(fakes) == dict.fromkeys(SNS, 0)

    # the editor cannot approve at all; the approver sees the same preview the channels will publish
    refused = client.post(f"/api/v1/posts/{post['id']}/approve")
    assert refused.status_code == 403, refused.text
    as_(client, "shounin")
    preview = client.get(f"/api/v1/posts/{post['id']}/preview").json()
    assert set(preview["channels"]) == set(SNS)
    queue = client.get("/api/v1/posts/approvals").json()
    assert [(p["id"], p["can_act"]) for p in queue["waiting"]] == [(post["id"], True)]

    approved = client.post(f"/api/v1/posts/{post['id']}/approve")
    assert approved.status_code == 200, approved.text
    body = approved.json()
    assert body["state"] == "scheduled" and len(body["deliveries"]) == len(SNS)
    assert body["approval"]["state"] == "approved" and body["approval"]["approved_by"] == "shounin"
    assert body["approval"]["approved_at"] is not None
    run_worker(settings)
    assert published(fakes) == dict.fromkeys(SNS, 1)
    assert client.get("/api/v1/posts/approvals").json()["waiting"] == []


@pytest.mark.parametrize("author", ["shounin", "kanri"])
def test_nobody_approves_their_own_post(
    client: TestClient, people: dict[str, str], settings: Settings, fakes: Fakes, author: str
) -> None:
    as_(client, author)
    post = client.post("/api/v1/posts", json=post_data()).json()
    assert post["state"] == "awaiting_approval"
    own = client.post(f"/api/v1/posts/{post['id']}/approve")
    assert own.status_code == 403 and "承認できません" in own.text and "you cannot approve" in own.text
    queue = client.get("/api/v1/posts/approvals").json()
    assert [p["can_act"] for p in queue["waiting"]] == [False]
    run_worker(settings)
    assert published(fakes) == dict.fromkeys(SNS, 0)


def test_an_approver_who_changed_a_post_cannot_approve_it(client: TestClient, people: dict[str, str]) -> None:
    as_(client, "hensyu")
    post = client.post("/api/v1/posts", json=post_data()).json()
    as_(client, "shounin")
    edited = client.put(f"/api/v1/posts/{post['id']}", json=post_data(title="承認者が書き換えた題名"))
    assert edited.status_code == 200 and edited.json()["approval"]["submitted_by"] == "shounin"
    assert client.post(f"/api/v1/posts/{post['id']}/approve").status_code == 403
    as_(client, "kanri")
    assert client.post(f"/api/v1/posts/{post['id']}/approve").json()["state"] == "scheduled"


def test_a_rejection_goes_back_to_the_author_with_its_reason(
    client: TestClient, people: dict[str, str]
) -> None:
    as_(client, "hensyu")
    post = client.post("/api/v1/posts", json=post_data(draft=True)).json()
    assert post["state"] == "draft" and post["approval"]["state"] == "not_submitted"
    submitted = client.post(f"/api/v1/posts/{post['id']}/submit")
    assert submitted.json()["state"] == "awaiting_approval"
    as_(client, "shounin")
    assert client.post(f"/api/v1/posts/{post['id']}/reject", json={}).status_code == 422
    rejected = client.post(f"/api/v1/posts/{post['id']}/reject", json={"reason": "リンク先が古いページです"})
    assert rejected.status_code == 200, rejected.text
    approval = rejected.json()["approval"]
    assert rejected.json()["state"] == "draft"
    assert approval["state"] == "rejected" and approval["reason"] == "リンク先が古いページです"
    assert approval["rejected_by"] == "shounin" and approval["approved_by"] is None
    assert client.post(f"/api/v1/posts/{post['id']}/approve").status_code == 409  # not waiting
    as_(client, "hensyu")
    seen = client.get(f"/api/v1/posts/{post['id']}").json()["approval"]
    assert seen["reason"] == "リンク先が古いページです"
    client.put(f"/api/v1/posts/{post['id']}", json=post_data(link="https://www.city.suita.osaka.jp/new"))
    assert client.post(f"/api/v1/posts/{post['id']}/schedule").json()["state"] == "awaiting_approval"


def test_editing_an_approved_post_sends_it_back(
    client: TestClient, people: dict[str, str], settings: Settings, fakes: Fakes
) -> None:
    as_(client, "hensyu")
    later = "2030-11-01T09:00:00+09:00"
    post = client.post("/api/v1/posts", json=post_data(scheduled_at=later)).json()
    as_(client, "shounin")
    assert client.post(f"/api/v1/posts/{post['id']}/approve").json()["state"] == "scheduled"
    as_(client, "hensyu")
    edited = client.put(
        f"/api/v1/posts/{post['id']}", json=post_data(scheduled_at=later, body="内容を変更しました。")
    )
    assert edited.status_code == 200, edited.text
    body = edited.json()
    assert body["state"] == "awaiting_approval" and body["deliveries"] == []
    assert body["approval"]["state"] == "awaiting_approval" and body["approval"]["approved_by"] is None
    assert body["scheduled_at"] == later


def test_an_emergency_goes_out_at_once_and_waits_to_be_reviewed_by_someone_else(
    client: TestClient, people: dict[str, str], settings: Settings, fakes: Fakes
) -> None:
    as_(client, "hensyu")
    data = post_data(urgency="emergency", title="避難指示", body="千里山地区に避難指示を発令しました。")
    refused = client.post("/api/v1/posts", json={**data, "emergency_reason": "至急"})
    assert refused.status_code == 403  # an editor cannot use the emergency rule
    as_(client, "shounin")
    created = client.post("/api/v1/posts", json={**data, "emergency_reason": "夜間で承認者が不在"})
    assert created.status_code == 201, created.text
    post = created.json()
    assert post["state"] == "scheduled" and post["approval"]["state"] == "emergency"
    assert post["approval"]["approved_by"] == "shounin" and post["approval"]["reason"] == "夜間で承認者が不在"
    assert post["approval"]["review"]["needed"] is True
    run_worker(settings)
    assert published(fakes) == dict.fromkeys(SNS, 1)

    queue = client.get("/api/v1/posts/approvals").json()
    assert [(p["id"], p["can_act"]) for p in queue["to_review"]] == [(post["id"], False)]
    assert client.post(f"/api/v1/posts/{post['id']}/reviewed").status_code == 403
    as_(client, "kanri")
    reviewed = client.post(f"/api/v1/posts/{post['id']}/reviewed")
    assert reviewed.status_code == 200, reviewed.text
    assert reviewed.json()["approval"]["review"] == {
        "needed": False,
        "reviewed_by": "kanri",
        "reviewed_at": reviewed.json()["approval"]["review"]["reviewed_at"],
    }
    assert client.get("/api/v1/posts/approvals").json()["to_review"] == []

    normal = client.post("/api/v1/posts", json=post_data(draft=True)).json()
    not_urgent = client.post(f"/api/v1/posts/{normal['id']}/emergency", json={"reason": "急ぎ"})
    assert not_urgent.status_code == 422 and "emergency" in not_urgent.text


@pytest.mark.parametrize(
    ("role", "path", "body", "status"),
    [
        ("viewer", "/api/v1/posts", post_data(), 403),
        ("viewer", "/api/v1/posts/{id}/submit", None, 403),
        ("editor", "/api/v1/posts/{id}/reject", {"reason": "x"}, 403),
        ("editor", "/api/v1/posts/{id}/reviewed", None, 403),
        ("editor", "/api/v1/posts/{id}/emergency", {"reason": "x"}, 403),
    ],
)
def test_roles_are_enforced_by_the_api(
    client: TestClient, people: dict[str, str], role: str, path: str, body: Any, status: int
) -> None:
    as_(client, "kanri")
    post = client.post("/api/v1/posts", json=post_data(draft=True)).json()
    as_(client, next(name for name, r in PEOPLE.items() if r == role))
    answer = client.post(path.format(id=post["id"]), json=body)
    assert answer.status_code == status, answer.text


def test_every_post_action_is_in_the_audit_log(
    client: TestClient, people: dict[str, str], sessions: sessionmaker[Session]
) -> None:
    as_(client, "hensyu")
    post = client.post("/api/v1/posts", json=post_data(draft=True)).json()
    client.put(f"/api/v1/posts/{post['id']}", json=post_data(title="090-1234-5678 に電話"))
    client.post(f"/api/v1/posts/{post['id']}/submit")
    as_(client, "shounin")
    client.post(f"/api/v1/posts/{post['id']}/reject", json={"reason": "電話番号を消してください"})
    as_(client, "hensyu")
    client.post(f"/api/v1/posts/{post['id']}/schedule")
    as_(client, "shounin")
    client.post(f"/api/v1/posts/{post['id']}/approve")
    client.post(f"/api/v1/posts/{post['id']}/cancel")
    from app.audit_tables import AuditEvent

    with sessions() as s:
        rows = [e for e in s.query(AuditEvent).order_by(AuditEvent.id) if e.object_type == "post"]
        checked, broken = audit.verify(s)
    assert [(e.action, e.actor, e.actor_role) for e in rows] == [
        ("post.create", "hensyu", "editor"),
        ("post.edit", "hensyu", "editor"),
        ("post.submit", "hensyu", "editor"),
        ("post.reject", "shounin", "approver"),
        ("post.submit", "hensyu", "editor"),
        ("post.approve", "shounin", "approver"),
        ("post.cancel", "shounin", "approver"),
    ]
    edit = rows[1].summary["changes"]
    assert edit["title"] == ["ごみ収集日の変更", "[電話] に電話"]  # personal details masked
    assert rows[3].summary["changes"]["approval"] == ["awaiting_approval", "rejected"]
    assert broken is None and checked >= len(rows)
