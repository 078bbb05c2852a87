"""The approval flow on /posts in Chromium: an editor submits, the posts page says whom it waits for,
an approver sees it in the queue with the long-wait notice, previews it, approves it, and the app's
worker delivers it to the fakes; the editor cannot approve their own."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from app.auth import create_staff_user
from app.settings import Settings
from fakes.fake_server import ThreadedServer
from notifier.ledger_tables import Post
from storage.base import utcnow
from storage.db import session_scope
from tests.conftest import STAFF_PASSWORD, browser_sign_in, make_settings
from tests.notifier.conftest import FAST
from tests.platform_fakes import Fakes

pytestmark = pytest.mark.browser


@pytest.fixture
def settings(db_url: str, fakes: Fakes) -> Settings:
    return make_settings(db_url, **fakes.settings(), **FAST, run_worker_in_app=True, approval_required=True)


def test_an_approver_approves_an_editors_post_from_the_queue(
    page: Any, browser: Any, live_server: ThreadedServer, fakes: Fakes, sessions: sessionmaker[Session]
) -> None:
    with session_scope(sessions) as s:
        create_staff_user(s, username="hensyu", password=STAFF_PASSWORD, role="editor")
        create_staff_user(s, username="shounin", password=STAFF_PASSWORD, role="approver")
    browser_sign_in(page, live_server, "/posts", "hensyu")
    page.get_by_label("タイトル(日本語) / Title (Japanese)").fill("図書館の休館日")
    page.get_by_label("本文(日本語) / Text (Japanese)").fill("12月28日から1月4日まで休館します。")
    page.get_by_role("button", name="承認を依頼 / Submit for approval").click()
    page.locator("#compose-result", has_text="承認待ちです").wait_for()
    mine = page.locator("#waiting-list li").first
    mine.wait_for()
    assert "別の承認者を待っています" in mine.inner_text()
    assert mine.get_by_role("button", name="承認 / Approve").count() == 0
    assert "hensyu 以外の承認者を待っています" in page.locator("#posts tbody tr").first.inner_text()

    with session_scope(sessions) as s:  # it has waited two hours
        s.execute(update(Post).values(submitted_at=utcnow() - dt.timedelta(hours=2)))
    other = browser.new_context(locale="ja-JP").new_page()
    browser_sign_in(other, live_server, "/posts", "shounin")
    other.locator("#approval-late", has_text="60 分以上承認を待っています").wait_for()
    item = other.locator("#waiting-list li").first
    item.get_by_role("button", name="プレビュー / Preview").click()
    other.locator('.preview-card[data-channel="x"]', has_text="休館します").wait_for()
    item.get_by_role("button", name="承認 / Approve").click()
    other.locator("#waiting-empty").wait_for(state="visible")
    approved = other.locator("#posts tbody tr").first
    approved.get_by_text("承認済み / approved: shounin", exact=False).wait_for()
    other.wait_for_function(
        "() => [...document.querySelectorAll('#posts tbody tr:first-child ul.deliveries li')]"
        ".filter(li => li.textContent.includes('送信済み')).length === 5"
    )
    assert all(len(fakes.published(name)) == 1 for name in ("line", "x", "facebook", "mastodon", "bluesky"))
    other.context.close()
