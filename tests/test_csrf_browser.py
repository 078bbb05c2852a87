"""CSRF in headless Chromium: a page on the same host but another port (the same site, another origin)
tries what the issue's attacker did with an editor's cookie — cancel a post with a form, import a FAQ
file with `fetch` — and the app's own page tries a form and a `fetch` without the token: all 403,
nothing changed. The console's own requests (with the token) work."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from app.settings import Settings
from fakes.fake_server import ThreadedServer
from faq.faq_tables import FaqEntryRow
from notifier.ledger_tables import Post
from storage.base import utcnow
from tests.conftest import browser_sign_in, make_settings
from tests.platform_fakes import Fakes

pytestmark = pytest.mark.browser

PHISHING = '{"id": "juminhyo", "question": "住民票", "answer": "https://evil.example/login"}\\n'
ATTACK = """<!doctype html><html><head><meta charset="utf-8"><title>Prize</title></head><body>
<form id="cancel" method="post" action="{app}/api/v1/posts/{post}/cancel"></form>
<script>
  const data = new FormData();
  data.append("file", new Blob(['{jsonl}'], {{type: "application/jsonl"}}), "faq.jsonl");
  fetch("{app}/api/v1/faq/import", {{method: "POST", mode: "no-cors", credentials: "include", body: data}})
    .finally(() => document.getElementById("cancel").submit());
</script></body></html>"""


@pytest.fixture
def settings(db_url: str, fakes: Fakes) -> Settings:
    return make_settings(db_url, **fakes.settings())


@pytest.fixture
def attacker(live_server: ThreadedServer) -> Iterator[dict[str, Any]]:
    """A site on the same host, another port, serving the attack page for a post ID."""
    state: dict[str, Any] = {}

    async def page(request: Request) -> HTMLResponse:
        html = ATTACK.format(app=live_server.url, post=request.query_params["post"], jsonl=PHISHING)
        return HTMLResponse(html)

    with ThreadedServer(Starlette(routes=[Route("/prize", page)]), name="attacker") as server:
        state["url"] = server.url
        yield state


def _draft(page: Any) -> int:
    """A draft post created by the console's own script (with the session's token)."""
    later = (utcnow() + dt.timedelta(days=2)).isoformat()
    body = {
        "title": "防災訓練",
        "body": "市内全域で行います。",
        "channels": ["x"],
        "draft": True,
        "scheduled_at": later,
    }
    result = page.evaluate("body => Console.api('POST', '/api/v1/posts', body)", body)
    assert result["ok"], result
    return int(result["data"]["id"])


def test_another_origin_cannot_cancel_a_post_or_import_faq_entries(
    page: Any,
    live_server: ThreadedServer,
    attacker: dict[str, Any],
    staff_user: str,
    sessions: sessionmaker[Session],
) -> None:
    browser_sign_in(page, live_server, "/posts", staff_user)
    post_id = _draft(page)
    statuses: dict[str, int] = {}
    page.on("response", lambda r: statuses.__setitem__(r.url.split("?")[0], r.status))
    page.goto(f"{attacker['url']}/prize?post={post_id}")
    page.wait_for_url(f"{live_server.url}/api/v1/posts/{post_id}/cancel")
    assert statuses[f"{live_server.url}/api/v1/posts/{post_id}/cancel"] == 403
    assert statuses[f"{live_server.url}/api/v1/faq/import"] == 403
    with sessions() as s:
        assert s.scalars(select(Post.state)).all() == ["draft"]
        answer = s.scalar(select(FaqEntryRow.answer).where(FaqEntryRow.id == "juminhyo"))
    assert answer is None or "evil.example" not in answer


def test_the_apps_own_page_cannot_post_without_the_token(
    page: Any, live_server: ThreadedServer, staff_user: str, sessions: sessionmaker[Session]
) -> None:
    browser_sign_in(page, live_server, "/posts", staff_user)
    post_id = _draft(page)
    status = page.evaluate(f"fetch('/api/v1/posts/{post_id}/cancel', {{method: 'POST'}}).then(r => r.status)")
    assert status == 403
    page.evaluate(
        """() => {
          const form = document.createElement("form");
          form.method = "post";
          form.action = "/logout";
          document.body.append(form);
          form.submit();
        }"""
    )
    page.wait_for_url(f"{live_server.url}/logout")
    assert "CSRF" in page.content()
    with sessions() as s:
        assert s.scalars(select(Post.state)).all() == ["draft"]
    page.goto(f"{live_server.url}/posts")
    assert page.url == f"{live_server.url}/posts"  # still signed in: the forged sign-out did nothing
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator(f'#posts tr[data-post-id="{post_id}"]').get_by_role("button", name="取消 / Cancel").click()
    page.locator(f'#posts tr[data-post-id="{post_id}"] td.state', has_text="取消 / Cancelled").wait_for()
    page.get_by_role("button", name="ログアウト / Sign out").click()  # the real form carries the token
    page.wait_for_url(f"{live_server.url}/login")
