"""The SNS fakes check with their own rules, as the platforms do (issue 17): none reuses production's
counting or the libraries production counts with, and each answers the way its platform's reference
says (sessions, record keys and facets on Bluesky; X's weighted length, escaping and 24-hour cap;
Graph API rate-limit codes; Mastodon's instance configuration and key expiry; LINE's 429)."""

from __future__ import annotations

import ast
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.settings import ROOT
from fakes.fake_bluesky import FakeBluesky, server_tid
from fakes.fake_facebook import FakeFacebook
from fakes.fake_line import FakeLine
from fakes.fake_mastodon import KEY_TTL, FakeMastodon
from fakes.fake_server import FakeServer
from fakes.fake_x import FakeX, escaped, weighted_length

# what production counts and parses with: a fake that used them would agree with production's bugs
PRODUCTION_RULES = (
    "platforms",
    "notifier",
    "bot",
    "twitter_text",
    "mastodon",
    "atproto",
    "tweepy",
    "linebot",
)


def imported(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", sorted((ROOT / "fakes").glob("*.py")), ids=lambda p: p.name)
def test_no_fake_uses_production_rules(path: Path) -> None:
    used = {name for name in imported(path) if name.partition(".")[0] in PRODUCTION_RULES}
    assert used == set(), f"{path.name} imports {sorted(used)}"


@pytest.mark.parametrize(
    ("text", "weight"),
    [  # twitter-text v3 conformance figures (config/v3.json and docs/channels.md)
        ("あ" * 140, 280),
        ("あ" * 141, 282),
        ("https://www.city.suita.osaka.jp/kurashi/bosai/" + "a" * 80, 23),
        ("ｱｲｳ", 6),
        ("😀" * 140, 280),
        ("👨‍👩‍👧‍👦", 2),
        ("🇯🇵 1️⃣ ①", 8),
        ("“quoted” – ok", 13),
        ("詳しくはhttps://www.city.suita.osaka.jp/kurashi/をご覧ください", 8 + 23 + 14),
        ("see (https://example.com/a_(b)) and https://x.jp/a.", 5 + 23 + 6 + 23 + 1),
        ("e\u0301", 1),  # NFC first: é
    ],
)
def test_the_x_fake_weighs_text_by_its_own_rule(text: str, weight: int) -> None:
    assert weighted_length(text) == weight


@pytest.fixture(scope="module")
def x() -> Iterator[FakeServer]:
    with FakeServer(FakeX()) as server:
        yield server


def tweet(server: FakeServer, text: str) -> httpx.Response:
    return httpx.post(f"{server.url}/2/tweets", json={"text": text}, headers={"Authorization": "OAuth x"})


def test_x_escapes_returned_texts_and_keeps_words_after_links(x: FakeServer) -> None:
    x.platform.reset()
    text = "A&B <c> 詳しくはhttps://www.city.suita.osaka.jp/kurashi/をご覧ください"
    data = tweet(x, text).json()["data"]
    assert data["text"].startswith("A&amp;B &lt;c&gt; 詳しくはhttps://t.co/")
    assert data["text"].endswith("をご覧ください") and escaped("<&>") == "&lt;&amp;&gt;"
    listed = httpx.get(f"{x.url}/2/users/1500000000000000001/tweets", headers={"Authorization": "OAuth x"})
    assert listed.json()["data"][0]["text"] == data["text"]


def test_x_daily_cap_answers_429_while_the_window_has_calls_left(x: FakeServer) -> None:
    platform: Any = x.platform
    platform.reset()
    platform.daily.set(2, 86_400)
    first, second, third = (tweet(x, f"第{n}報") for n in range(3))
    assert (first.status_code, second.status_code, third.status_code) == (201, 201, 429)
    assert second.headers["x-user-limit-24hour-remaining"] == "0"
    assert third.headers["x-user-limit-24hour-remaining"] == "0"
    assert int(third.headers["x-rate-limit-remaining"]) > 0
    assert int(third.headers["x-user-limit-24hour-reset"]) - time.time() > 86_000
    platform.reset()


def test_x_recent_search_follows_the_contract(x: FakeServer) -> None:
    platform: Any = x.platform
    platform.reset()
    platform.add_public_post("冠水 #吹田市災害", "a", coordinates=(135.5, 34.7))
    platform.add_public_post("#吹田市災害対策 の会見", "b")
    url, auth = f"{x.url}/2/tweets/search/recent", {"Authorization": "Bearer app"}
    params = {"query": "#吹田市災害 -is:retweet", "max_results": "10"}
    assert httpx.get(url, params=params).status_code == 401
    plain = httpx.get(url, params=params, headers=auth).json()
    assert [t["text"] for t in plain["data"]] == ["冠水 #吹田市災害"] and "includes" not in plain
    assert "geo" not in plain["data"][0] and plain["meta"]["result_count"] == 1
    full = httpx.get(url, params=params | {"tweet.fields": "geo", "expansions": "author_id,geo.place_id"},
                     headers=auth).json()  # fmt: skip
    assert full["data"][0]["geo"]["coordinates"] == {"type": "Point", "coordinates": [135.5, 34.7]}
    assert full["includes"]["users"][0]["username"] == "a" and full["includes"]["places"]
    too_many = httpx.get(url, params=params | {"max_results": "500"}, headers=auth)
    assert too_many.status_code == 400 and "max_results" in too_many.json()["errors"][0]["message"]
    none = httpx.get(url, params={"query": "#なし", "max_results": "10"}, headers=auth).json()
    assert none == {"meta": {"result_count": 0}}
    platform.search_window.set(1, 900)
    assert httpx.get(url, params=params, headers=auth).status_code == 200
    assert httpx.get(url, params=params, headers=auth).status_code == 429
    platform.reset()
    platform.search_enrolled = False
    refused = httpx.get(url, params=params, headers=auth)
    assert refused.status_code == 403 and refused.json()["reason"] == "client-not-enrolled"
    platform.reset()


@pytest.fixture(scope="module")
def pds() -> Iterator[FakeServer]:
    with FakeServer(FakeBluesky()) as server:
        yield server


def xrpc(server: FakeServer, method: str, token: str | None = None, **body: Any) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.post(f"{server.url}/xrpc/{method}", json=body, headers=headers)


def login(server: FakeServer) -> dict[str, Any]:
    platform: Any = server.platform
    session: dict[str, Any] = xrpc(
        server, "com.atproto.server.createSession", identifier=platform.handle, password=platform.password
    ).json()
    return session


def post_record(
    server: FakeServer, token: str, record: dict[str, Any], rkey: str | None = None
) -> httpx.Response:
    record = {"$type": "app.bsky.feed.post", "createdAt": "2026-12-06T00:00:00.000Z", **record}
    body: dict[str, Any] = {"repo": "did:plc:x", "collection": "app.bsky.feed.post", "record": record}
    if rkey is not None:
        body["rkey"] = rkey
    return xrpc(server, "com.atproto.repo.createRecord", token, **body)


def link(start: int, end: int, uri: str) -> dict[str, Any]:
    return {
        "index": {"byteStart": start, "byteEnd": end},
        "features": [{"$type": "app.bsky.richtext.facet#link", "uri": uri}],
    }


def test_bluesky_tokens_are_checked_as_a_pds_does(pds: FakeServer) -> None:
    pds.platform.reset()
    session = login(pds)
    access, refresh = session["accessJwt"], session["refreshJwt"]

    def error(answer: httpx.Response) -> tuple[int, str]:
        return answer.status_code, answer.json()["error"]

    assert error(post_record(pds, "", {"text": "x"})) == (401, "AuthMissing")
    assert error(post_record(pds, "garbage", {"text": "x"})) == (400, "InvalidToken")
    assert error(post_record(pds, refresh, {"text": "x"})) == (400, "InvalidToken")  # wrong scope
    assert error(xrpc(pds, "com.atproto.server.refreshSession", access)) == (400, "InvalidToken")
    pds.platform.revoke_tokens()  # type: ignore[attr-defined]
    assert error(post_record(pds, access, {"text": "x"})) == (400, "ExpiredToken")
    renewed = xrpc(pds, "com.atproto.server.refreshSession", refresh)
    assert (
        renewed.status_code == 200 and post_record(pds, renewed.json()["accessJwt"], {"text": "x"}).is_success
    )
    assert error(xrpc(pds, "com.atproto.server.refreshSession", refresh)) == (400, "ExpiredToken")  # rotated


@pytest.mark.parametrize(
    ("rkey", "record", "problem"),
    [
        ("not-a-tid", {"text": "x"}, "Invalid record key"),
        ("3kabcdefghijk", {"text": "x"}, None),
        ("zzzzzzzzzzzzz", {"text": "x"}, "Invalid record key"),  # the first character's top bit is set
        (None, {"text": "あ" * 301}, "300 graphemes"),
        (None, {"text": "👨‍👩‍👧‍👦" * 121}, "3000 characters"),  # 121 graphemes, 3,025 bytes
        (None, {"text": "吹田 https://a.jp/", "facets": [link(7, 20, "https://a.jp/")]}, None),
        (None, {"text": "吹田 https://a.jp/", "facets": [link(1, 20, "https://a.jp/")]}, "boundaries"),
        (None, {"text": "吹田 https://a.jp/", "facets": [link(7, 21, "https://a.jp/")]}, "inside the text"),
        (None, {"text": "吹田 https://a.jp/", "facets": [link(0, 20, "https://a.jp/")]}, "covers"),
        (None, {"text": "https://a.jp/をご覧", "facets": [link(0, 22, "https://a.jp/をご覧")]}, "not a URI"),
    ],
)
def test_bluesky_records_are_checked(
    pds: FakeServer, rkey: str | None, record: dict[str, Any], problem: str | None
) -> None:
    pds.platform.reset()
    answer = post_record(pds, login(pds)["accessJwt"], record, rkey)
    if problem is None:
        assert answer.status_code == 200, answer.text
    else:
        assert answer.status_code == 400 and problem in answer.json()["message"], answer.text


def test_bluesky_names_its_own_keys_as_tids(pds: FakeServer) -> None:
    pds.platform.reset()
    assert post_record(pds, login(pds)["accessJwt"], {"text": "x"}).json()["uri"].rsplit("/", 1)[1]
    assert len(server_tid()) == 13 and server_tid()[0] in "234567abcdefghij"


def test_mastodon_states_its_configuration_and_forgets_keys_after_an_hour() -> None:
    now = [1_000_000.0]
    platform = FakeMastodon(clock=lambda: now[0])
    with FakeServer(platform) as server:
        platform.max_characters, platform.url_length = 1000, 30
        statuses = httpx.get(f"{server.url}/api/v2/instance").json()["configuration"]["statuses"]
        assert (statuses["max_characters"], statuses["characters_reserved_per_url"]) == (1000, 30)
        headers = {"Authorization": f"Bearer {platform.token}", "Idempotency-Key": "k1"}

        def post(text: str) -> httpx.Response:
            return httpx.post(f"{server.url}/api/v1/statuses", data={"status": text}, headers=headers)

        assert (
            post("あ" * 1000).status_code == 200
            and post("あ" * 1000).json()["id"] == platform.statuses[0]["id"]
        )
        assert post("あ" * 1001).status_code == 422
        now[0] += KEY_TTL + 1  # a server keeps a key for an hour
        assert post("あ" * 1000).status_code == 200 and len(platform.statuses) == 2


def test_facebook_rate_limits_are_codes_not_429() -> None:
    platform = FakeFacebook()
    with FakeServer(platform) as server:
        platform.window.set(1, 3600)
        url = f"{server.url}/v27.0/{platform.page_id}"
        auth = {"Authorization": f"Bearer {platform.token}"}
        assert httpx.get(url, headers=auth).status_code == 200
        spent = httpx.get(url, headers=auth)
        assert spent.status_code == 400 and spent.json()["error"]["code"] == 32
        (usage,) = json.loads(spent.headers["x-business-use-case-usage"])[platform.page_id]
        assert usage["call_count"] == 100 and 60 <= usage["estimated_time_to_regain_access"] <= 61


def test_line_429_carries_no_retry_after() -> None:
    platform = FakeLine(rate_limits={"broadcast": (1, 3600.0)})
    with FakeServer(platform) as server:
        body = {"messages": [{"type": "text", "text": "お知らせ"}]}
        codes = [httpx.post(f"{server.url}/v2/bot/message/broadcast", json=body) for _ in range(2)]
        assert [c.status_code for c in codes] == [200, 429] and "retry-after" not in codes[1].headers
