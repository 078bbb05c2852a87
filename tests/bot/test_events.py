"""Signature and parsing of webhook bodies (pure)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.intake.webhook_events import (
    SIMULATOR_DESTINATION,
    MalformedBody,
    UnknownEvent,
    media_parts,
    parse_body,
    sign,
    signature_ok,
)
from fakes import fake_line_events as ev
from tests.line_fixtures import user_id

SECRET = "s3cret"
U1, U2 = user_id(1), user_id(2)


def test_signature_matches_line_sdk() -> None:
    from linebot.v3.webhook import SignatureValidator

    raw = ev.body([ev.text_event(U1, "こんにちは")])
    assert SignatureValidator(SECRET).validate(raw.decode(), sign(raw, SECRET))
    assert sign(raw, SECRET) == ev.signature(raw, SECRET)


@pytest.mark.parametrize(
    ("signature", "secret", "ok"),
    [
        (lambda raw: ev.signature(raw, SECRET), SECRET, True),
        (lambda raw: ev.signature(raw, SECRET) + " ", SECRET, True),
        (lambda raw: ev.signature(raw, "other"), SECRET, False),
        (lambda raw: ev.signature(raw + b" ", SECRET), SECRET, False),
        (lambda raw: None, SECRET, False),
        (lambda raw: "", SECRET, False),
        (lambda raw: "ü不正", SECRET, False),
        (lambda raw: ev.signature(raw, ""), "", False),
    ],
)
def test_signature_ok(signature: Any, secret: str, ok: bool) -> None:
    raw = ev.body([ev.text_event(U1, "hi")])
    assert signature_ok(raw, signature(raw), secret) is ok


@pytest.mark.parametrize(
    ("event", "kind", "data"),
    [
        (ev.text_event(U1, "住民票"), "text", "住民票"),
        (ev.postback_event(U1, "a=menu"), "postback", "a=menu"),
        (ev.sticker_event(U1), "media", "sticker"),
        (ev.image_event(U1), "media", "image"),
        (ev.location_event(U1), "media", "location"),
        (ev.follow_event(U1), "follow", ""),
        (ev.follow_event(U1, unblocked=True), "follow", "unblocked"),
        (ev.unfollow_event(U1), "unfollow", ""),
        (ev.unfollow_event(U1, mode="standby"), "unfollow", ""),
    ],
)
def test_events_become_inbox_items(event: ev.Event, kind: str, data: str) -> None:
    parsed = parse_body(ev.body([event]))
    assert parsed.dead == [] and parsed.skipped == 0
    (item,) = parsed.items
    kept = item.data.partition("\n")[0]  # images and locations carry details after the type
    assert (item.kind, kept, item.chat_id, item.user_id) == (kind, data, U1, U1)
    assert item.event_id == event["webhookEventId"] and item.timestamp == event["timestamp"]
    assert item.reply_token == event.get("replyToken") and item.channel == "line"


def test_images_and_locations_keep_what_a_flow_needs() -> None:
    image, place = ev.image_event(U1), ev.location_event(U1)
    items = parse_body(ev.body([image, place])).items
    assert media_parts(items[0].data) == ("image", {"id": image["message"]["id"]})
    kind, details = media_parts(items[1].data)
    assert kind == "location" and (details["lat"], details["lon"]) == (34.7594, 135.5169)
    assert details["title"] == "吹田市役所"
    assert media_parts("sticker") == ("sticker", {})


def _join(user: str) -> ev.Event:
    event = ev.follow_event(user)
    event.update(type="join", source={"type": "group", "groupId": "C" + "1" * 32})
    del event["follow"]
    return event


@pytest.mark.parametrize(
    "event",
    [
        ev.text_event(U1, "hi", mode="standby"),
        ev.postback_event(U1, "a=menu", mode="standby"),
        _join(U1),
        {**ev.text_event(U1, "x"), "type": "brandNewEvent", "webhookEventId": 7},  # no usable ID
        {**ev.text_event(U1, "x"), "type": "brandNewEvent", "timestamp": "now"},  # no usable time
    ],
    ids=["standby text", "standby postback", "join", "a new type without an ID", "a new type without a time"],
)
def test_skipped_events(event: ev.Event) -> None:
    parsed = parse_body(ev.body([event]))
    assert (parsed.items, parsed.dead, parsed.unknown, parsed.skipped) == ([], [], [], 1)


@pytest.mark.parametrize(
    ("event_type", "kept"),
    [("brandNewEvent", "brandNewEvent"), ("x" * 60, "x" * 40), ("bad\x00type", "?")],
    ids=["a new type", "a long type", "a type with NUL"],
)
def test_events_of_new_types_are_recorded_without_the_resident(event_type: str, kept: str) -> None:
    """LINE adds event types without notice: the inbox records one's ID, time and type, nothing else."""
    event = {**ev.text_event(U1, "秘密の話"), "type": event_type}
    parsed = parse_body(ev.body([event]))
    assert (parsed.items, parsed.dead, parsed.skipped) == ([], [], 0)
    assert parsed.unknown == [UnknownEvent(event["webhookEventId"], event["timestamp"], kept)]


def _without(event: ev.Event, *path: str) -> ev.Event:
    node = event
    for key in path[:-1]:
        node = node[key]
    del node[path[-1]]
    return event


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (
            {"events": [_without(ev.text_event(U1, "x"), "message", "quoteToken")]},
            "event type 'message' (message type 'text') could not be parsed by line-bot-sdk (quoteToken",
        ),
        (
            {"events": [_without(ev.image_event(U1), "message", "contentProvider")]},
            "(message type 'image') could not be parsed by line-bot-sdk (contentProvider",
        ),
        (
            {"events": [_without(ev.message_event(U1, {"type": "hologram"}), "webhookEventId")]},
            "(message type 'hologram', unknown to line-bot-sdk) could not be parsed by line-bot-sdk",
        ),
        ({"events": [{**ev.text_event(U1, "x"), "source": {"type": "space"}}]}, "a Source of a type"),
        ({"events": [_without(ev.text_event(U1, "x"), "type")]}, "an event has no `type`"),
        ({"events": [_without(ev.text_event(U1, "x"), "mode")]}, "mode"),
        ({"events": [_without(ev.text_event(U1, "x"), "webhookEventId")]}, "webhookEventId"),
        ({"events": [{**ev.text_event(U1, "x"), "mode": "dormant"}]}, "mode"),
        ({"events": [5]}, "not a JSON object"),
        ({"destination": "U1"}, "no `events` list"),
        ({"events": {"a": 1}}, "no `events` list"),
        ([1, 2], "no `events` list"),
        ("text", "no `events` list"),
    ],
)
def test_unparseable_events_become_dead_letters(raw: Any, reason: str) -> None:
    parsed = parse_body(json.dumps(raw).encode())
    assert parsed.items == []
    ((why, body),) = parsed.dead
    assert reason in why


@pytest.mark.parametrize(
    "content",
    [{"type": "hologram"}, {"type": "hologram", "id": "1", "text": "秘密", "quoteToken": "q"}],
)
def test_a_message_of_a_new_type_is_answered_like_media(content: dict[str, Any]) -> None:
    """LINE adds message types without notice: the bot answers them with its usual hint."""
    event = ev.message_event(U1, content)
    parsed = parse_body(ev.body([event]))
    assert parsed.dead == [] and parsed.skipped == 0
    (item,) = parsed.items
    assert (item.kind, item.data, item.chat_id, item.reply_token) == (
        "media",
        "other",
        U1,
        event["replyToken"],
    )


@pytest.mark.parametrize("redelivery", [False, True])
def test_items_know_whether_line_redelivered_them(redelivery: bool) -> None:
    (item,) = parse_body(ev.body([ev.text_event(U1, "hi", redelivery=redelivery)])).items
    assert item.redelivered is redelivery


def test_dead_letters_keep_no_text_nor_user_id() -> None:
    event = _without(ev.text_event(U1, "電話は 06-1234-5678 です"), "message", "quoteToken")
    ((_, body),) = parse_body(ev.body([event])).dead
    assert "06-1234-5678" not in body and U1 not in body and "電話は" not in body
    assert "[text: 19 chars]" in body


def test_one_bad_event_does_not_drop_the_others() -> None:
    bad = {**ev.text_event(U2, "x"), "mode": "dormant"}
    parsed = parse_body(ev.body([ev.text_event(U1, "a"), bad, ev.text_event(U1, "b")]))
    assert [i.data for i in parsed.items] == ["a", "b"] and len(parsed.dead) == 1


@pytest.mark.parametrize("raw", [b"", b"{", b"not json", b"\xff\xfe{}", b'{"events": [}'])
def test_malformed_json(raw: bytes) -> None:
    with pytest.raises(MalformedBody):
        parse_body(raw)


def test_empty_events_and_simulator_destination() -> None:
    assert parse_body(b'{"destination": "U1", "events": []}').items == []
    parsed = parse_body(ev.body([ev.text_event(U1, "x")], destination=SIMULATOR_DESTINATION))
    assert parsed.items[0].channel == "simulator"


def test_group_message_keeps_group_as_chat() -> None:
    event = ev.text_event(U1, "hi")
    event["source"] = {"type": "group", "groupId": "C" + "a" * 32, "userId": U1}
    (item,) = parse_body(ev.body([event])).items
    assert item.chat_id == "C" + "a" * 32 and item.user_id == U1
