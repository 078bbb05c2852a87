"""Text limits as each platform states them, checked when composing (issue 17): Mastodon's limit and
URL length are the instance's own (`GET /api/v2/instance`, read once per account), Bluesky records
also have a 3,000-byte cap. The fakes check with their own rules, so a post the composer accepts is
one the platform accepts."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from app.settings import Settings
from notifier.channels.bluesky_channel import BlueskyChannel
from notifier.channels.mastodon_channel import MastodonChannel
from notifier.compose import ComposeError, prepare
from storage.base import utcnow
from tests.conftest import make_settings
from tests.notifier.conftest import post_data, run_worker, schedule, states
from tests.platform_fakes import Fakes

FAMILY = "👨‍👩‍👧‍👦"  # one grapheme, 25 UTF-8 bytes


@pytest.fixture
def settings(sns_settings: Settings) -> Settings:
    return sns_settings


def mastodon(fakes: Fakes) -> Any:
    return fakes.mastodon.platform


def test_mastodon_limits_are_read_once_per_account(sns_settings: Settings, fakes: Fakes) -> None:
    mastodon(fakes).max_characters, mastodon(fakes).url_length = 1000, 30
    limits = MastodonChannel.limits(sns_settings)
    assert (limits.limit, limits.source) == (1000, "instance") and "30" in limits.unit
    assert limits.count("あ https://www.city.suita.osaka.jp/" + "a" * 80) == 2 + 30
    mastodon(fakes).max_characters = 2000  # read once: the cached figure holds
    assert MastodonChannel.limits(sns_settings).limit == 1000
    assert len(fakes.mastodon.state.find("/api/v2/instance")) == 1


def test_a_longer_mastodon_post_is_accepted_and_published(
    sns_settings: Settings, sessions: sessionmaker[Session], fakes: Fakes
) -> None:
    """500 is only the default: on an instance that allows 1,000 characters a 700-character post is
    composed, sent and accepted."""
    mastodon(fakes).max_characters = 1000
    post_id = schedule(sns_settings, sessions, channels=["mastodon"], body="あ" * 700)
    run_worker(sns_settings)
    assert states(sessions, post_id) == {"mastodon": "sent"}
    (status,) = fakes.published("mastodon")
    assert "あ" * 700 in status["text"]


def test_a_smaller_mastodon_limit_and_longer_urls_refuse_at_compose_time(
    sns_settings: Settings, fakes: Fakes
) -> None:
    mastodon(fakes).max_characters, mastodon(fakes).url_length = 300, 40
    data = post_data(channels=["mastodon"], body="あ" * 250)  # + title, link (40) and line breaks
    with pytest.raises(ComposeError) as err:
        prepare(data, sns_settings, utcnow())
    (problem,) = err.value.problems
    assert (
        problem.field == "body"
        and "the limit is 300" in problem.message
        and "a URL counts 40" in problem.message
    )


def test_an_unreachable_instance_means_the_default(fakes: Fakes) -> None:
    settings = make_settings(
        "sqlite://", mastodon_api_base_url="http://127.0.0.1:9", mastodon_access_token="t"
    )
    limits = MastodonChannel.limits(settings)
    assert limits.limit == 500 and limits.source.startswith("default")


def test_the_staff_api_reads_the_limits_before_using_the_database(
    staff_client: TestClient, fakes: Fakes
) -> None:
    from notifier import posts_api, posts_page
    from notifier.posts_api import limits_first

    composing = [
        r
        for r in [*posts_api.router.routes, *posts_page.router.routes]
        if isinstance(r, APIRoute) and any(d.call is limits_first for d in r.dependant.dependencies)
    ]
    assert {(r.path, *sorted(r.methods or ())) for r in composing} == {
        ("/api/v1/posts", "POST"),
        ("/api/v1/posts/preview", "POST"),
        ("/api/v1/posts/{post_id}/preview", "GET"),
        ("/api/v1/posts/{post_id}", "PUT"),
        ("/api/v1/posts/{post_id}/schedule", "POST"),
        ("/api/v1/posts/{post_id}/submit", "POST"),
        ("/api/v1/posts/{post_id}/approve", "POST"),
        ("/api/v1/posts/{post_id}/emergency", "POST"),
        ("/posts", "GET"),
    }
    assert all(r.dependant.dependencies[0].call is limits_first for r in composing)  # before the session
    client = staff_client
    mastodon(fakes).max_characters = 1000
    shown = client.post("/api/v1/posts/preview", json=post_data(channels=["mastodon"], body="あ" * 700))
    assert shown.status_code == 200, shown.text
    channel = shown.json()["channels"]["mastodon"]
    assert (channel["limit"], channel["ok"], channel["limit_source"]) == (1000, True, "instance")
    created = client.post("/api/v1/posts", json=post_data(channels=["mastodon"], body="あ" * 700))
    assert created.status_code == 201, created.text


def test_bluesky_bytes_are_checked_when_composing(sns_settings: Settings, fakes: Fakes) -> None:
    """130 family emoji are 130 graphemes but 3,250 bytes: the record would be refused."""
    limits = BlueskyChannel.limits(sns_settings)
    assert limits.max_bytes == 3000 and limits.problems(FAMILY * 120, "Bluesky") == []
    with pytest.raises(ComposeError) as err:
        prepare(post_data(channels=["bluesky"], body=FAMILY * 130), sns_settings, utcnow())
    (problem,) = err.value.problems
    assert "bytes (UTF-8), the limit is 3000" in problem.message


def test_preview_counts_with_the_instance_rule(sns_settings: Settings, fakes: Fakes) -> None:
    from notifier.compose import parse
    from notifier.preview import preview

    mastodon(fakes).url_length = 50
    shown = preview(
        parse(post_data(channels=["mastodon"], body="本文")), sns_settings, dt.datetime.now(dt.UTC)
    )
    (message,) = shown["channels"]["mastodon"]["languages"]["ja"]
    assert message["count"] == MastodonChannel.limits(sns_settings).count(message["text"])
    assert message["count"] > len(message["text"].split("https://")[0]) + 49
