"""The staff console in headless Chromium against the live app, with every channel configured against
the fake platforms and the app's own delivery worker running: compose, preview, schedule, watch the
deliveries, cancel, resolve."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from app.auth import create_staff_user
from app.settings import Settings
from app.tokyo_time import JST
from fakes.fake_server import ThreadedServer
from notifier.ledger_tables import Delivery, Post
from storage.base import utcnow
from storage.db import session_scope
from tests.conftest import STAFF_PASSWORD, browser_sign_in, make_settings
from tests.notifier.conftest import FAST, schedule
from tests.page_checks import wait_until
from tests.platform_fakes import CHANNEL_NAMES, Fakes

pytestmark = pytest.mark.browser


@pytest.fixture
def settings(db_url: str, fakes: Fakes) -> Settings:
    """The app under test: every channel configured against the fakes, a worker inside the app."""
    return make_settings(db_url, **fakes.settings(), **FAST, run_worker_in_app=True)


def row(page: Any, post_id: int) -> Any:
    return page.locator(f'#posts tr[data-post-id="{post_id}"]')


def posts(sessions: sessionmaker[Session]) -> list[Post]:
    with sessions() as s:
        return list(s.scalars(select(Post).order_by(Post.id)))


def test_compose_preview_schedule_and_watch_every_channel_deliver(
    page: Any, live_server: ThreadedServer, staff_user: str, fakes: Fakes, sessions: sessionmaker[Session]
) -> None:
    browser_sign_in(page, live_server, "/posts", staff_user)
    assert page.get_by_role("heading", level=1).inner_text().startswith("お知らせ配信")
    wait_until(page, "document.getElementById('worker-status').className === 'ok'")
    assert "配信ワーカー稼働中: 1" in page.locator("#worker-status").inner_text()

    # Over X's limit: the preview says so per channel, and scheduling is refused with nothing stored.
    page.get_by_label("タイトル(日本語) / Title (Japanese)").fill("年末年始のごみ収集")
    page.get_by_label("本文(日本語) / Text (Japanese)").fill("収集日が変わります。" * 20)
    page.get_by_role("button", name="プレビュー / Preview").click()
    x_card = page.locator('.preview-card[data-channel="x"]')
    x_card.wait_for()
    assert "上限超過 / over the limit" in x_card.locator("h3").inner_text()
    assert "/ 280 weighted characters" in x_card.locator(".count.error").inner_text()
    assert page.locator('.preview-card[data-channel="facebook"] .count.error').count() == 0
    assert "too long for X" in page.locator("#compose-problems").inner_text()
    page.get_by_role("button", name="配信を予約 / Schedule").click()
    page.get_by_text("受け付けられません / Not accepted").wait_for()
    assert page.get_by_label("本文(日本語) / Text (Japanese)").get_attribute("aria-invalid") == "true"
    assert posts(sessions) == []

    # A valid post with an English version and a topic, sent now to all five channels.
    page.get_by_label("本文(日本語) / Text (Japanese)").fill("12月29日から1月3日までごみ収集はお休みです。")
    page.get_by_label("リンク / Link").fill("https://www.city.suita.osaka.jp/")
    page.get_by_label("トピック / Topic").select_option("shisei")
    page.get_by_text("英語版(任意) / English version (optional)").click()
    page.get_by_label("タイトル(英語) / Title (English)").fill("Year-end waste collection")
    page.get_by_label("本文(英語) / Text (English)").fill("No collection from 29 December to 3 January.")
    page.get_by_role("button", name="プレビュー / Preview").click()
    line_card = page.locator('.preview-card[data-channel="line"]')
    line_card.get_by_text("英語 / English").wait_for()
    assert "No collection from 29 December" in line_card.inner_text()
    x_card = page.locator('.preview-card[data-channel="x"]')  # a thread: the English as a reply
    assert "英語 / English — 返信 1 / reply 1" in x_card.locator("h4").all_inner_texts()
    assert x_card.locator("p.count").count() == 2
    assert "No collection from 29 December" in x_card.locator('pre.message[lang="en"]').inner_text()
    fb_card = page.locator('.preview-card[data-channel="facebook"]')  # one post with both
    assert fb_card.locator("p.count").count() == 1 and "No collection" in fb_card.inner_text()
    assert page.locator("#compose-problems li").count() == 0
    page.get_by_role("button", name="配信を予約 / Schedule").click()
    page.locator("#compose-result", has_text="に予約しました").wait_for()
    (post,) = posts(sessions)
    assert (post.title, post.topic, post.author) == ("年末年始のごみ収集", "shisei", staff_user)
    assert page.get_by_label("タイトル(日本語) / Title (Japanese)").input_value() == ""  # the form is reset

    # The worker in the app publishes it; the list shows every delivery as sent after a refresh.
    def all_sent() -> bool:
        page.get_by_role("button", name="更新 / Refresh").click()
        page.wait_for_timeout(300)
        sent = row(page, post.id).locator("li.state-sent").count() == len(CHANNEL_NAMES)
        # posts and their deliveries are read in separate statements (selectinload): a refresh can
        # show every delivery sent while its post still reads "sending"; the next one shows "done"
        return sent and "完了 / Done" in row(page, post.id).locator("td.state").inner_text()

    for _ in range(40):
        if all_sent():
            break
    assert row(page, post.id).locator("li.state-sent").count() == len(CHANNEL_NAMES)
    assert "完了 / Done" in row(page, post.id).locator("td.state").inner_text()
    tweet, reply = fakes.published("x")  # a thread: the Japanese post, the English text as its reply
    assert tweet["text"].startswith("年末年始のごみ収集") and tweet["in_reply_to"] is None
    assert "https://t.co/" in tweet["text"]  # X shortens links
    assert reply["text"].startswith("Year-end waste collection") and reply["in_reply_to"] == tweet["id"]
    assert row(page, post.id).get_by_role("button", name="取消 / Cancel").count() == 0


def test_a_draft_for_later_can_be_scheduled_or_cancelled(
    page: Any, live_server: ThreadedServer, staff_user: str, sessions: sessionmaker[Session]
) -> None:
    browser_sign_in(page, live_server, "/posts", staff_user)
    later = (utcnow() + dt.timedelta(days=2)).astimezone(JST).replace(second=0, microsecond=0)
    page.get_by_label("タイトル(日本語) / Title (Japanese)").fill("防災訓練")
    page.get_by_label("本文(日本語) / Text (Japanese)").fill("市内全域で防災訓練を行います。")
    page.get_by_label("緊急(先に配信) / Emergency (goes first)").check()
    page.locator("#scheduled_at").fill(later.strftime("%Y-%m-%dT%H:%M"))
    assert page.get_by_label("日時を指定 / At").is_checked()
    page.get_by_role("button", name="下書き保存 / Save draft").click()
    page.locator("#compose-result", has_text="を下書き保存しました").wait_for()
    (draft,) = posts(sessions)
    assert draft.state == "draft" and draft.urgency == "emergency" and draft.scheduled_at is not None
    assert draft.scheduled_at.astimezone(JST) == later
    r = row(page, draft.id)
    assert "下書き / Draft" in r.locator("td.state").inner_text()
    assert "緊急 / Emergency" in r.inner_text()
    assert later.strftime("%Y-%m-%d %H:%M") in r.inner_text()

    r.get_by_role("button", name="予約 / Schedule").click()
    r.locator("td.state", has_text="予約済み / Scheduled").wait_for()
    with sessions() as s:
        assert list(s.scalars(select(Delivery.state))) == ["pending"] * len(CHANNEL_NAMES)

    page.once("dialog", lambda dialog: dialog.accept())
    r.get_by_role("button", name="取消 / Cancel").click()
    r.locator("td.state", has_text="取消 / Cancelled").wait_for()
    assert posts(sessions)[0].state == "cancelled"
    page.get_by_label("状態 / State").select_option("scheduled")
    page.locator("#posts-empty").wait_for(state="visible")


def test_an_unknown_delivery_is_resolved_by_a_person(
    page: Any,
    live_server: ThreadedServer,
    staff_user: str,
    settings: Settings,
    sessions: sessionmaker[Session],
) -> None:
    post_id = schedule(settings, sessions, scheduled_at=(utcnow() + dt.timedelta(days=1)).isoformat())
    with session_scope(sessions) as s:
        s.execute(
            update(Delivery)
            .where(Delivery.post_id == post_id, Delivery.channel == "x")
            .values(state="unknown", error="timeout after sending; not found in recent posts")
        )
    browser_sign_in(page, live_server, "/posts", staff_user)
    item = row(page, post_id).locator('li[data-channel="x"]')
    assert "要確認 / Check needed" in item.inner_text()
    assert "timeout after sending" in item.inner_text()
    wait_until(page, "document.getElementById('worker-status').className === 'error'")
    assert "need a person to check" in page.locator("#worker-status").inner_text()
    page.once("dialog", lambda dialog: dialog.accept("1234567890"))
    item.get_by_role("button", name="投稿を確認した / It was posted").click()
    row(page, post_id).locator('li[data-channel="x"].state-sent').wait_for()
    with sessions() as s:
        x = s.scalars(select(Delivery).where(Delivery.post_id == post_id, Delivery.channel == "x")).one()
    assert (x.state, x.platform_id) == ("sent", "1234567890")
    assert (
        x.error is not None
        and x.error.startswith(f"投稿を確認済み({staff_user}、")
        and f"confirmed sent by {staff_user}" in x.error
    )


def test_a_viewer_sees_the_posts_but_cannot_change_them(
    page: Any, live_server: ThreadedServer, settings: Settings, sessions: sessionmaker[Session]
) -> None:
    post_id = schedule(settings, sessions, scheduled_at=(utcnow() + dt.timedelta(days=1)).isoformat())
    with session_scope(sessions) as s:
        create_staff_user(s, username="etsuran", password=STAFF_PASSWORD, role="viewer")
    browser_sign_in(page, live_server, "/posts", "etsuran")
    row(page, post_id).wait_for()
    assert page.locator("#compose").count() == 0
    assert row(page, post_id).get_by_role("button").count() == 0
    assert "予約済み / Scheduled" in row(page, post_id).inner_text()


def test_a_draft_without_a_time_is_edited_scheduled_goes_out_and_is_duplicated(
    page: Any, live_server: ThreadedServer, staff_user: str, sessions: sessionmaker[Session], fakes: Fakes
) -> None:
    browser_sign_in(page, live_server, "/posts", staff_user)
    page.get_by_label("タイトル(日本語) / Title (Japanese)").fill("粗大ごみの受付")
    page.get_by_label("本文(日本語) / Text (Japanese)").fill("受付時間が変わります。")
    page.get_by_role("button", name="下書き保存 / Save draft").click()
    page.locator("#compose-result", has_text="日時なし").wait_for()
    (draft,) = posts(sessions)
    assert draft.state == "draft" and draft.scheduled_at is None
    r = row(page, draft.id)
    assert "未定" in r.inner_text() and r.get_by_role("button", name="今すぐ配信 / Send now").count() == 1

    r.get_by_role("button", name="編集 / Edit").click()
    assert page.get_by_label("タイトル(日本語) / Title (Japanese)").input_value() == "粗大ごみの受付"
    page.get_by_label("タイトル(日本語) / Title (Japanese)").fill("粗大ごみの受付時間の変更")
    page.locator("input[name=channels][value=x]").uncheck()
    page.get_by_role("button", name="配信を予約 / Schedule").click()
    page.locator("#compose-result", has_text="に予約しました").wait_for()
    assert page.locator("#editing").is_hidden()

    def all_sent() -> bool:
        page.get_by_role("button", name="更新 / Refresh").click()
        page.wait_for_timeout(300)
        return "完了 / Done" in row(page, draft.id).locator("td.state").inner_text()

    for _ in range(40):
        if all_sent():
            break
    assert row(page, draft.id).locator("li.state-sent").count() == len(CHANNEL_NAMES) - 1
    assert fakes.published("x") == [] and fakes.published("mastodon")[0]["text"].startswith(
        "粗大ごみの受付時間の変更"
    )

    row(page, draft.id).get_by_role("button", name="複製 / Duplicate").click()
    page.locator("#editing", has_text="下書き").wait_for()
    copy = posts(sessions)[-1]
    assert copy.id != draft.id and copy.state == "draft" and copy.title == "粗大ごみの受付時間の変更"
    assert page.get_by_label("タイトル(日本語) / Title (Japanese)").input_value() == copy.title
