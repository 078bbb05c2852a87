"""The simulator over HTTP: open without LINE credentials, staff-only with them, never the secret."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.settings import Settings
from fakes.fake_line import FakeLine
from faq.faq_tables import UnansweredQuestion
from tests.bot.conftest import make_bot_app, use_faq
from tests.bot.helpers import CHANNEL_SECRET, wait_for
from tests.conftest import sign_in


def chat(client: TestClient, payload: dict[str, Any], after: int) -> list[dict[str, Any]]:
    r = client.post("/simulator/api/send", json=payload)
    assert r.status_code == 200 and r.json() == {"webhook_status": 200}
    return wait_for(lambda: client.get(f"/simulator/api/messages?after={after}").json()["messages"])


@pytest.fixture
def sim_client(client: TestClient) -> TestClient:
    use_faq(client.app)  # type: ignore[arg-type]
    return client


def test_simulator_mode_without_credentials(sim_client: TestClient) -> None:
    ready = sim_client.get("/readyz").json()
    assert ready["features"]["line"] == "not configured" and "simulator" in ready["notes"]["line"]
    home = sim_client.get("/").text
    assert "/simulator" in home and "simulator" in home
    page = sim_client.get("/simulator")
    assert page.status_code == 200 and 'id="sim-log"' in page.text


def test_a_conversation_through_the_signed_webhook(sim_client: TestClient) -> None:
    welcome = chat(sim_client, {"kind": "follow", "language": "ja"}, 0)
    assert welcome[0]["text"].startswith("友だち追加ありがとうございます")
    toggles = wait_for(lambda: sim_client.get("/simulator/api/messages?after=1").json()["messages"])
    assert toggles[0]["quick_replies"][0] == {
        "label": "⬜ 防災・防犯",
        "type": "postback",
        "data": "a=sub&t=bousai",
        "text": "",
    }
    subscribed = chat(sim_client, {"kind": "postback", "data": "a=sub&t=bousai"}, 2)
    assert subscribed[0]["text"].startswith("「防災・防犯」を登録しました。")
    answer = chat(sim_client, {"kind": "text", "text": "住民票をコンビニで取りたい"}, 3)
    assert [b["label"] for b in answer[0]["quick_replies"]][0].startswith("👍")
    hint = chat(sim_client, {"kind": "sticker"}, 4)
    assert hint[0]["text"].startswith("スタンプありがとうございます")


def test_unanswered_simulator_questions_are_logged_as_simulator(
    sim_client: TestClient, sessions: sessionmaker[Session]
) -> None:
    chat(sim_client, {"kind": "text", "text": "宇宙人の住民登録について 090-1234-5678"}, 0)
    with sessions() as s:
        (row,) = s.scalars(select(UnansweredQuestion)).all()
    assert row.channel == "simulator" and "090-1234-5678" not in row.text


def test_reset_starts_a_new_user(sim_client: TestClient) -> None:
    chat(sim_client, {"kind": "text", "text": "メニュー"}, 0)
    assert sim_client.post("/simulator/api/reset").json() == {"status": "ok"}
    assert sim_client.get("/simulator/api/messages").json() == {"messages": [], "next": 0}


@pytest.mark.parametrize(
    "payload",
    [
        {"kind": "text", "text": ""},
        {"kind": "text", "text": "   "},
        {"kind": "text", "text": "あ" * 5001},
        {"kind": "postback", "data": ""},
        {"kind": "postback", "data": "x" * 301},
        {"kind": "dance"},
        {"kind": "follow", "language": "fr"},
        {"kind": "text", "text": "住民\u0000票"},
        {"kind": "text", "text": "住民\ud800票"},
        {"kind": "postback", "data": "a=menu\ud800"},
    ],
)
def test_bad_simulator_input_is_a_clear_422(sim_client: TestClient, payload: dict[str, Any]) -> None:
    content = json.dumps(payload)  # ASCII: NUL and the lone surrogate travel as \u escapes
    r = sim_client.post("/simulator/api/send", content=content, headers={"content-type": "application/json"})
    assert r.status_code == 422 and r.json()["detail"]


@pytest.fixture
def live_client(bot_settings: Settings, fake_line: FakeLine) -> Iterator[TestClient]:
    app = make_bot_app(bot_settings)
    with TestClient(app) as client:
        use_faq(app)
        yield client


def test_with_credentials_the_simulator_is_for_staff_only(live_client: TestClient) -> None:
    r = live_client.get("/simulator", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login?next=/simulator"
    assert live_client.post("/simulator/api/send", json={"kind": "text", "text": "x"}).status_code == 401
    assert live_client.get("/simulator/api/messages").status_code == 401
    assert "simulator" not in live_client.get("/readyz").json()["notes"].get("line", "")


def test_staff_use_it_without_the_secret_and_replies_stay_in_the_simulator(
    live_client: TestClient, fake_line: FakeLine, staff_user: str
) -> None:
    sign_in(live_client, staff_user)
    page = live_client.get("/simulator")
    assert page.status_code == 200 and "本番の LINE チャネルが設定されています" in page.text
    messages = chat(live_client, {"kind": "text", "text": "メニュー"}, 0)
    assert messages[0]["text"].startswith("吹田市公式LINEでは")
    assert fake_line.deliveries() == []  # nothing reached the channel's LINE API
    seen = page.text + live_client.get("/static/simulator.js").text + str(messages)
    assert CHANNEL_SECRET not in seen and "test-channel-access-token" not in seen
