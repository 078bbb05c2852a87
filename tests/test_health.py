from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.logs import JsonFormatter
from app.main import create_app
from tests.conftest import make_settings


def test_healthz(client: TestClient) -> None:
    r = client.get("/healthz")
    assert r.status_code == 200 and r.json() == {"status": "ok"}


def test_readyz_lists_features_as_not_configured(client: TestClient) -> None:
    r = client.get("/readyz")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ready"
    assert body["checks"]["migrations"] == {"status": "ok", "pending": []}
    names = ("line", "x", "facebook", "mastodon", "bluesky", "line_bot")
    assert body["features"] == dict.fromkeys(names, "not configured")


def test_readyz_shows_configured_feature(db_url: str) -> None:
    s = make_settings(db_url, x_api_key="k", x_api_secret="s", x_access_token="t", x_access_token_secret="ts")
    with TestClient(create_app(s)) as c:
        assert c.get("/readyz").json()["features"]["x"] == "ready"


@pytest.mark.parametrize(
    ("credentials", "ready"),
    [
        ({"line_channel_access_token": "t"}, {"line"}),  # posting and counting need the token only
        ({"line_channel_secret": "s", "line_channel_access_token": "  "}, set()),
        ({"line_channel_secret": "s", "line_channel_access_token": "t"}, {"line", "line_bot"}),
    ],
)
def test_readyz_features_follow_each_rule(db_url: str, credentials: dict[str, str], ready: set[str]) -> None:
    with TestClient(create_app(make_settings(db_url, **credentials))) as c:
        features = c.get("/readyz").json()["features"]
    assert {name for name, state in features.items() if state == "ready"} == ready


def test_readyz_not_ready_when_migrations_are_missing(tmp_path: Path) -> None:
    s = make_settings(f"sqlite:///{tmp_path / 'empty.db'}")
    with TestClient(create_app(s)) as c:
        r = c.get("/readyz")
    assert r.status_code == 503
    assert r.json()["checks"]["migrations"]["status"] == "pending"


def test_unreachable_database_fails_startup_naming_the_setting() -> None:
    s = make_settings("postgresql+psycopg://nobody:pw@127.0.0.1:1/nodb")
    with pytest.raises(Exception, match="DATABASE_URL: cannot reach") as err, TestClient(create_app(s)):
        pass
    assert "pw" not in str(err.value)


def test_request_id_is_echoed_and_generated(client: TestClient) -> None:
    assert client.get("/healthz", headers={"X-Request-ID": "abc123"}).headers["x-request-id"] == "abc123"
    generated = client.get("/healthz").headers["x-request-id"]
    assert len(generated) == 32


def test_access_log_is_json_with_request_id(client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="app.access"):
        client.get("/healthz", headers={"X-Request-ID": "rid-1"})
    records = [r for r in caplog.records if r.name == "app.access"]
    assert records
    line = json.loads(JsonFormatter().format(records[-1]))
    assert line["message"] == "GET /healthz 200"
    assert line["status"] == 200 and "duration_ms" in line


def test_openapi_docs_are_served(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert "/healthz" in spec["paths"] and "/readyz" in spec["paths"]
    assert "413" in spec["paths"]["/line/webhook"]["post"]["responses"]  # a PlainRoute is documented too
    assert client.get("/docs").status_code == 200


def test_index_page_shows_features(client: TestClient) -> None:
    r = client.get("/")
    assert r.status_code == 200
    assert "未設定 / not configured" in r.text


def test_index_renders_structured_notes_readably(client: TestClient) -> None:
    notes = client.app.state.feature_notes  # type: ignore[attr-defined]
    notes["demo"] = {"ok": False, "problems": ["2 deliveries overdue"], "overdue": 2, "oldest": None}
    text = client.get("/").text
    assert "要確認 / needs attention: 2 deliveries overdue" in text
    assert "overdue: 2" in text and "oldest: -" in text and "{'ok'" not in text
