"""Composing a post: every problem names its field; limits use each platform's counting; nothing is
cut short; texts come from the per-channel templates."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from app.settings import Settings
from notifier.compose import ComposeError, prepare
from notifier.preview import preview
from tests.conftest import make_settings

NOW = dt.datetime(2030, 4, 1, 0, 0, tzinfo=dt.UTC)
CREDENTIALS = {
    "line_channel_access_token": "t",
    "x_api_key": "k",
    "x_api_secret": "s",
    "x_access_token": "123-t",
    "x_access_token_secret": "ts",
    "facebook_page_id": "100",
    "facebook_page_access_token": "p",
    "mastodon_api_base_url": "http://127.0.0.1:9",  # nothing listens: the documented limit applies
    "mastodon_access_token": "m",
    "bluesky_handle": "suita.bsky.social",
    "bluesky_app_password": "b",
}
ALL = ["line", "x", "facebook", "mastodon", "bluesky"]


@pytest.fixture
def settings() -> Settings:
    return make_settings("sqlite://", **CREDENTIALS)


def post(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "title": "防災訓練のお知らせ",
        "body": "11月3日に市内全域で防災訓練を行います。",
        "link": "https://www.city.suita.osaka.jp/bousai",
        "topic": "bousai",
        "urgency": "normal",
        "channels": ALL,
        "scheduled_at": "2030-04-01T18:00:00+09:00",
        "variants": {"en": {"title": "Disaster drill", "body": "A city-wide drill on 3 November."}},
    }
    base.update(changes)
    return base


def problems(data: Any, settings: Settings) -> dict[str, str]:
    with pytest.raises(ComposeError) as err:
        prepare(data, settings, NOW)
    return {p.field: p.message for p in err.value.problems}


@pytest.mark.parametrize(
    ("changes", "field", "fragments"),
    [
        ({"channels": ["x", "myspace"]}, "channels[1]", ["配信先(2 番目)", "unknown channel 'myspace'"]),
        ({"channels": ["x", "x"]}, "channels[1]", ["2 回選ばれています", "listed twice"]),
        ({"channels": []}, "channels", ["配信先: 1 つ以上選んでください", "Channels: choose at least 1"]),
        (
            {"scheduled_at": "2030-03-31T08:59:00+09:00"},
            "scheduled_at",
            ["配信日時: 2030-03-31 08:59 (JST) は過去", "When: 2030-03-31 08:59 (JST) is in the past"],
        ),
        ({"scheduled_at": "2030-04-01T18:00:00"}, "scheduled_at", ["時差(+09:00 など)", "timezone offset"]),
        ({"scheduled_at": "tomorrow"}, "scheduled_at", ["日時の形式", "not a valid datetime"]),
        ({"topic": "gomi"}, "topic", ["トピック: 'gomi'", "unknown topic 'gomi'"]),
        ({"urgency": "urgent"}, "urgency", ["緊急度:", "'normal' or 'emergency'"]),
        ({"link": "javascript:alert(1)"}, "link", ["リンク: http://", "Link: must be an http"]),
        ({"title": ""}, "title", ["タイトル: 入力してください", "Title: required"]),
        (
            {"variants": {"fr": {"title": "t", "body": "b"}}},
            "variants.fr",
            ["日本語以外の版は ja-easy, en, zh-Hans", "variants: ja-easy, en, zh-Hans, ko, vi, pt"],
        ),
        (
            {"variants": {"en": {"title": "t"}}},
            "variants.en.body",
            ["英語版の本文: 入力", "English text: required"],
        ),
        ({"colour": "red"}, "colour", ["この項目は使えません", "not permitted"]),
        ({"body": "あ" * 200}, "body", ["本文: X には長すぎます(4", "Text: too long for X: 4"]),
        (
            {"channel_texts": {"x": "あ" * 200}},
            "channel_texts.x",
            ["X 用の本文: X には長すぎます", "Text for X: too long for X"],
        ),
        (
            {"channels": ["x"], "channel_texts": {"bluesky": "短く"}},
            "channel_texts.bluesky",
            ["選ばれていない"],
        ),
    ],
)
def test_bad_input_names_the_field_in_words(
    settings: Settings, changes: dict[str, Any], field: str, fragments: list[str]
) -> None:
    found = problems(post(**changes), settings)
    assert field in found, found
    for fragment in fragments:
        assert fragment in found[field]
    assert found[field].index(" / ") > 0  # Japanese first, then English


def test_missing_credentials_name_the_settings() -> None:
    bare = make_settings("sqlite://", x_api_key="k")
    found = problems(post(channels=["x", "mastodon"]), bare)
    assert "X_API_SECRET" in found["channels[0]"] and "X_API_KEY" not in found["channels[0]"]
    assert "MASTODON_ACCESS_TOKEN" in found["channels[1]"]


@pytest.mark.parametrize(
    ("channel", "body", "count", "limit"),
    [
        ("x", "あ" * 131, "307 weighted characters", 280),  # 18 + 2 + 262 + 2 + 23
        ("bluesky", "あ" * 290, "graphemes", 300),
        ("mastodon", "あ" * 490, "characters", 500),
        ("line", "あ" * 5000, "UTF-16", 5000),
    ],
)
def test_over_limit_is_refused_with_channel_count_and_limit(
    settings: Settings, channel: str, body: str, count: str, limit: int
) -> None:
    found = problems(post(channels=[channel], body=body), settings)
    assert count in found["body"] and f"the limit is {limit}" in found["body"]


def test_over_limit_english_variant_names_its_field(settings: Settings) -> None:
    found = problems(post(channels=["line"], variants={"en": {"title": "t", "body": "a" * 5001}}), settings)
    assert set(found) == {"variants.en.body"}


def test_exactly_at_the_limit_is_accepted(settings: Settings) -> None:
    # the X template is "title\n\nbody\n\nlink": 2*5 + 2 + 2*len(body) + 2 + 23
    body = "あ" * ((280 - 10 - 2 - 2 - 23) // 2)
    prepared = prepare(post(channels=["x"], title="あいうえお", body=body), settings, NOW)
    assert "".join(prepared.texts["x"]["ja"]).endswith("https://www.city.suita.osaka.jp/bousai")


def test_texts_per_channel_and_language(settings: Settings) -> None:
    prepared = prepare(post(urgency="emergency"), settings, NOW)
    assert prepared.scheduled_at == dt.datetime(2030, 4, 1, 9, 0, tzinfo=dt.UTC)
    line = prepared.texts["line"]
    assert set(line) == {"ja", "en"}
    assert line["ja"][0].startswith("［防災・防犯］【緊急】防災訓練のお知らせ")
    assert line["en"][0].startswith("[Disaster & safety] [EMERGENCY] Disaster drill")
    for sns in ("x", "mastodon", "bluesky"):  # a thread: the Japanese post, then the English reply
        assert list(prepared.texts[sns]) == ["ja", "en"]
        assert [len(messages) for messages in prepared.texts[sns].values()] == [1, 1]
        assert prepared.texts[sns]["ja"][0].startswith("【緊急】防災訓練のお知らせ")
        assert "Disaster drill" not in prepared.texts[sns]["ja"][0]
        assert prepared.texts[sns]["en"][0].startswith("[EMERGENCY] Disaster drill")
        assert prepared.texts[sns]["en"][0].count("https://www.city.suita.osaka.jp/bousai") == 1
    (facebook,) = prepared.texts["facebook"]["ja"]  # one post: the English below the Japanese
    assert set(prepared.texts["facebook"]) == {"ja"} and facebook.startswith("【緊急】防災訓練のお知らせ")
    assert "\n\n[EMERGENCY] Disaster drill" in facebook and facebook.endswith("#吹田市")
    assert prepared.accounts["x"] == "123" and prepared.accounts["facebook"] == "100"


def test_null_time_means_now(settings: Settings) -> None:
    assert prepare(post(scheduled_at=None), settings, NOW).scheduled_at == NOW


def test_line_broadcast_carries_both_languages_in_one_call(settings: Settings) -> None:
    texts = prepare(post(topic=None, channels=["line"]), settings, NOW).texts["line"]
    from notifier.channels.line_channel import LineChannel

    (group,) = LineChannel.message_groups(texts, None)
    assert group == texts["ja"] + texts["en"]
    assert LineChannel.message_groups(texts, "bousai") == [texts["ja"], texts["en"]]


def test_preview_shows_counts_and_problems_without_refusing(settings: Settings) -> None:
    shown = preview(
        prepare(post(), settings, NOW).post.model_copy(update={"body": "あ" * 200}), settings, NOW
    )
    x = shown["channels"]["x"]
    assert x["ok"] is False and x["limit"] == 280 and x["languages"]["ja"][0]["count"] > 280
    assert shown["channels"]["mastodon"]["ok"] is True
    assert any(p["field"] == "body" and "X" in p["message"] for p in shown["problems"])
