"""One signed-in viewer's parallel simulator sends cannot starve LINE's webhook: a send holds no database
connection while the webhook stores its event, and the webhook's inserts have a pool of their own."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

import httpx
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from app.auth import create_staff_user
from app.settings import Settings
from bot.bot_tables import InboxEvent
from fakes import fake_line_events as ev
from fakes.fake_line import FakeLine
from fakes.fake_server import ThreadedServer
from storage.db import session_scope
from tests.bot.conftest import make_bot_app
from tests.bot.helpers import CHANNEL_SECRET
from tests.conftest import STAFF_PASSWORD
from tests.line_fixtures import user_id

SENDS = 24
WEBHOOKS = 12


def _viewer(url: str) -> httpx.Client:
    """A browser signed in as a viewer, sending the session's CSRF token as the page's script does."""
    client = httpx.Client(base_url=url, timeout=60)
    form = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
    assert form is not None
    signed = client.post(
        "/login", data={"username": "viewer1", "password": STAFF_PASSWORD, "csrf_token": form.group(1)}
    )
    assert signed.status_code == 303
    client.headers["X-CSRF-Token"] = client.get("/api/v1/session").json()["csrf_token"]
    return client


def _line_webhook(url: str, n: int) -> int:
    """A resident's message as LINE delivers it (signed with the channel secret)."""
    raw = ev.body([ev.text_event(user_id(1000 + n), f"住民票 {n}", f"token{n:028d}")])
    return httpx.post(
        f"{url}/line/webhook", content=raw, headers=ev.signed(raw, CHANNEL_SECRET), timeout=60
    ).status_code


def test_parallel_simulator_sends_leave_the_webhook_and_readiness_answering(
    bot_settings: Settings, fake_line: FakeLine, sessions: sessionmaker[Session]
) -> None:
    with session_scope(sessions) as s:
        create_staff_user(s, username="viewer1", password=STAFF_PASSWORD, role="viewer")
    settings: Settings = bot_settings.model_copy(update={"db_pool_timeout": 2.0})
    with ThreadedServer(make_bot_app(settings), name="app") as server:
        viewer = _viewer(server.url)
        payload = {"kind": "text", "text": "住民票をコンビニで取りたい"}
        with ThreadPoolExecutor(max_workers=SENDS + WEBHOOKS + 4) as pool:
            sends = [pool.submit(viewer.post, "/simulator/api/send", json=payload) for _ in range(SENDS)]
            hooks = [pool.submit(_line_webhook, server.url, n) for n in range(WEBHOOKS)]
            ready = [
                pool.submit(lambda: httpx.get(f"{server.url}/readyz", timeout=60).status_code)
                for _ in range(4)
            ]
            assert [h.result() for h in hooks] == [200] * WEBHOOKS
            assert [r.result() for r in ready] == [200] * 4
            answers = [s.result() for s in sends]
        assert [(a.status_code, a.json()) for a in answers] == [(200, {"webhook_status": 200})] * SENDS
        assert httpx.get(f"{server.url}/readyz").status_code == 200
        viewer.close()
    with sessions() as s:
        stored = s.scalar(select(func.count()).select_from(InboxEvent))
    assert stored == SENDS + WEBHOOKS  # every resident's event and every simulated one was stored
