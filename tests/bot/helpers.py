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
from faq.answer_types import Decision, Suggestion
from platforms.line_api import RetryPolicy

CHANNEL_SECRET = "test-channel-secret-0123456789"
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
    department: str | None = None
    url: str | None = None
    source: str = ""
    label: str = ""


class TinyFaq:
    """A three-rule FaqService for the pure conversation tests (the end-to-end tests use the real one)."""

    entries = {
        "conv": Entry(
            "conv",
            "住民票をコンビニで取れますか？",
            "はい、マイナンバーカードで取れます。",
            url="https://example.jp/c",
        ),
        "gomi1": Entry("gomi1", "粗大ごみの出し方は？", "申し込みが必要です。"),
        "gomi2": Entry("gomi2", "ごみの分別は？", "分別表をご覧ください。"),
        "gomi3": Entry("gomi3", "ごみの収集日は？", "地域ごとに決まっています。"),
    }

    def ask(self, question: str, *, lang: str = "ja") -> Decision:
        truncated = len(question) > 400
        if "コンビニ" in question:
            e = self.entries["conv"]
            return Decision("answer", e.answer, e.id, 0.9, truncated=truncated)
        if "ごみ" in question:
            top = [Suggestion(k, self.entries[k].question, 0.5) for k in ("gomi1", "gomi2", "gomi3")]
            return Decision("suggest", None, None, 0.5, top, truncated)
        return Decision("fallback", None, None, 0.1, truncated=truncated)

    def entry(self, entry_id: str, *, lang: str = "ja") -> Entry | None:
        return self.entries.get(entry_id)
