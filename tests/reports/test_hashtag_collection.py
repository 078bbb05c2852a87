"""Hashtag posts on the fake Mastodon and Bluesky become reports to confirm, once each; a network that
fails is skipped for the round; the collection is a periodic job of the notifier's workers."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.settings import Settings
from fakes.fake_bluesky import FakeBluesky
from fakes.fake_mastodon import FakeMastodon
from fakes.fake_server import FakeServer
from fakes.fake_x import FakeX
from notifier import periodic_jobs, report_hashtags_job
from reports import hashtag_collector
from reports.reports_tables import DamageReport
from storage.aio import AsyncDb
from tests.conftest import make_settings


@pytest.fixture
def networks() -> Iterator[tuple[FakeServer, FakeServer]]:
    with FakeServer(FakeMastodon()) as mastodon, FakeServer(FakeBluesky()) as bluesky:
        yield mastodon, bluesky


@pytest.fixture
def sns_settings(db_url: str, networks: tuple[FakeServer, FakeServer]) -> Settings:
    mastodon, bluesky = networks
    return make_settings(
        db_url,
        mastodon_api_base_url=mastodon.url,
        bluesky_search_base_url=bluesky.url,
        report_hashtags="#吹田市災害",
    )


def collect(settings: Settings, sessions: sessionmaker[Session]) -> int:
    async def run() -> int:
        db = AsyncDb(sessions)
        try:
            return await hashtag_collector.collect(settings, db)
        finally:
            await db.close()

    return asyncio.run(run())


def stored(sessions: sessionmaker[Session]) -> list[DamageReport]:
    with sessions() as s:
        return list(s.scalars(select(DamageReport).order_by(DamageReport.id)))


def test_posts_become_reports_to_confirm_once(
    networks: tuple[FakeServer, FakeServer], sns_settings: Settings, sessions: sessionmaker[Session]
) -> None:
    mastodon, bluesky = networks
    assert isinstance(mastodon.platform, FakeMastodon) and isinstance(bluesky.platform, FakeBluesky)
    toot = mastodon.platform.add_public_post("<b>千里山</b>で倒木 #吹田市災害 090-1234-5678")
    mastodon.platform.add_public_post("今日は晴れ #吹田市")  # another tag
    skeet = bluesky.platform.add_public_post("江坂で冠水しています #吹田市災害")
    assert collect(sns_settings, sessions) == 2
    assert collect(sns_settings, sessions) == 0  # seen again: nothing new
    by_source = {r.source: r for r in stored(sessions)}
    assert set(by_source) == {"mastodon", "bluesky"}
    m, b = by_source["mastodon"], by_source["bluesky"]
    assert (m.confirmed, m.category, m.status) == (False, "other", "new")
    assert m.author == "@taro@example.social" and m.link == toot["url"]
    assert "倒木" in (m.note or "") and "090-1234-5678" not in (m.note or "")
    assert b.author == "@hanako.bsky.social" and b.external_id == skeet["uri"]
    assert b.link and b.link.startswith("https://bsky.app/profile/hanako.bsky.social/post/")


def test_a_failing_network_is_skipped_for_the_round(
    networks: tuple[FakeServer, FakeServer], sns_settings: Settings, sessions: sessionmaker[Session]
) -> None:
    mastodon, bluesky = networks
    assert isinstance(mastodon.platform, FakeMastodon) and isinstance(bluesky.platform, FakeBluesky)
    mastodon.platform.add_public_post("道路陥没 #吹田市災害")
    bluesky.platform.add_public_post("停電 #吹田市災害")
    bluesky.platform.fail("status", status=502, path="searchPosts")
    assert collect(sns_settings, sessions) == 1
    assert collect(sns_settings, sessions) == 1  # Bluesky is back
    assert {r.source for r in stored(sessions)} == {"mastodon", "bluesky"}


def test_it_is_a_periodic_job_and_shows_up_for_staff(
    networks: tuple[FakeServer, FakeServer], sns_settings: Settings, sessions: sessionmaker[Session]
) -> None:
    assert report_hashtags_job.JOB_NAME in [j.name for j in periodic_jobs.registered()]
    mastodon, _ = networks
    assert isinstance(mastodon.platform, FakeMastodon)
    mastodon.platform.add_public_post("橋にひび #吹田市災害")
    collect(sns_settings, sessions)
    from app.main import create_app
    from tests.conftest import sign_in_as

    with TestClient(create_app(sns_settings)) as client:
        sign_in_as(client, sessions, "viewer")
        (report,) = client.get("/api/v1/reports?confirmed=false").json()["reports"]
        assert report["source"] == "mastodon" and report["author"] == "@taro@example.social"


@pytest.fixture
def fake_x() -> Iterator[FakeServer]:
    with FakeServer(FakeX()) as server:
        yield server


def x_settings(db_url: str, x: FakeServer, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "x_api_base_url": x.url,
        "x_api_key": "k",
        "x_api_secret": "s",
        "x_access_token": "1-t",
        "x_access_token_secret": "ts",
        "x_search_enabled": True,
        "report_hashtags": "吹田市災害,吹田市防災",
    }
    return make_settings(db_url, **(values | overrides))


def test_x_search_brings_posts_with_handle_link_and_coordinates_once(
    fake_x: FakeServer, db_url: str, sessions: sessionmaker[Session]
) -> None:
    assert isinstance(fake_x.platform, FakeX)
    located = fake_x.platform.add_public_post(
        "千里山駅前で冠水 #吹田市災害 &amp; 通行止め", "suita_hanako", coordinates=(135.5163, 34.7781)
    )
    fake_x.platform.add_public_post("電柱が傾いている #吹田市防災")
    fake_x.platform.add_public_post("#吹田市災害対策本部 の会見")  # another hashtag
    settings = x_settings(db_url, fake_x)
    assert collect(settings, sessions) == 2
    assert collect(settings, sessions) == 0  # seen again: nothing new
    (search, *_) = fake_x.platform.state.find("/2/tweets/search/recent")
    assert search.query["query"] == "#吹田市災害 -is:retweet" and search.query["max_results"] == "100"
    assert "geo" in search.query["tweet.fields"] and "author_id" in search.query["expansions"]
    reports = {r.external_id: r for r in stored(sessions)}
    r = reports[located["id"]]
    assert (r.source, r.confirmed, r.author) == ("x", False, "@suita_hanako")
    assert r.link == f"https://x.com/suita_hanako/status/{located['id']}"
    assert (r.lat, r.lon) == pytest.approx((34.7781, 135.5163))
    other = next(o for o in reports.values() if o.external_id != located["id"])
    assert (other.lat, other.lon) == (None, None) and "電柱" in (other.note or "")


@pytest.mark.parametrize(
    ("enabled", "keys", "searched"),
    [(False, True, False), (True, False, False), (True, True, True)],
)
def test_x_is_searched_only_when_enabled_with_keys(
    fake_x: FakeServer,
    db_url: str,
    sessions: sessionmaker[Session],
    enabled: bool,
    keys: bool,
    searched: bool,
) -> None:
    assert isinstance(fake_x.platform, FakeX)
    fake_x.platform.add_public_post("倒木 #吹田市災害")
    overrides: dict[str, object] = {"x_search_enabled": enabled}
    if not keys:
        overrides["x_api_key"] = None
    settings = x_settings(db_url, fake_x, **overrides)
    assert collect(settings, sessions) == (1 if searched else 0)
    assert bool(fake_x.platform.state.find("/2/tweets/search/recent")) == searched


@pytest.mark.parametrize("failure", ["not-enrolled", "429", "500"])
def test_x_refusals_skip_x_for_the_round_without_repeating(
    fake_x: FakeServer,
    db_url: str,
    sessions: sessionmaker[Session],
    caplog: pytest.LogCaptureFixture,
    failure: str,
) -> None:
    platform = fake_x.platform
    assert isinstance(platform, FakeX)
    platform.add_public_post("停電 #吹田市防災")
    if failure == "not-enrolled":
        platform.search_enrolled = False
    else:
        platform.fail("status", status=int(failure), path="search/recent", times=-1)
    settings = x_settings(db_url, fake_x)
    with caplog.at_level("WARNING"):
        assert collect(settings, sessions) == 0
    assert len(platform.state.find("/2/tweets/search/recent")) == 1  # not once per hashtag
    note = " ".join(r.getMessage() for r in caplog.records)
    if failure == "not-enrolled":
        assert "API tier" in note and "client-not-enrolled" in note and "X_SEARCH_ENABLED" in note
    else:
        assert f"X search skipped this round ({failure}" in note
    platform.search_enrolled = True
    platform.state.reset()
    platform.add_public_post("停電 #吹田市災害")
    assert collect(settings, sessions) == 2  # the next round asks again


def test_x_posts_parse_only_valid_coordinates() -> None:
    body = {
        "data": [
            {"id": "1", "text": "a", "author_id": "9", "geo": {"coordinates": {"type": "Point",
                                                                             "coordinates": [135.5, 34.7]}}},
            {"id": "2", "text": "b", "author_id": "9", "geo": {"coordinates": {"coordinates": [200, 95]}}},
            {"id": "3", "text": "c", "author_id": "9", "geo": {"place_id": "abc"}},
            {"id": "4", "text": "d", "author_id": "unknown"},
            "junk",
        ],
        "includes": {"users": [{"id": "9", "username": "u"}]},
    }  # fmt: skip
    posts = hashtag_collector.x_posts(body)
    assert [(p.external_id, p.lat, p.lon) for p in posts] == [
        ("1", 34.7, 135.5),
        ("2", None, None),
        ("3", None, None),
    ]
    assert hashtag_collector.x_posts({"meta": {"result_count": 0}}) == []


def test_an_x_post_with_coordinates_is_on_the_map(
    fake_x: FakeServer, db_url: str, sessions: sessionmaker[Session]
) -> None:
    assert isinstance(fake_x.platform, FakeX)
    post = fake_x.platform.add_public_post("江坂で冠水 #吹田市災害", coordinates=(135.4969, 34.7587))
    fake_x.platform.add_public_post("停電 #吹田市災害")  # no place: in the list, not on the map
    settings = x_settings(db_url, fake_x)
    assert collect(settings, sessions) == 2
    from app.main import create_app
    from tests.conftest import sign_in_as

    with TestClient(create_app(settings)) as client:
        sign_in_as(client, sessions, "viewer")
        features = client.get("/api/v1/reports.geojson").json()["features"]
        listed = client.get("/api/v1/reports?source=x").json()["reports"]
    assert [f["geometry"]["coordinates"] for f in features] == [[135.4969, 34.7587]]
    assert features[0]["properties"]["source"] == "x"
    assert {r["link"] for r in listed} >= {f"https://x.com/suita_taro/status/{post['id']}"}
    assert len(listed) == 2
