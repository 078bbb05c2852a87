"""A real app process is killed (SIGKILL) while it is sending a reply; a new process on the same host
takes the chat over at once and finishes every stored event, in order, each answered once."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from fakes import fake_line_events as ev
from fakes.fake_line import FakeLine
from fakes.fake_server import FakeServer
from tests.bot.helpers import CHANNEL_SECRET, wait_for
from tests.line_fixtures import LINE_TOKEN, user_id

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
U = user_id(501)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class AppProcess:
    """`uvicorn --factory app.main:create_app_from_env` with one worker, in its own process."""

    def __init__(self, db_url: str, line_url: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("LINE_", "DATABASE_"))},
            "APP_ENV": "test",
            "DATABASE_URL": db_url,
            "RUN_WORKER_IN_APP": "false",
            "LINE_CHANNEL_SECRET": CHANNEL_SECRET,
            "LINE_CHANNEL_ACCESS_TOKEN": LINE_TOKEN,
            "LINE_API_BASE_URL": line_url,
            "LINE_DATA_API_BASE_URL": line_url,
            "LINE_REQUEST_TIMEOUT": "10",
            "LOG_LEVEL": "WARNING",
        }
        command = [sys.executable, "-m", "uvicorn", "--factory", "app.main:create_app_from_env"]
        command += ["--port", str(self.port), "--log-level", "warning"]
        self.proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
        wait_for(self._healthy, timeout=60, what="the app process to start")

    def _healthy(self) -> bool:
        if self.proc.poll() is not None:
            raise AssertionError(f"app process exited with {self.proc.returncode}")
        try:
            return httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def post(self, events: list[ev.Event]) -> int:
        raw = ev.body(events)
        return httpx.post(
            f"{self.url}/line/webhook", content=raw, headers=ev.signed(raw, CHANNEL_SECRET)
        ).status_code

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def processes() -> Iterator[list[AppProcess]]:
    started: list[AppProcess] = []
    yield started
    for proc in started:
        proc.stop()


def test_events_survive_a_killed_process(
    db_url: str, line_server: FakeServer, fake_line: FakeLine, processes: list[AppProcess]
) -> None:
    fake_line.fail("delay", seconds=4, path="/v2/bot/message/reply", times=1)
    base = 1_800_000_000_000
    events = [
        ev.text_event(U, text, fake_line.issue_reply_token(U), ts=base + i)
        for i, text in enumerate(("メニュー", "English", "settings"))
    ]
    first = AppProcess(db_url, line_server.url)
    processes.append(first)
    assert first.post(events) == 200
    wait_for(lambda: fake_line.state.find("/v2/bot/message/reply"), what="the first reply to be under way")
    first.kill()  # mid-send: one event prepared, two still pending, the chat's lease held by a dead pid
    assert fake_line.deliveries() == []

    second = AppProcess(db_url, line_server.url)
    processes.append(second)
    replies = wait_for(lambda: len(fake_line.messages_for(U)) >= 3 and fake_line.messages_for(U), timeout=30)
    assert [m["text"].splitlines()[0] for m in replies] == [
        "吹田市公式LINEでは、次のことができます。",
        "Your language is now English.",
        "Your settings",
    ]
    assert second.post([ev.text_event(U, "menu", fake_line.issue_reply_token(U))]) == 200
    wait_for(lambda: len(fake_line.messages_for(U)) == 4, what="a later event to be answered")
    assert len(fake_line.messages_for(U)) == 4
