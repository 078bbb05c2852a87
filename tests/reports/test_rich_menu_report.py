"""The everyday rich menu's "被害を報告 / Report damage" tile: the fake LINE server validates the menu,
and tapping the tile starts the report flow in the resident's own language (signed webhooks)."""

from __future__ import annotations

from functools import partial
from typing import Any

import httpx
from fastapi.testclient import TestClient

from app.languages import LANGUAGES
from bot import rich_menu
from fakes import fake_line_events as ev
from fakes.fake_line import FakeLine
from fakes.fake_server import FakeServer
from reports import line_flow
from reports.report_kinds import CATEGORIES
from tests.bot.helpers import post, quick_labels, tap, wait_for
from tests.line_fixtures import LINE_TOKEN, user_id


def test_the_main_menu_has_a_wide_report_tile_line_accepts(line_server: FakeServer) -> None:
    menu = rich_menu.menu_json("main")
    report = menu["areas"][0]
    assert report["action"]["displayText"] == "被害を報告 / Report damage"
    assert line_flow.decode(report["action"]["data"]) == {"a": "rp", "s": "start"}
    assert report["bounds"]["width"] == 2 * menu["areas"][1]["bounds"]["width"]  # the widest tile
    checked = httpx.post(
        f"{line_server.url}/v2/bot/richmenu/validate",
        json=menu,
        headers={"Authorization": f"Bearer {LINE_TOKEN}"},
    )
    assert checked.status_code == 200, checked.text


def _replies(fake: FakeLine, user: str, before: int) -> list[dict[str, Any]] | None:
    new = fake.messages_for(user)[before:]
    return new if len(new) >= 2 else None


def test_tapping_the_tile_starts_the_report_in_the_residents_language(
    flow_client: TestClient, fake_line: FakeLine
) -> None:
    data = rich_menu.menu_json("main")["areas"][0]["action"]["data"]
    for n, lang in enumerate(LANGUAGES):
        user = user_id(500 + n)
        tap(flow_client, fake_line, f"a=lang&l={lang}", user=user)  # the resident chose a language
        before = len(fake_line.messages_for(user))
        assert (
            post(flow_client, [ev.postback_event(user, data, fake_line.issue_reply_token(user))]).status_code
            == 200
        )
        intro, first = wait_for(partial(_replies, fake_line, user, before), what=f"the flow in {lang}")
        assert intro["text"] == line_flow.text("intro", lang), lang
        assert first["text"].startswith(line_flow.text("step_category", lang, 1, 4, "")), lang
        assert quick_labels(first)[: len(CATEGORIES)] == [c.label(lang) for c in CATEGORIES], lang
