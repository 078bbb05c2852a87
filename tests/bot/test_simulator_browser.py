"""The simulator page in a real headless Chromium against the live app (no LINE credentials)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI

from fakes.fake_server import ThreadedServer
from tests.bot.conftest import use_faq

pytestmark = pytest.mark.browser


def bot_says(page: Any, text: str) -> None:
    page.locator("#sim-log li.bot", has_text=text).last.wait_for(timeout=10_000)


def quick(page: Any, label: str) -> Any:
    return page.locator("#sim-quick button", has_text=label)


def test_chat_in_the_simulator(page: Any, live_server: ThreadedServer, app: FastAPI) -> None:
    use_faq(app)
    page.goto(f"{live_server.url}/simulator")
    assert page.locator("html").get_attribute("lang") == "ja"
    assert page.get_by_role("log").count() == 1

    page.get_by_role("button", name="友だち追加 / Add friend").click()
    bot_says(page, "友だち追加ありがとうございます")
    bot_says(page, "受け取りたいお知らせのテーマを選んでください")
    quick(page, "⬜ 防災・防犯").click()
    bot_says(page, "「防災・防犯」を登録しました。")
    quick(page, "✅ 防災・防犯").wait_for()

    page.get_by_label("メッセージ / Message").fill("住民票をコンビニで取りたい")
    page.get_by_label("メッセージ / Message").press("Enter")
    page.locator("#sim-log li.user", has_text="住民票をコンビニで取りたい").wait_for()
    bot_says(page, "この回答は役に立ちましたか？")
    bot_says(page, "出典: 第4期情報化推進計画")
    quick(page, "問い合わせ先").wait_for()
    quick(page, "👍").click()
    bot_says(page, "ご回答ありがとうございます")

    page.get_by_label("メッセージ / Message").fill("証明書")
    page.get_by_role("button", name="送信 / Send").click()
    bot_says(page, "お探しの内容は次のどれですか？")
    offered = page.locator("#sim-log li.bot").last.inner_text()
    question = next(line for line in offered.splitlines() if line.startswith("1. "))[3:]
    quick(page, "コンビニで取れる証明書").click()  # the entry's label, not a cut question
    page.locator("#sim-log li.user", has_text=question).wait_for()
    bot_says(page, "この回答は役に立ちましたか？")

    page.get_by_label("メッセージ / Message").fill("English")
    page.get_by_label("メッセージ / Message").press("Enter")
    bot_says(page, "Your language is now English.")
    quick(page, "My settings").click()
    bot_says(page, "Disaster & safety")
    assert app.state.bot.channel_secret not in page.content()
