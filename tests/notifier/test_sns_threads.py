"""A post in several languages on the social networks, through the worker and the real SDK clients
against the fakes over HTTP: X, Mastodon and Bluesky publish a thread (the Japanese post, each other
language a reply), Facebook one post; a thread whose second post fails is finished by a retry that
posts only the missing reply, never the first post again."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from app.settings import ConfigError, Settings, load_settings
from fakes.fake_bluesky import DID
from notifier.compose import ComposeError, prepare
from notifier.ledger_tables import Delivery, DeliveryPart
from notifier.post_ledger import resolve_delivery
from notifier.preview import preview
from storage.base import utcnow
from storage.db import session_scope
from tests.conftest import make_settings
from tests.notifier.conftest import FAST, Fakes, run_worker, schedule, shown

THREADED = ("x", "mastodon", "bluesky")
POST_PATHS = {"x": "/2/tweets$", "mastodon": "/api/v1/statuses$", "bluesky": "createRecord"}
EN = {"title": "Change of collection days", "body": "Collection days change over the new year."}
KO = {"title": "수거일 변경", "body": "연말연시 쓰레기 수거일이 바뀝니다."}
VI = {"title": "Thay đổi ngày thu gom", "body": "Ngày thu gom rác thay đổi dịp năm mới."}


def thread(fakes: Fakes, name: str) -> list[tuple[str, str, str | None]]:
    """(id, text, id of the post it replies to) of every post the platform holds, oldest first."""
    if name == "x":
        return [(t["id"], t["original"], t["in_reply_to"]) for t in fakes.published("x")]
    if name == "mastodon":
        return [(s["id"], s["text"], s["in_reply_to_id"]) for s in fakes.published("mastodon")]
    posts = []
    for record in fakes.published("bluesky"):
        reply = record["value"].get("reply")
        parent = reply["parent"]["uri"] if reply else None
        posts.append((f"at://{DID}/app.bsky.feed.post/{record['rkey']}", record["value"]["text"], parent))
    return posts


def parts(sessions: sessionmaker[Session], channel: str) -> list[tuple[str, str, str | None]]:
    with sessions() as s:
        rows = s.execute(
            select(DeliveryPart.language, DeliveryPart.state, DeliveryPart.platform_id)
            .join(Delivery, Delivery.id == DeliveryPart.delivery_id)
            .where(Delivery.channel == channel)
            .order_by(DeliveryPart.seq)
        ).all()
    return [(r.language, r.state, r.platform_id) for r in rows]


def delivery(sessions: sessionmaker[Session], post_id: int, channel: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = [
        d for d in shown(sessions, post_id)["deliveries"] if d["channel"] == channel
    ]
    return found[0]


def assert_chain(posts: list[tuple[str, str, str | None]], starts: list[str]) -> None:
    """Each post begins as expected and replies to the one before it (the first to nothing)."""
    assert len(posts) == len(starts), posts
    for i, ((_, text, parent), start) in enumerate(zip(posts, starts, strict=True)):
        assert text.startswith(start), (i, text)
        assert parent == (posts[i - 1][0] if i else None)


@pytest.mark.parametrize("name", THREADED)
def test_a_post_with_english_is_a_thread_of_two(
    name: str, sns_settings: Settings, sessions: sessionmaker[Session], fakes: Fakes
) -> None:
    post_id = schedule(sns_settings, sessions, channels=[name], urgency="emergency", variants={"en": EN})
    run_worker(sns_settings)
    posts = thread(fakes, name)
    assert_chain(posts, ["【緊急】ごみ収集日の変更", "[EMERGENCY] Change of collection days"])
    assert "Collection days change" in posts[1][1] and "https://www.city.suita.osaka.jp/gomi" in posts[1][1]
    assert "Collection days change" not in posts[0][1]
    found = delivery(sessions, post_id, name)
    assert found["state"] == "sent" and found["platform_id"] == posts[0][0]  # the Japanese post's id
    assert parts(sessions, name) == [("ja", "sent", posts[0][0]), ("en", "sent", posts[1][0])]
    if name == "mastodon":
        assert [s["language"] for s in fakes.published("mastodon")] == ["ja", "en"]
    if name == "bluesky":
        records = fakes.published("bluesky")
        assert [r["value"]["langs"] for r in records] == [["ja"], ["en"]]
        assert records[1]["value"]["reply"]["root"]["uri"] == posts[0][0]


def test_facebook_carries_every_language_in_one_post(
    sns_settings: Settings, sessions: sessionmaker[Session], fakes: Fakes
) -> None:
    post_id = schedule(sns_settings, sessions, channels=["facebook"], variants={"en": EN})
    run_worker(sns_settings)
    (page_post,) = fakes.published("facebook")
    message = page_post["message"]
    assert message.startswith("ごみ収集日の変更") and message.endswith("#吹田市")
    assert message.index("年末年始") < message.index("Change of collection days\n\nCollection days change")
    assert message.count("https://www.city.suita.osaka.jp/gomi") == 1  # and as the link preview
    assert delivery(sessions, post_id, "facebook")["state"] == "sent"


@pytest.mark.parametrize("name", ("x", "mastodon", "bluesky", "facebook"))
def test_a_post_without_english_stays_one_post(
    name: str, sns_settings: Settings, sessions: sessionmaker[Session], fakes: Fakes
) -> None:
    post_id = schedule(sns_settings, sessions, channels=[name])
    run_worker(sns_settings)
    assert len(fakes.published(name)) == 1
    assert delivery(sessions, post_id, name)["state"] == "sent"
    if name != "facebook":
        assert [p[:2] for p in parts(sessions, name)] == [("ja", "sent")]


def test_each_listed_language_is_its_own_reply(
    db_url: str, sessions: sessionmaker[Session], fakes: Fakes
) -> None:
    three = {f"{name}_post_languages": "ja,en,ko" for name in (*THREADED, "facebook")}
    settings = make_settings(db_url, **fakes.settings(), **FAST, **three)
    variants = {"en": EN, "ko": KO, "vi": VI}  # Vietnamese is not listed: not published here
    post_id = schedule(settings, sessions, variants=variants)
    run_worker(settings)
    for name in THREADED:
        assert_chain(thread(fakes, name), ["ごみ収集日の変更", "Change of collection days", "수거일 변경"])
        assert [p[0] for p in parts(sessions, name)] == ["ja", "en", "ko"]
    (page_post,) = fakes.published("facebook")
    assert "Change of collection days" in page_post["message"] and "수거일 변경" in page_post["message"]
    assert "Thay đổi" not in page_post["message"]
    assert all(d["state"] == "sent" for d in shown(sessions, post_id)["deliveries"])


def retry_now(sessions: sessionmaker[Session]) -> None:
    """Make the pending retry due now (its backoff is a matter of milliseconds)."""
    with session_scope(sessions) as s:
        s.execute(update(Delivery).where(Delivery.state == "pending").values(run_at=utcnow()))


# (channel, fault on the second post, delivery state after the first pass): a 5xx that did nothing,
# a timeout after the platform published the reply (the answer lost), or a 429.
SECOND_POST_FAILS = [
    ("x", {"kind": "status", "status": 503}, "pending"),
    ("x", {"kind": "timeout_after", "seconds": 1.5}, "sent"),  # the look-up finds the reply
    ("mastodon", {"kind": "status", "status": 502}, "pending"),
    ("mastodon", {"kind": "timeout_after", "seconds": 1.5}, "pending"),
    ("bluesky", {"kind": "status", "status": 502}, "pending"),
    ("bluesky", {"kind": "timeout_after", "seconds": 1.5}, "pending"),
    # a spent rate limit on the reply: handed back until the reset, the Japanese post kept
    ("x", {"kind": "status", "status": 429}, "pending"),
    ("bluesky", {"kind": "status", "status": 429}, "pending"),
]


@pytest.mark.parametrize(("name", "fault", "after_first"), SECOND_POST_FAILS)
def test_a_failed_reply_is_retried_without_posting_the_first_again(
    name: str,
    fault: dict[str, Any],
    after_first: str,
    sns_settings: Settings,
    sessions: sessionmaker[Session],
    fakes: Fakes,
) -> None:
    fakes[name].platform.fail(path=POST_PATHS[name], method="POST", skip=1, **fault)
    post_id = schedule(sns_settings, sessions, channels=[name], variants={"en": EN})
    run_worker(sns_settings)
    first_id = thread(fakes, name)[0][0]
    assert delivery(sessions, post_id, name)["state"] == after_first
    assert parts(sessions, name)[0] == ("ja", "sent", first_id)  # recorded before the reply failed
    retry_now(sessions)
    run_worker(sns_settings)
    posts = thread(fakes, name)
    assert_chain(posts, ["ごみ収集日の変更", "Change of collection days"])  # exactly two posts
    assert posts[0][0] == first_id
    found = delivery(sessions, post_id, name)
    assert found["state"] == "sent" and found["platform_id"] == first_id
    assert parts(sessions, name) == [("ja", "sent", first_id), ("en", "sent", posts[1][0])]


def unclear_reply_on_x(settings: Settings, sessions: sessionmaker[Session], fakes: Fakes) -> int:
    """A two-post thread on X whose reply timed out without being published: the delivery is left
    `unknown` (X has no idempotency key) with only the Japanese post out; returns the post's id."""
    fakes.x.platform.fail("timeout", seconds=1.5, path=POST_PATHS["x"], method="POST", skip=1)
    post_id = schedule(settings, sessions, channels=["x"], variants={"en": EN})
    run_worker(settings)
    assert delivery(sessions, post_id, "x")["state"] == "unknown" and len(thread(fakes, "x")) == 1
    return post_id


def test_an_unclear_reply_on_x_is_resent_by_a_person_as_a_reply_to_the_first(
    sns_settings: Settings, sessions: sessionmaker[Session], fakes: Fakes
) -> None:
    post_id = unclear_reply_on_x(sns_settings, sessions, fakes)
    with session_scope(sessions) as s:
        delivery_id = s.scalars(select(Delivery.id).where(Delivery.post_id == post_id)).one()
        resolve_delivery(s, delivery_id, "resend", by="kouhou", now=utcnow())
    run_worker(sns_settings)
    posts = thread(fakes, "x")
    assert_chain(posts, ["ごみ収集日の変更", "Change of collection days"])
    assert delivery(sessions, post_id, "x")["platform_id"] == posts[0][0]


def test_lengths_are_checked_per_post_of_the_thread(sns_settings: Settings) -> None:
    now = utcnow()
    long_en = {"title": "Change of collection days", "body": "The collection days change. " * 12}
    data = {
        "title": "ごみ収集日の変更",
        "body": "年末年始のごみ収集日が変わります。",
        "link": "https://www.city.suita.osaka.jp/gomi",
        "channels": ["x", "mastodon", "bluesky"],
        "variants": {"en": long_en},
    }
    texts = prepare(data, sns_settings, now).texts
    # the English reply would not fit X or Bluesky in full: title and link (the text is behind it)
    for name in ("x", "bluesky"):
        assert texts[name]["en"] == ["Change of collection days\n\nhttps://www.city.suita.osaka.jp/gomi"]
    assert "The collection days change." in texts["mastodon"]["en"][0]  # 500 characters: it fits
    shown = preview(prepare(data, sns_settings, now).post, sns_settings, now)["channels"]
    assert {name: c["layout"] for name, c in shown.items()} == dict.fromkeys(THREADED, "thread")
    shown_x = shown["x"]
    assert [(lang, m[0]["count"], m[0]["ok"]) for lang, m in shown_x["languages"].items()] == [
        ("ja", 16 + 2 + 34 + 2 + 23, True),
        ("en", 25 + 2 + 23, True),
    ]
    # Korean counts 2 on X: a title that does not fit even alone is refused, naming the variant
    settings = sns_settings.model_copy(update={"x_post_languages": ("ja", "ko")})
    korean = {**data, "channels": ["x"], "variants": {"ko": {"title": "수" * 140, "body": "본문"}}}
    with pytest.raises(ComposeError) as refused:
        prepare(korean, settings, now)
    assert [p.field for p in refused.value.problems] == ["variants.ko.body"]
    assert "too long for X" in refused.value.problems[0].message


@pytest.mark.parametrize(
    ("value", "expected"),
    [("ja,en", ("ja", "en")), ("en", ("ja", "en")), ("ko, ja ,vi", ("ja", "ko", "vi")), ("", ("ja",))],
)
def test_the_language_setting_puts_japanese_first(value: str, expected: tuple[str, ...]) -> None:
    assert (
        load_settings(database_url="sqlite://", bluesky_post_languages=value).bluesky_post_languages
        == expected
    )


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("ja,fr", "X_POST_LANGUAGES: 'fr' is not a language id"),
        ("en,en", "X_POST_LANGUAGES: a language is listed twice"),
    ],
)
def test_a_bad_language_setting_stops_startup_naming_it(value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings(database_url="sqlite://", x_post_languages=value)


def test_the_setting_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MASTODON_POST_LANGUAGES", "ja,en,zh-Hans")
    assert load_settings(database_url="sqlite://").mastodon_post_languages == ("ja", "en", "zh-Hans")


def test_a_reply_is_found_by_its_own_key_after_an_unclear_answer(
    sns_settings: Settings, sessions: sessionmaker[Session], fakes: Fakes
) -> None:
    # Bluesky's reply keys follow the Japanese post's (the next TIDs): a look-up needs no stored part
    from notifier.channels.bluesky_channel import tid_after

    post_id = schedule(sns_settings, sessions, channels=["bluesky"], variants={"en": EN})
    run_worker(sns_settings)
    first, reply = (r["rkey"] for r in fakes.published("bluesky"))
    assert reply == tid_after(first, 1) and first < reply
    assert delivery(sessions, post_id, "bluesky")["platform_id"].endswith(first)


def test_reconciliation_records_a_late_reply_of_the_thread(
    sns_settings: Settings, sessions: sessionmaker[Session], fakes: Fakes
) -> None:
    from notifier import periodic_jobs
    from notifier.delivery.reconcile import reconcile_once
    from tests.notifier.conftest import run_async

    post_id = unclear_reply_on_x(sns_settings, sessions, fakes)
    ((first_id, _, _),) = thread(fakes, "x")
    with sessions() as s:
        reply_text = s.scalars(select(Delivery.payload)).one()["texts"]["en"][0]
    late = httpx.post(  # the reply shows up on the timeline later (X was slow, not failing)
        f"{fakes.x.url}/2/tweets",
        json={"text": reply_text, "reply": {"in_reply_to_tweet_id": first_id}},
        headers={"Authorization": "OAuth x"},
        timeout=10,
    )
    assert late.status_code == 201, late.text
    patient = sns_settings.model_copy(update={"notifier_request_timeout": 10.0})
    assert run_async(reconcile_once(periodic_jobs.JobContext(patient, sessions, "test", utcnow()))) == 1
    found = delivery(sessions, post_id, "x")
    assert found["state"] == "sent" and found["platform_id"] == first_id
    assert parts(sessions, "x") == [("ja", "sent", first_id), ("en", "sent", late.json()["data"]["id"])]


@pytest.mark.parametrize(
    ("name", "status", "words"),
    [
        ("x", 403, "deleted or not visible"),
        ("mastodon", 404, "Record not found"),
    ],
)
def test_the_fakes_refuse_a_reply_to_an_unknown_post(
    name: str, status: int, words: str, sns_settings: Settings, fakes: Fakes
) -> None:
    from notifier.channels.channel_registry import build
    from notifier.channels.thread_posts import ThreadStep
    from platforms.call_errors import Rejected
    from tests.notifier.conftest import run_async

    channel: Any = build(name, sns_settings)
    step = ThreadStep(1, "en", "A reply", "k-1", root="999", parent="999", maybe_sent=False)
    call = (lambda: channel._send("A reply", "999")) if name == "x" else (lambda: channel._send(step))
    try:
        with pytest.raises(Rejected) as refused:
            call()
    finally:
        run_async(channel.aclose())
    assert refused.value.http_status == status and words in refused.value.reason
    assert fakes.published(name) == []


def test_the_bluesky_fake_checks_reply_references(sns_settings: Settings, fakes: Fakes) -> None:
    from atproto import Client
    from atproto_client import exceptions as atx

    client = Client(base_url=sns_settings.bluesky_api_base_url)
    uri = f"at://{DID}/app.bsky.feed.post/3kzzzzzzzzzzz"
    cid = "bafyreib2rxk3rh6kzwq"  # shaped like a CID, of no record here
    record = {"$type": "app.bsky.feed.post", "text": "reply", "createdAt": "2026-12-07T00:00:00.000Z"}
    cases = [
        ({"root": {"uri": uri}, "parent": {"uri": uri, "cid": cid}}, "InvalidRecord", "root/cid"),
        (
            {"root": {"uri": uri, "cid": cid + "aaaa"}, "parent": {"uri": uri, "cid": cid + "aaaa"}},
            "InvalidRequest",
            "Could not locate record",
        ),
    ]
    try:
        client.login(fakes.bluesky.platform.handle, fakes.bluesky.platform.password)  # type: ignore[attr-defined]
        for reply, error, words in cases:
            with pytest.raises(atx.BadRequestError) as refused:
                client.com.atproto.repo.create_record(
                    {"repo": DID, "collection": "app.bsky.feed.post", "record": {**record, "reply": reply}}
                )
            content = refused.value.response.content if refused.value.response else None
            assert getattr(content, "error", None) == error and words in str(getattr(content, "message", ""))
    finally:
        client.request.close()
    assert fakes.published("bluesky") == []
