"""What the webhook keeps before the 200 (`bot.intake.deferred_events.split_body`): the common events
unparsed, the rest through the SDK. Parsing the deferred events later must give exactly what parsing
everything at once gives (`bot.intake.webhook_events.parse_body`): the same items, dead letters (with
the same reasons) and skips."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from bot.intake.deferred_events import DEFERRED, split_body
from bot.intake.webhook_events import (
    SIMULATOR_DESTINATION,
    MalformedBody,
    ParsedBody,
    parse_body,
    parse_event,
)
from fakes import fake_line_events as ev
from tests.line_fixtures import user_id

U1 = user_id(1)
GROUP, ROOM = "C" + "a" * 32, "R" + "b" * 32


def _with(**changes: Any) -> Callable[[], ev.Event]:
    return lambda: {**ev.text_event(U1, "x"), **changes}


def _source(source: dict[str, Any]) -> Callable[[], ev.Event]:
    return _with(source=source)


def _message(**changes: Any) -> Callable[[], ev.Event]:
    return lambda: (lambda e: {**e, "message": {**e["message"], **changes}})(ev.text_event(U1, "x"))


def _without(*keys: str) -> Callable[[], ev.Event]:
    return lambda: {k: v for k, v in ev.text_event(U1, "x").items() if k not in keys}


# (name, event factory, deferred: stored unparsed before the 200)
CASES: list[tuple[str, Callable[[], Any], bool]] = [
    ("text", lambda: ev.text_event(U1, "住民票"), True),
    ("postback", lambda: ev.postback_event(U1, "a=menu"), True),
    ("sticker", lambda: ev.sticker_event(U1), True),
    ("image", lambda: ev.image_event(U1), True),
    ("location", lambda: ev.location_event(U1), True),
    ("follow", lambda: ev.follow_event(U1), True),
    ("follow unblocked", lambda: ev.follow_event(U1, unblocked=True), True),
    ("unfollow", lambda: ev.unfollow_event(U1), True),
    ("group message", _source({"type": "group", "groupId": GROUP, "userId": U1}), True),
    ("group message without user", _source({"type": "group", "groupId": GROUP}), True),
    ("room message", _source({"type": "room", "roomId": ROOM, "userId": U1}), True),
    ("quoteToken null", _message(quoteToken=None), True),
    ("unknown message type", _message(type="hologram"), True),
    ("missing deliveryContext", _without("deliveryContext"), True),
    ("no reply token", _without("replyToken"), True),
    ("unfollow in standby", lambda: ev.unfollow_event(U1, mode="standby"), False),
    ("text in standby", lambda: ev.text_event(U1, "hi", mode="standby"), False),
    ("mode missing", _without("mode"), False),
    ("mode unknown", _with(mode="dormant"), False),
    ("join", lambda: {**ev.follow_event(U1), "type": "join"}, False),
    ("unknown type", _with(type="brandNewEvent"), False),
    ("event ID missing", _without("webhookEventId"), False),
    ("event ID too long", _with(webhookEventId="0" * 65), False),
    ("event ID a number", _with(webhookEventId=5), False),
    ("timestamp a string", _with(timestamp="1700000000000"), False),
    ("timestamp a boolean", _with(timestamp=True), False),
    ("timestamp out of range", _with(timestamp=2**64), False),
    ("reply token a number", _with(replyToken=7), False),
    ("source missing", _without("source"), False),
    ("source unknown type", _source({"type": "space", "userId": U1}), False),
    ("group without groupId", _source({"type": "group", "userId": U1}), False),
    ("user ID too long", _source({"type": "user", "userId": "U" + "0" * 64}), False),
    ("not an object", lambda: 5, False),
]


def resolved(parsed: ParsedBody) -> ParsedBody:
    """The body as it ends up once the worker parsed its deferred events."""
    out = ParsedBody(dead=list(parsed.dead), unknown=list(parsed.unknown), skipped=parsed.skipped)
    for item in parsed.items:
        out.add(parse_event(item.raw, item.channel) if item.kind == DEFERRED else item)
    return out


@pytest.mark.parametrize(("name", "make", "deferred"), CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("destination", ["U" + "f" * 32, SIMULATOR_DESTINATION])
def test_deferred_parsing_ends_like_parsing_at_once(
    name: str, make: Callable[[], Any], deferred: bool, destination: str
) -> None:
    raw = ev.body([make()], destination=destination)
    early = split_body(raw)
    assert [i.kind for i in early.items] == (
        [DEFERRED] if deferred else [i.kind for i in parse_body(raw).items]
    )
    assert resolved(early) == parse_body(raw)


@pytest.mark.parametrize(
    ("name", "make", "deferred"), [c for c in CASES if c[2]], ids=[c[0] for c in CASES if c[2]]
)
def test_a_deferred_item_carries_what_the_inbox_needs(
    name: str, make: Callable[[], Any], deferred: bool
) -> None:
    event = make()
    (item,) = split_body(ev.body([event])).items
    source = event["source"]
    chat = source.get("groupId") or source.get("roomId") or source.get("userId")
    expected = (
        event["webhookEventId"],
        chat,
        source.get("userId"),
        event["timestamp"],
        event.get("replyToken"),
    )
    assert (item.event_id, item.chat_id, item.user_id, item.timestamp, item.reply_token) == expected
    assert item.raw == event and item.data == ""


def test_a_body_mixing_deferred_and_refused_events_keeps_their_order() -> None:
    events = [
        ev.text_event(U1, "a"),
        {**ev.text_event(U1, "x"), "mode": "dormant"},
        ev.postback_event(U1, "b"),
    ]
    parsed = split_body(ev.body(events))
    assert [i.raw for i in parsed.items] == [events[0], events[2]] and len(parsed.dead) == 1
    assert [i.data for i in resolved(parsed).items] == ["a", "b"]


@pytest.mark.parametrize(
    ("raw", "dead"),
    [
        (b'{"destination": "U1", "events": []}', None),
        (b'{"destination": "U1"}', "no `events` list"),
        (b"[]", "no `events` list"),
    ],
)
def test_bodies_without_events(raw: bytes, dead: str | None) -> None:
    parsed = split_body(raw)
    assert parsed == parse_body(raw) and parsed.items == []
    assert [why for why, _ in parsed.dead] == ([] if dead is None else [f"the body has {dead}"])


@pytest.mark.parametrize("raw", [b"", b"{", b"\xff\xfe{}", b'{"events": [}'])
def test_malformed_json_is_refused(raw: bytes) -> None:
    with pytest.raises(MalformedBody):
        split_body(raw)
