"""The staff FAQ page `/faq` (HTML; the browser tests drive its script) and the search's `log` switch."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from faq.faq_tables import UnansweredQuestion
from tests.conftest import sign_in_as


def test_the_faq_page_needs_a_staff_sign_in(client: TestClient) -> None:
    r = client.get("/faq", follow_redirects=False)
    assert (r.status_code, r.headers["location"]) == (303, "/login?next=%2Ffaq")


@pytest.mark.parametrize(("role", "can_edit"), [("viewer", False), ("editor", True)])
def test_only_editors_get_the_editing_controls(
    client: TestClient, sessions: sessionmaker[Session], role: str, can_edit: bool
) -> None:
    sign_in_as(client, sessions, role)
    html = client.get("/faq").text
    assert 'href="/faq" aria-current="page"' in html
    assert ('id="import"' in html) is can_edit
    assert ('id="new-entry"' in html) is can_edit
    assert f'{{"canEdit": {str(can_edit).lower()}}}' in html


@pytest.mark.parametrize(
    ("role", "log", "recorded"),
    [(None, None, 1), (None, "true", 1), (None, "false", 1), ("viewer", "true", 1), ("viewer", "false", 0)],
)
def test_a_fallback_is_recorded_unless_staff_ask_not_to(
    client: TestClient, sessions: sessionmaker[Session], role: str | None, log: str | None, recorded: int
) -> None:
    if role is not None:
        sign_in_as(client, sessions, role)
    params = {"q": "粗大ごみの出し方"} | ({"log": log} if log else {})
    assert client.get("/api/v1/faq/search", params=params).json()["decision"] == "fallback"
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(UnansweredQuestion)) == recorded
