"""The fake LINE server itself, over plain HTTP: validation like the real API, reply tokens, retry
keys, rate limits, rich menus, reading endpoints and the control API for other processes."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import httpx
import pytest

from fakes.__main__ import load_platform
from fakes.fake_line import FakeLine
from fakes.fake_server import FakeServer
from tests.line_fixtures import LINE_TOKEN, ManualClock, png, user_id

AUTH = {"Authorization": f"Bearer {LINE_TOKEN}"}
U1, U2 = user_id(1), user_id(2)


def text(t: str = "こんにちは") -> dict[str, Any]:
    return {"type": "text", "text": t}


def post(
    server: FakeServer, path: str, body: Any = None, headers: dict[str, str] | None = None
) -> httpx.Response:
    return httpx.post(f"{server.url}{path}", json=body, headers={**AUTH, **(headers or {})})


def get(server: FakeServer, path: str, **params: Any) -> httpx.Response:
    return httpx.get(f"{server.url}{path}", params=params, headers=AUTH)


QUICK = {"type": "action", "action": {"type": "message", "label": "a", "text": "a"}}
POSTBACK = {"type": "action", "action": {"type": "postback", "label": "p", "data": "x" * 301}}
PUSH = "/v2/bot/message/push"
MULTICAST = "/v2/bot/message/multicast"
BAD_REQUESTS = [
    (PUSH, {"to": U1, "messages": []}, {}, 400, "messages"),
    (PUSH, {"to": U1, "messages": [text()] * 6}, {}, 400, "messages"),
    (PUSH, {"to": U1, "messages": [text("")]}, {}, 400, "messages[0].text"),
    (PUSH, {"to": U1, "messages": [text("a" * 5001)]}, {}, 400, "messages[0].text"),
    (PUSH, {"to": U1, "messages": [text("😀" * 2501)]}, {}, 400, "messages[0].text"),  # 5002 UTF-16 units
    (PUSH, {"to": U1, "messages": [{"type": "carrier-pigeon"}]}, {}, 400, "messages[0]"),
    (PUSH, {"to": U1, "messages": [{**text(), "quickReply": {"items": [QUICK] * 14}}]}, {}, 400, "items"),
    (PUSH, {"to": U1, "messages": [{**text(), "quickReply": {"items": [POSTBACK]}}]}, {}, 400, "action.data"),
    (PUSH, {"to": "nobody", "messages": [text()]}, {}, 400, "to"),
    (PUSH, {"to": U1, "messages": [text()]}, {"X-Line-Retry-Key": "not-a-uuid"}, 400, "X-Line-Retry-Key"),
    (MULTICAST, {"to": [U1] * 501, "messages": [text()]}, {}, 400, "to"),
    (MULTICAST, {"to": [U1, "U123"], "messages": [text()]}, {}, 400, "to[1]"),
    (
        "/v2/bot/message/reply",
        {"replyToken": "x", "messages": [text()]},
        {"X-Line-Retry-Key": str(uuid.uuid4())},
        400,
        "X-Line-Retry-Key",
    ),
    ("/v2/bot/chat/loading/start", {"chatId": U1, "loadingSeconds": 7}, {}, 400, "loadingSeconds"),
    ("/v2/bot/message/validate/push", {"messages": [text("a" * 5001)]}, {}, 400, "messages[0].text"),
    (PUSH, {"to": U1, "messages": [text()]}, {"Authorization": "Bearer wrong"}, 401, None),
    (PUSH, {"to": U1, "messages": [text()]}, {"Authorization": ""}, 401, None),
]


@pytest.mark.parametrize(("path", "body", "headers", "status", "prop"), BAD_REQUESTS)
def test_refuses_what_line_refuses(
    fake_line: FakeLine,
    line_server: FakeServer,
    path: str,
    body: Any,
    headers: dict[str, str],
    status: int,
    prop: str | None,
) -> None:
    r = post(line_server, path, body, headers)
    assert r.status_code == status, r.text
    assert r.headers["x-line-request-id"]
    assert r.json()["message"]
    if prop is not None:
        assert any(prop in d["property"] for d in r.json()["details"]), r.json()
    assert fake_line.deliveries() == []


@pytest.mark.parametrize(
    ("messages", "status"),
    [
        ([text("a" * 5000)], 200),
        ([text("😀" * 2500)], 200),
        ([text()] * 5, 200),
        ([{**text(), "quickReply": {"items": [QUICK] * 13}}], 200),
    ],
)
def test_accepts_the_limits_themselves(
    fake_line: FakeLine, line_server: FakeServer, messages: list[Any], status: int
) -> None:
    assert post(line_server, PUSH, {"to": U1, "messages": messages}).status_code == status
    assert fake_line.messages_for(U1) == messages


def test_malformed_and_oversized_bodies(fake_line: FakeLine, line_server: FakeServer) -> None:
    bad = httpx.post(f"{line_server.url}{PUSH}", content=b"{not json", headers=AUTH)
    assert bad.status_code == 400 and bad.headers["x-line-request-id"]
    big = post(line_server, PUSH, {"to": U1, "messages": [text("a" * 2_100_000)]})
    assert big.status_code == 413
    assert fake_line.deliveries() == []


def test_reply_token_is_single_use_and_expires(
    fake_line: FakeLine, line_server: FakeServer, clock: ManualClock
) -> None:
    token = fake_line.issue_reply_token(U1)
    assert (
        post(line_server, "/v2/bot/message/reply", {"replyToken": token, "messages": [text("1")]}).status_code
        == 200
    )
    used = post(line_server, "/v2/bot/message/reply", {"replyToken": token, "messages": [text("2")]})
    assert used.status_code == 400 and used.json() == {"message": "Invalid reply token"}
    late = fake_line.issue_reply_token(U1)
    clock.advance(60.5)
    assert (
        post(line_server, "/v2/bot/message/reply", {"replyToken": late, "messages": [text("3")]}).status_code
        == 400
    )
    unknown = post(line_server, "/v2/bot/message/reply", {"replyToken": "nope", "messages": [text("4")]})
    assert unknown.status_code == 400
    assert fake_line.messages_for(U1) == [text("1")]


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        (PUSH, {"to": U1, "messages": [text()]}, 200),
        (MULTICAST, {"to": [U1, U2], "messages": [text()]}, 200),
        ("/v2/bot/message/broadcast", {"messages": [text()]}, 200),
        ("/v2/bot/message/narrowcast", {"messages": [text()]}, 202),
    ],
)
def test_repeated_retry_key_is_409_and_not_delivered_again(
    fake_line: FakeLine, line_server: FakeServer, clock: ManualClock, path: str, body: Any, status: int
) -> None:
    key = {"X-Line-Retry-Key": str(uuid.uuid4())}
    first = post(line_server, path, body, key)
    assert first.status_code == status
    again = post(line_server, path, body, key)
    assert again.status_code == 409
    assert again.headers["x-line-accepted-request-id"] == first.headers["x-line-request-id"]
    assert ("sentMessages" in again.json()) == (path == PUSH)
    if path == PUSH:
        assert again.json()["sentMessages"] == first.json()["sentMessages"]
    assert len(fake_line.deliveries()) == 1
    clock.advance(24 * 3600 + 1)  # LINE keeps a key 24 hours; after that it sends again
    assert post(line_server, path, body, key).status_code == status
    assert len(fake_line.deliveries()) == 2


def test_rate_limit_and_monthly_limit(
    fake_line: FakeLine, line_server: FakeServer, clock: ManualClock
) -> None:
    fake_line.rate_limits["broadcast"] = (2, 3600.0)
    codes = [
        post(line_server, "/v2/bot/message/broadcast", {"messages": [text()]}).status_code for _ in range(3)
    ]
    assert codes == [200, 200, 429]
    clock.advance(3600)
    assert post(line_server, "/v2/bot/message/broadcast", {"messages": [text()]}).status_code == 200
    fake_line.quota_limit = 1
    assert post(line_server, PUSH, {"to": U1, "messages": [text()]}).status_code == 200
    over = post(line_server, PUSH, {"to": U2, "messages": [text()]})
    assert over.status_code == 429 and "monthly limit" in over.json()["message"]
    assert get(line_server, "/v2/bot/message/quota").json() == {"type": "limited", "value": 1}
    assert get(line_server, "/v2/bot/message/quota/consumption").json() == {"totalUsage": 1}


def test_reading_endpoints(fake_line: FakeLine, line_server: FakeServer) -> None:
    for n in range(5):
        fake_line.add_follower(user_id(n), f"市民{n}", "ja")
    fake_line.set_profile(U1, "Alice", "en", picture_url="https://example.com/a.png", status_message="hi")
    assert get(line_server, f"/v2/bot/profile/{U1}").json() == {
        "userId": U1,
        "displayName": "Alice",
        "language": "en",
        "pictureUrl": "https://example.com/a.png",
        "statusMessage": "hi",
    }
    assert get(line_server, f"/v2/bot/profile/{user_id(99)}").status_code == 404
    page1 = get(line_server, "/v2/bot/followers/ids", limit=2).json()
    page3 = get(line_server, "/v2/bot/followers/ids", limit=2, start="4").json()
    assert page1 == {"userIds": [user_id(0), user_id(1)], "next": "2"} and page3 == {"userIds": [user_id(4)]}
    assert get(line_server, "/v2/bot/followers/ids", limit=1001).status_code == 400
    assert get(line_server, "/v2/bot/message/progress/narrowcast", requestId="nope").status_code == 404


@pytest.mark.parametrize(
    ("date", "expected"),
    [
        ("20240401", {"status": "ready", "followers": 90400, "targetedReaches": 70000, "blocks": 5000}),
        ("20240402", {"status": "unready"}),  # LINE sends no counts until they are ready
        ("20160101", {"status": "out_of_service"}),
    ],
)
def test_insight_followers(
    fake_line: FakeLine, line_server: FakeServer, date: str, expected: dict[str, Any]
) -> None:
    fake_line.set_insight("20240401", followers=90400, targeted_reaches=70000, blocks=5000)
    fake_line.set_insight("20240402", "unready", followers=90500)
    assert get(line_server, "/v2/bot/insight/followers", date=date).json() == expected


def test_insight_without_a_date_answers_for_yesterday_in_japan(
    fake_line: FakeLine, line_server: FakeServer
) -> None:
    """The reference makes `date` optional (`required: false`)."""
    yesterday = dt.datetime.now(dt.timezone(dt.timedelta(hours=9))).date() - dt.timedelta(days=1)
    fake_line.set_insight(yesterday, followers=7620, targeted_reaches=5848, blocks=237)
    answer = get(line_server, "/v2/bot/insight/followers")
    assert answer.status_code == 200
    assert answer.json() == {"status": "ready", "followers": 7620, "targetedReaches": 5848, "blocks": 237}


@pytest.mark.parametrize("date", ["", "2024-04-01", "abcdefgh"])
def test_insight_bad_date(fake_line: FakeLine, line_server: FakeServer, date: str) -> None:
    assert get(line_server, "/v2/bot/insight/followers", date=date).status_code == 400


MENU = {
    "size": {"width": 2500, "height": 843},
    "selected": True,
    "name": "main",
    "chatBarText": "メニュー",
    "areas": [
        {
            "bounds": {"x": 0, "y": 0, "width": 1250, "height": 843},
            "action": {"type": "message", "text": "FAQ"},
        }
    ],
}


@pytest.mark.parametrize(
    ("change", "prop"),
    [
        ({"size": {"width": 700, "height": 400}}, "size"),
        ({"size": {"width": 2500, "height": 2000}}, "size"),
        ({"chatBarText": "x" * 15}, "chatBarText"),
        ({"name": ""}, "name"),
        (
            {
                "areas": [
                    {
                        "bounds": {"x": 2000, "y": 0, "width": 1000, "height": 843},
                        "action": {"type": "message"},
                    }
                ]
            },
            "areas[0].bounds",
        ),
        ({"areas": [{"bounds": {"x": 0, "y": 0, "width": 10, "height": 10}}]}, "areas[0].action"),
    ],
)
def test_rich_menu_validation(
    fake_line: FakeLine, line_server: FakeServer, change: dict[str, Any], prop: str
) -> None:
    for path in ("/v2/bot/richmenu", "/v2/bot/richmenu/validate"):
        r = post(line_server, path, {**MENU, **change})
        assert r.status_code == 400 and any(d["property"] == prop for d in r.json()["details"])
    assert post(line_server, "/v2/bot/richmenu/validate", MENU).status_code == 200


def upload(server: FakeServer, menu_id: str, data: bytes, content_type: str = "image/png") -> httpx.Response:
    return httpx.post(
        f"{server.url}/v2/bot/richmenu/{menu_id}/content",
        content=data,
        headers={**AUTH, "Content-Type": content_type},
    )


def test_rich_menu_lifecycle(fake_line: FakeLine, line_server: FakeServer) -> None:
    menu_id = post(line_server, "/v2/bot/richmenu", MENU).json()["richMenuId"]
    assert get(line_server, f"/v2/bot/richmenu/{menu_id}").json()["chatBarText"] == "メニュー"
    assert post(line_server, f"/v2/bot/user/all/richmenu/{menu_id}").status_code == 400  # no image yet
    assert upload(line_server, menu_id, png(2500, 843), "text/plain").status_code == 415
    assert upload(line_server, menu_id, b"not an image").status_code == 400
    assert upload(line_server, menu_id, png(800, 270)).status_code == 400  # wrong dimensions
    assert upload(line_server, menu_id, png(2500, 843)).status_code == 200
    assert upload(line_server, menu_id, png(2500, 843)).status_code == 400  # only once
    assert get(line_server, "/v2/bot/user/all/richmenu").status_code == 404
    assert post(line_server, f"/v2/bot/user/all/richmenu/{menu_id}").status_code == 200
    assert get(line_server, "/v2/bot/user/all/richmenu").json() == {"richMenuId": menu_id}
    assert (
        post(
            line_server, "/v2/bot/richmenu/alias", {"richMenuAliasId": "main", "richMenuId": menu_id}
        ).status_code
        == 200
    )
    assert (
        post(
            line_server, "/v2/bot/richmenu/alias", {"richMenuAliasId": "main", "richMenuId": menu_id}
        ).status_code
        == 400
    )
    assert [m["richMenuId"] for m in get(line_server, "/v2/bot/richmenu/list").json()["richmenus"]] == [
        menu_id
    ]
    assert httpx.delete(f"{line_server.url}/v2/bot/user/all/richmenu", headers=AUTH).status_code == 200
    assert get(line_server, "/v2/bot/user/all/richmenu").status_code == 404
    assert httpx.delete(f"{line_server.url}/v2/bot/richmenu/{menu_id}", headers=AUTH).status_code == 200
    assert httpx.delete(f"{line_server.url}/v2/bot/richmenu/{menu_id}", headers=AUTH).status_code == 404
    assert fake_line.dump()["richMenuAliases"] == {}


def test_control_api_for_other_processes(fake_line: FakeLine, line_server: FakeServer) -> None:
    base = f"{line_server.url}/__fake__/line"
    httpx.post(f"{base}/followers", json={"userId": U1, "displayName": "花子", "language": "ja"})
    token = httpx.post(f"{base}/reply-tokens", json={"userId": U1}).json()["replyToken"]
    httpx.post(
        f"{base}/insight", json={"date": "20240401", "followers": 10, "targetedReaches": 8, "blocks": 1}
    )
    assert (
        post(line_server, "/v2/bot/message/reply", {"replyToken": token, "messages": [text()]}).status_code
        == 200
    )
    post(line_server, "/v2/bot/message/broadcast", {"messages": [text("全員へ")]})
    state = httpx.get(f"{line_server.url}/__fake__/state").json()
    assert [(d["kind"], d["to"]) for d in state["deliveries"]] == [("reply", [U1]), ("broadcast", [])]
    assert state["followers"] == [U1] and state["insight"]["20240401"]["followers"] == 10
    assert [d.messages for d in fake_line.broadcasts()] == [[text("全員へ")]]
    httpx.post(f"{line_server.url}/__fake__/reset")
    assert fake_line.dump()["deliveries"] == [] and fake_line.profiles == {}


def test_registered_for_the_command_line() -> None:
    assert isinstance(load_platform("line"), FakeLine)
