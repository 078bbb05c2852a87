"""The staff console page `/posts` (HTML; the browser tests drive its script)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from app.main import create_app
from tests.conftest import STAFF_PASSWORD, make_settings, sign_in_as


def console_data(html: str) -> dict[str, Any]:
    match = re.search(r'<script type="application/json" id="console-data">(.*?)</script>', html, re.S)
    assert match is not None
    data: dict[str, Any] = json.loads(match.group(1))
    return data


def test_the_console_needs_a_staff_sign_in(client: TestClient) -> None:
    r = client.get("/posts", follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/login?next=%2Fposts"


def test_unconfigured_channels_are_shown_and_cannot_be_chosen(staff_client: TestClient) -> None:
    r = staff_client.get("/posts")
    assert r.status_code == 200
    html = r.text
    assert '<html lang="ja">' in html and "お知らせ配信" in html
    for name in ("line", "x", "facebook", "mastodon", "bluesky"):
        checkbox = re.search(rf'<input type="checkbox" name="channels" value="{name}"[^>]*>', html)
        assert checkbox is not None and "disabled" in checkbox.group(0)
    assert "未設定 / not configured: X_API_KEY, X_API_SECRET" in html
    data = console_data(html)
    assert data["canEdit"] is True
    assert [t["id"] for t in data["topics"]] == ["bousai", "kosodate", "fukushi", "event", "shisei"]
    assert 'href="/posts" aria-current="page"' in html


@pytest.mark.parametrize(("role", "can_edit"), [("viewer", False), ("editor", True), ("admin", True)])
def test_only_editors_get_the_compose_form(
    client: TestClient, sessions: sessionmaker[Session], role: str, can_edit: bool
) -> None:
    sign_in_as(client, sessions, role)
    html = client.get("/posts").text
    assert console_data(html)["canEdit"] is can_edit
    assert ('id="compose"' in html) is can_edit
    assert ("閲覧のみ" in html) is not can_edit


def test_the_page_data_is_escaped_for_a_script_element(
    db_url: str, sessions: sessionmaker[Session], staff_user: str
) -> None:
    """Topic labels come from settings; `tojson` must keep them from closing the script element."""
    evil = {"id": "evil", "ja": "</script><b>x", "en": "<img src=x onerror=alert(1)>"}
    with TestClient(create_app(make_settings(db_url, topics=[evil]))) as client:
        client.post("/login", data={"username": staff_user, "password": STAFF_PASSWORD})
        html = client.get("/posts").text
    block = re.search(r'id="console-data">(.*?)</script>', html, re.S)
    assert block is not None and "<" not in block.group(1)
    assert console_data(html)["topics"] == [{"id": "evil", "labels": {"ja": evil["ja"], "en": evil["en"]}}]
    assert "<b>x" not in html and "&lt;/script&gt;&lt;b&gt;x" in html
