"""The LINE report flow as a pure function: each step, skipping, cancelling, restarting, buttons of the
bot passing through, and the limits."""

from __future__ import annotations

import pytest

from bot.intake.webhook_events import media_data
from reports import line_flow as lf
from reports.line_flow import FlowDraft

IMAGE = media_data("image", {"id": "m1"})
PLACE = media_data("location", {"lat": 34.76, "lon": 135.52, "address": "", "title": "江坂公園"})


def step(draft: FlowDraft | None, kind: str, data: str, lang: str = "ja") -> lf.FlowTurn | None:
    return lf.on_event(draft, kind, data, lang)


@pytest.mark.parametrize(
    ("draft", "kind", "data", "expect_step"),
    [
        (None, "text", "被害を報告", "category"),
        (None, "text", "通報。", "category"),
        (None, "text", "Report Damage!", "category"),
        (None, "postback", "a=rp&s=start", "category"),
        (FlowDraft("category", "ja"), "postback", "a=rp&s=cat&c=fire", "photo"),
        (FlowDraft("category", "ja"), "text", "冠水・浸水", "photo"),
        (FlowDraft("category", "ja"), "postback", "a=rp&s=cat&c=volcano", "category"),
        (FlowDraft("photo", "ja"), "media", IMAGE, "photo"),
        (FlowDraft("photo", "ja", photos=("a", "b")), "media", IMAGE, "place"),
        (FlowDraft("photo", "ja"), "text", "写真はない", "photo"),
        (FlowDraft("photo", "ja", photos=("a",)), "postback", "a=rp&s=next", "place"),
        (FlowDraft("place", "ja"), "media", PLACE, "note"),
        (FlowDraft("place", "ja"), "text", "江坂駅の北口", "note"),
        (FlowDraft("place", "ja"), "media", media_data("sticker", {}), "place"),
        (FlowDraft("note", "ja"), "text", "木が倒れている", "confirm"),
        (FlowDraft("note", "ja"), "postback", "a=rp&s=skip", "confirm"),
        (FlowDraft("confirm", "ja"), "text", "はい", "confirm"),
    ],
)
def test_steps(draft: FlowDraft | None, kind: str, data: str, expect_step: str) -> None:
    turn = step(draft, kind, data)
    assert turn is not None and turn.draft is not None
    assert turn.draft.step == expect_step
    assert turn.messages and not turn.submit


def test_a_full_report_keeps_every_answer() -> None:
    draft = FlowDraft("category", "ja")
    for kind, data in [("postback", "a=rp&s=cat&c=road"), ("media", IMAGE), ("postback", "a=rp&s=next"),
                       ("media", PLACE), ("text", "通行止め")]:  # fmt: skip
        turn = step(draft, kind, data)
        assert turn is not None and turn.draft is not None
        draft = turn.draft
    assert draft == FlowDraft("confirm", "ja", "road", ("m1",), 34.76, 135.52, "江坂公園", "通行止め")
    assert "江坂公園" in draft_text(draft)
    sent = step(draft, "postback", "a=rp&s=send")
    assert sent is not None and sent.submit and sent.draft is None


def draft_text(draft: FlowDraft) -> str:
    return str(lf.prompt(draft)["text"])


@pytest.mark.parametrize("data", ["やめる", "cancel", "キャンセル"])
def test_cancel_words(data: str) -> None:
    turn = step(FlowDraft("place", "ja"), "text", data)
    assert turn is not None and turn.draft is None and "中止" in turn.messages[0]["text"]


def test_what_the_flow_leaves_to_the_bot() -> None:
    assert step(None, "text", "住民票をコンビニで取りたい") is None
    assert step(None, "media", media_data("sticker", {})) is None
    assert step(FlowDraft("photo", "ja"), "postback", "a=menu") is None  # the bot's menu; the draft stays
    offer = step(None, "media", IMAGE)
    assert offer is not None and offer.draft is not None and offer.draft.step == "offer"
    moved_on = step(offer.draft, "text", "ごみの出し方")
    assert moved_on is not None and moved_on.then_default and moved_on.draft is None


def test_an_old_button_without_a_draft() -> None:
    expired = lf.on_event(None, "postback", "a=rp&s=send", "en", expired=True)
    assert expired is not None and "expired" in expired.messages[0]["text"]


def test_every_step_fits_lines_limits_and_names_its_number() -> None:
    for i, name in enumerate(lf.STEPS, 1):
        for lang in ("ja", "en", "zh"):
            message = lf.prompt(FlowDraft(name, lf.flow_lang(lang)))
            items = message["quickReply"]["items"]
            assert len(items) <= 13 and all(len(i["action"]["label"]) <= 20 for i in items)
            assert f"{i}/4" in message["text"] or f"{i} of 4" in message["text"]


def test_draft_round_trip_and_bad_media() -> None:
    draft = FlowDraft("place", "en", "fire", ("1", "2"), None, None, "x", None)
    assert FlowDraft.loads("place", draft.dumps()) == draft
    off_the_map = step(FlowDraft("place", "ja"), "media", media_data("location", {"lat": 200, "lon": 0}))
    assert off_the_map is not None and off_the_map.draft == FlowDraft("place", "ja")  # asked again
    assert lf.decode("a=rp&s=cat&c=fire") == {"a": "rp", "s": "cat", "c": "fire"}
    assert lf.decode("a=menu") is None and lf.decode("a=rp&" + "x" * 400) is None
