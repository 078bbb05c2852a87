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
