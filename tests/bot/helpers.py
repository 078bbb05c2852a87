"""Helpers of the bot tests: post signed webhooks, wait for the worker, a small FAQ for pure tests."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

import httpx
import httpx2
from fastapi import FastAPI
from fastapi.testclient import TestClient

from bot.inbox.worker_pacing import Tuning
from fakes import fake_line_events as ev
from fakes.fake_line import FakeLine
from faq.answer_text import small_talk
from faq.answer_types import Decision, Suggestion
from platforms.line_api import RetryPolicy
from tests.line_fixtures import user_id

CHANNEL_SECRET = "test-channel-secret-0123456789"
RESIDENT = user_id(301)
FAST_TUNING = Tuning(
    sweep_every=0.05,
    stale_after=0.3,
    retry_delays=(0.2, 0.3, 0.4),
    line_retry=RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.02, total_seconds=5.0),
)
T = TypeVar("T")


def post(
    client: TestClient | httpx.Client, events: list[ev.Event], secret: str = CHANNEL_SECRET
) -> httpx.Response | httpx2.Response:  # the test client is an httpx2 client
    """POST a signed webhook body with these events."""
    raw = ev.body(events)
    return client.post("/line/webhook", content=raw, headers=ev.signed(raw, secret))


def wait_for(
    check: Callable[[], T | Literal[False] | None], timeout: float = 10.0, what: str = "condition"
) -> T:
    """Poll `check` until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def worker_idle(client: TestClient) -> bool:
    """Wait, in the started client's event loop, until the app's bot worker handles no chat; False on
    timeout."""
    assert client.portal is not None, "start the client first (`with TestClient(app) as client`)"
    assert isinstance(client.app, FastAPI)
    idle: Callable[[], Awaitable[bool]] = client.app.state.bot.worker.idle
    return client.portal.call(idle)


def idle(client: TestClient) -> None:
    """Wait until the bot's worker has handled every stored event."""
    assert worker_idle(client)


def say(client: TestClient, fake: FakeLine, text: str, user: str = RESIDENT) -> dict[str, Any]:
    """Send a text with a fresh reply token; return the bot's (last) reply."""
    before = len(fake.messages_for(user))
    assert post(client, [ev.text_event(user, text, fake.issue_reply_token(user))]).status_code == 200
    return wait_for(lambda: fake.messages_for(user)[before:], what=f"reply to {text!r}")[-1]


def tap(client: TestClient, fake: FakeLine, data: str, user: str = RESIDENT) -> dict[str, Any]:
    """Tap a button (send its postback data); return the bot's (last) reply."""
    before = len(fake.messages_for(user))
    assert post(client, [ev.postback_event(user, data, fake.issue_reply_token(user))]).status_code == 200
    return wait_for(lambda: fake.messages_for(user)[before:], what=f"reply to {data}")[-1]


def texts(messages: list[dict[str, Any]]) -> list[str]:
    return [str(m.get("text", "")) for m in messages]


def quick_labels(message: dict[str, Any]) -> list[str]:
    return [i["action"]["label"] for i in message.get("quickReply", {}).get("items", [])]


def quick_data(message: dict[str, Any]) -> list[str]:
    return [i["action"].get("data", "") for i in message.get("quickReply", {}).get("items", [])]


@dataclass(frozen=True)
class Entry:
    id: str
    question: str
    answer: str
    label: str
    department: str | None = None
    url: str | None = None
    source: str = ""
    lang: str = "ja"


def _entries(*entries: Entry) -> dict[tuple[str, str], Entry]:
    return {(e.id, e.lang): e for e in entries}


class TinyFaq:
    """A FaqService of three rules for the pure conversation tests (the end-to-end tests use the real
    one): コンビニ answers, ごみ suggests, anything else falls back; small talk is recognised by the
    FAQ's own `small_talk`. `conv` has English; the ごみ entries do not, as in an imported FAQ."""

    entries = _entries(
        Entry(
            "conv",
            "住民票をコンビニで取れますか？",
            "マイナンバーカードがあれば取れます。",
            "コンビニで住民票",
            department="市民課",
            url="https://example.jp/c",
            source="第4期情報化推進計画 第2章",
        ),
        Entry(
            "conv",
            "Can I get a residence certificate at a convenience store?",
            "Yes, with your My Number Card.",
            "Konbini certificates",
            department="Residents Section",
            url="https://example.jp/c",
            source="第4期情報化推進計画 第2章",
            lang="en",
        ),
        Entry("gomi1", "粗大ごみの出し方は？", "申し込みが必要です。", "粗大ごみの出し方"),
        Entry("gomi2", "ごみの分別は？", "分別表をご覧ください。", "ごみの分別"),
        Entry("gomi3", "ごみの収集日は？", "地域ごとに決まっています。", "ごみの収集日"),
    )

    def ask(self, question: str, *, lang: str = "ja") -> Decision:
        truncated = len(question) > 400
        chat = small_talk(question)
        if chat is not None:
            return Decision("small_talk", None, None, 1.0, truncated=truncated, small_talk=chat)
        if "コンビニ" in question:
            e = self.entries[("conv", lang)]
            return Decision("answer", e.answer, e.id, 0.9, truncated=truncated)
        if "ごみ" in question:
            top = [self.entries[(k, "ja")] for k in ("gomi1", "gomi2", "gomi3")]
            offered = [Suggestion(e.id, e.question, 0.5, e.label) for e in top]
            return Decision("suggest", None, None, 0.5, offered, truncated)
        return Decision("fallback", None, None, 0.1, truncated=truncated)

    def entry(self, entry_id: str, *, lang: str = "ja") -> Entry | None:
        """In `lang`, else in Japanese (as the real service)."""
        return self.entries.get((entry_id, lang)) or self.entries.get((entry_id, "ja"))
