"""Demo mode: channels without credentials run against the project's fakes inside the app; `/readyz`
says "demo", every page carries the banner, `/demo` shows what the fakes received, the KPI collects
demo figures apart from real ones; production never starts a fake, and no worker ever sends a demo
delivery to a real platform (or a real one to a fake)."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.main import create_app
from app.settings import ConfigError, Settings, load_settings
from kpi import collection_job
from kpi.kpi_tables import FollowerSnapshot
from notifier.channels.channel_base import DEMO_ACCOUNT
from notifier.demo_platforms import Received, line_insight, received_texts
from tests.conftest import make_settings, sign_in
from tests.notifier.conftest import FAST, Fakes, post_data, run_worker, schedule, shown
from tests.platform_fakes import CHANNEL_NAMES, run_async


@pytest.fixture
def demo_app(db_url: str) -> FastAPI:
    """A development-like app without any credentials: every channel in demo mode, a worker inside."""
    return create_app(make_settings(db_url, demo_mode=True, run_worker_in_app=True, **FAST))


@pytest.fixture
def demo_client(demo_app: FastAPI, staff_user: str) -> Iterator[TestClient]:
    with TestClient(demo_app) as client:
        sign_in(client, staff_user)
        yield client


def test_demo_mode_is_on_in_development_and_never_in_production(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings(_env_file=None).demo_mode is True  # APP_ENV=development by default
    assert load_settings(_env_file=None, secret_key="k" * 40, app_env="production").demo_mode is False
    assert load_settings(_env_file=None, demo_mode=False).demo_mode is False
    with pytest.raises(ConfigError, match="DEMO_MODE cannot be true when APP_ENV=production"):
        load_settings(_env_file=None, secret_key="k" * 40, app_env="production", demo_mode=True)
    production = load_settings(_env_file=None, secret_key="k" * 40, app_env="production")
    with pytest.raises(ConfigError, match="never with APP_ENV=production"):
        production.with_demo_channels({"x": {"x_api_base_url": "http://127.0.0.1:1"}})


def test_production_starts_no_fake_and_posts_nowhere(
    db_url: str, staff_user: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the production app as the tests can host it: the test run's logging and garbage collector kept
    monkeypatch.setattr("app.main.configure_logging", lambda *args: None)
    monkeypatch.setattr("app.main.freeze_startup_objects", lambda: None)
    settings = make_settings(
        db_url, app_env="production", secret_key="k" * 40, run_worker_in_app=True, **FAST
    )
    app = create_app(settings)
    with TestClient(app, base_url="https://testserver") as client:
        ready = client.get("/readyz").json()
        assert {ready["features"][n] for n in CHANNEL_NAMES} == {"not configured"}
        assert "demo" not in ready["notes"]
        assert app.state.demo_platforms.names == () and app.state.channel_settings is settings
        sign_in(client, staff_user)
        r = client.post("/api/v1/posts", json=post_data(channels=list(CHANNEL_NAMES)))
        assert r.status_code == 422 and "not configured" in r.json()["detail"][0]["message"]
        assert "デモモード" not in client.get("/posts").text
        assert client.get("/api/v1/demo/deliveries").json() == []


def test_a_post_to_all_five_channels_reaches_the_fakes_and_shows_on_demo(
    demo_app: FastAPI, demo_client: TestClient
) -> None:
    ready = demo_client.get("/readyz").json()
    assert {ready["features"][n] for n in CHANNEL_NAMES} == {"demo"}
    assert "/demo" in ready["notes"]["demo"]
    page = demo_client.get("/posts").text
    assert "デモモード" in page and "Demo mode" in page and 'href="/demo"' in page
    assert "demo-tag" in page and "disabled" not in page.split('name="channels"')[1][:40]

    r = demo_client.post("/api/v1/posts", json=post_data(channels=list(CHANNEL_NAMES), title="防災訓練"))
    assert r.status_code == 201, r.text
    assert {d["account"] for d in r.json()["deliveries"]} == {DEMO_ACCOUNT}
    deadline = time.monotonic() + 60
    received: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        received = demo_client.get("/api/v1/demo/deliveries").json()
        if {item["channel"] for item in received} == set(CHANNEL_NAMES):
            break
        time.sleep(0.2)
    assert sorted(item["channel"] for item in received) == sorted(CHANNEL_NAMES)
    for item in received:
        assert set(item) == {"channel", "received_at", "text"}
        assert item["text"].startswith("防災訓練") and item["received_at"].endswith("+09:00")
        assert "." not in item["received_at"]
    times = [item["received_at"] for item in received]
    assert times == sorted(times, reverse=True)  # newest first
    # the fake has the post a moment before the worker records the delivery as sent
    while time.monotonic() < deadline:
        post = demo_client.get(f"/api/v1/posts/{r.json()['id']}").json()
        if {d["state"] for d in post["deliveries"]} == {"sent"}:
            break
        time.sleep(0.1)
    assert {d["state"] for d in post["deliveries"]} == {"sent"}
    demo_page = demo_client.get("/demo")
    assert demo_page.status_code == 200 and "/static/demo.js" in demo_page.text


def test_demo_pages_need_staff(demo_app: FastAPI) -> None:
    with TestClient(demo_app) as client:
        assert client.get("/api/v1/demo/deliveries").status_code == 401
        assert client.get("/demo", follow_redirects=False).status_code == 303


def test_the_kpi_collects_demo_figures_apart(
    demo_app: FastAPI, demo_client: TestClient, sessions: Any
) -> None:
    run_async(collection_job.run_due(sessions, demo_app.state.channel_settings))
    with sessions() as s:
        rows = s.execute(select(FollowerSnapshot.channel, FollowerSnapshot.account)).all()
    assert sorted(rows) == sorted((name, DEMO_ACCOUNT) for name in CHANNEL_NAMES)
    assert demo_client.get("/api/v1/kpi/report").json()["latest"] is None  # real history: none
    demo = demo_client.get("/api/v1/kpi/report", params={"demo": "true"}).json()
    yesterday = [p for p in demo["channels"]["line"] if not p["estimated"]][-1]
    expected_line = line_insight(dt.date.fromisoformat(yesterday["date"]))
    assert yesterday["followers"] == expected_line[0] - expected_line[1]  # effective friends
    assert "デモの数値" in demo_client.get("/kpi").text


def test_no_worker_sends_a_demo_delivery_to_a_real_platform(
    db_url: str, fakes: Fakes, sessions: sessionmaker[Session]
) -> None:
    """A demo delivery left in the database meets a worker with real credentials (here: the fakes as
    the "real" platforms), and a real delivery meets a demo worker: both fail, nothing is posted."""
    real = make_settings(db_url, **fakes.settings(), **FAST)
    x = {
        k: v if k == "x_api_base_url" else SecretStr(v)
        for k, v in fakes.settings().items()
        if k.startswith("x_")
    }
    bound = make_settings(db_url, demo_mode=True, **FAST).with_demo_channels({"x": x})
    demo_post = schedule(bound, sessions, channels=["x"])
    real_post = schedule(real, sessions, channels=["x"])
    run_worker(real)
    (demo_delivery,) = shown(sessions, demo_post)["deliveries"]
    assert demo_delivery["state"] == "failed" and "never sent to the real X account" in demo_delivery["error"]
    assert len(fakes.published("x")) == 1  # the real post only
    fakes.x.state.reset()
    fakes.x.platform.reset()
    third = schedule(real, sessions, channels=["x"])
    run_worker(bound)
    (real_delivery,) = shown(sessions, third)["deliveries"]
    assert real_delivery["state"] == "failed" and "not sent to a fake" in real_delivery["error"]
    assert fakes.published("x") == []
    assert shown(sessions, real_post)["deliveries"][0]["state"] == "sent"


def test_what_the_fakes_received_is_read_from_their_state() -> None:
    at = 1_800_000_000.5
    line = {
        "deliveries": [
            {"kind": "broadcast", "at": at, "messages": [{"type": "text", "text": "お知らせ"}]},
            {"kind": "reply", "at": at, "messages": [{"type": "text", "text": "bot reply"}]},
        ]
    }
    assert received_texts("line", line) == [
        Received("line", dt.datetime.fromtimestamp(at, dt.UTC), "お知らせ")
    ]
    bluesky = {"records": [{"rkey": "k", "value": {"text": "t", "createdAt": "2027-01-15T00:00:00.123Z"}}]}
    (item,) = received_texts("bluesky", bluesky)
    assert item.as_json() == {"channel": "bluesky", "received_at": "2027-01-15T09:00:00+09:00", "text": "t"}


def test_secret_values_are_bound_as_secrets(db_url: str) -> None:
    settings: Settings = make_settings(db_url, demo_mode=True)
    bound = settings.with_demo_channels({"line": {"line_channel_access_token": SecretStr("s3cr3t-value")}})
    assert bound.demo_bound("line") and not settings.demo_bound("line")
    assert "s3cr3t-value" not in repr(bound)
