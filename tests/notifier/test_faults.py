"""Fault tests with real worker processes against the fakes over HTTP.

- A worker SIGKILLed in the middle of sending: after its leases run out another worker settles every
  delivery. Keyed channels (LINE, Mastodon, Bluesky): sent exactly once. X and Facebook: sent or
  unknown, never published twice.
- Three workers on PostgreSQL over 1,000 deliveries: none published twice, none lost.
- PostgreSQL restarting in the middle of a run: the workers recover and finish.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from app.settings import ROOT
from bot.bot_tables import LineUser, TopicSubscription
from fakes.fake_line import FakeLine
from notifier.ledger_tables import Delivery, DeliveryAttempt
from tests.conftest import ON_POSTGRES, make_settings, restart_postgres
from tests.notifier.conftest import SNS, Fakes, schedule
from tests.notifier.test_cli import env_for

pytestmark = [pytest.mark.slow, pytest.mark.serial]  # restart_postgres(); workers load every core
POST_PATHS = {
    "line": "/v2/bot/message/(multicast|broadcast)",
    "x": "/2/tweets",
    "facebook": "/feed",
    "mastodon": "/api/v1/statuses",
    "bluesky": "createRecord",
}
KEYED = ("line", "mastodon", "bluesky")


class Workers:
    """Worker subprocesses with their logs in files (never a pipe that could fill up)."""

    def __init__(self, env: dict[str, str], logs: Path) -> None:
        # the process environment (without settings: the autouse `clean_environ` removed them) + `env`
        self.env, self.logs = {**os.environ, **env}, logs
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self, *args: str) -> subprocess.Popen[bytes]:
        command = [sys.executable, "-m", "notifier", "worker", *args]
        with (self.logs / f"worker{len(self.procs)}.log").open("wb") as log:  # the child keeps its copy
            proc = subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=log, stderr=log)
        self.procs.append(proc)
        return proc

    def once(self) -> None:
        assert self.start("--once").wait(timeout=120) == 0, self.tail()

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def logged(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in sorted(self.logs.glob("worker*.log")))

    def tail(self) -> str:
        return self.logged()[-5000:]


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[Callable[[dict[str, str]], Workers]]:
    made: list[Workers] = []

    def make(env: dict[str, str]) -> Workers:
        made.append(Workers(env, tmp_path))
        return made[-1]

    yield make
    for w in made:
        w.stop()


def wait_for(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def settled(sessions: sessionmaker[Session]) -> bool:
    with sessions() as s:
        return not s.scalar(select(func.count(Delivery.id)).where(Delivery.state.in_(("pending", "sending"))))


def delivery_states(sessions: sessionmaker[Session]) -> dict[tuple[int, str], str]:
    with sessions() as s:
        return {(d.post_id, d.channel): d.state for d in s.scalars(select(Delivery))}


def published_titles(fakes: Fakes, name: str) -> Counter[str]:
    """How many times each post title reached the platform."""
    counts: Counter[str] = Counter()
    for item in fakes.published(name):
        text = str(item)
        for title in _TITLES:
            if title in text:
                counts[title] += 1
    return counts


_TITLES: list[str] = []


def titled(n: int) -> list[str]:
    _TITLES[:] = [f"第{i:04d}号のお知らせ" for i in range(n)]
    return list(_TITLES)


def slow_platforms(fakes: Fakes, seconds: float, names: tuple[str, ...]) -> None:
    """Every publishing call is held `seconds` before it takes effect (a kill lands mid-call)."""
    for name in names:
        fakes[name].platform.fail("delay", seconds=seconds, path=POST_PATHS[name], method="POST", times=-1)


def test_sigkill_mid_send_never_publishes_twice(
    db_url: str, fakes: Fakes, sessions: sessionmaker[Session], workers: Callable[[dict[str, str]], Workers]
) -> None:
    with sessions.begin() as s:
        for i in range(1200):
            s.add(LineUser(user_id=f"U{i:032x}", language="en" if i % 3 == 0 else "ja"))
            s.add(TopicSubscription(user_id=f"U{i:032x}", topic="bousai"))
    settings = make_settings(db_url, **fakes.settings())
    titles = titled(6)
    for title in titles:
        schedule(settings, sessions, title=title, topic="bousai", channels=["line", *SNS])
    slow_platforms(fakes, 0.6, ("line", *SNS))
    env = env_for(db_url, fakes, notifier_lease_seconds=3, notifier_concurrency=8, notifier_request_timeout=5)
    pool = workers(env)
    victim = pool.start()
    calls = lambda: sum(len(fakes[n].state.find(POST_PATHS[n])) for n in ("line", *SNS))  # noqa: E731
    wait_for(lambda: calls() >= 8, 60, "the first calls")
    time.sleep(0.2)
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    with sessions() as s:
        in_flight = s.scalar(select(func.count(DeliveryAttempt.id)).where(DeliveryAttempt.outcome.is_(None)))
    assert in_flight, "the kill should land while calls are in flight"
    time.sleep(3.5)  # the dead worker's leases run out
    for _ in range(5):
        pool.once()
        if settled(sessions):
            break
        time.sleep(0.5)
    assert settled(sessions), pool.tail()
    states = delivery_states(sessions)
    for name in KEYED:
        assert {states[(p, c)] for p, c in states if c == name} == {"sent"}, name
    for name in ("mastodon", "bluesky", "x", "facebook"):
        counts = published_titles(fakes, name)
        assert max(counts.values(), default=0) <= 1, f"{name} published a post twice: {counts}"
        if name in KEYED:
            assert sorted(counts) == sorted(titles)
    for name in ("x", "facebook"):
        assert {states[(p, c)] for p, c in states if c == name} <= {"sent", "unknown"}
    line = fakes.line.platform
    assert isinstance(line, FakeLine)
    received = Counter(
        (uid, m["text"].split("\n")[0])
        for d in line.deliveries("multicast")
        for uid in d.to
        for m in d.messages[:1]
    )
    assert len(received) == 1200 * 6 and set(received.values()) == {1}, "a resident got a post twice"


@pytest.mark.skipif(not ON_POSTGRES, reason="scale-out is the PostgreSQL path")
def test_three_workers_share_1000_deliveries(
    db_url: str, fakes: Fakes, sessions: sessionmaker[Session], workers: Callable[[dict[str, str]], Workers]
) -> None:
    settings = make_settings(db_url, **fakes.settings())
    titles = titled(250)
    for title in titles:
        schedule(settings, sessions, title=title)
    slow_platforms(fakes, 0.02, SNS)
    pool = workers(env_for(db_url, fakes, notifier_concurrency=8, notifier_poll_seconds=0.2))
    for _ in range(3):
        pool.start()
    wait_for(lambda: settled(sessions), 240, "1,000 deliveries")
    pool.stop()
    states = delivery_states(sessions)
    assert len(states) == 1000 and set(states.values()) == {"sent"}
    for name in SNS:
        counts = published_titles(fakes, name)
        assert sorted(counts) == sorted(titles) and set(counts.values()) == {1}, name
    with sessions() as s:
        per_worker = dict(
            s.execute(select(DeliveryAttempt.worker, func.count()).group_by(DeliveryAttempt.worker)).all()
        )
        attempts = s.scalar(select(func.count(DeliveryAttempt.id)))
    assert len(per_worker) == 3 and attempts == 1000  # each worker took a share; no row was sent twice


@pytest.mark.skipif(not ON_POSTGRES, reason="restarts the PostgreSQL server of the PostgreSQL leg")
def test_workers_recover_when_the_database_restarts(
    db_url: str, fakes: Fakes, sessions: sessionmaker[Session], workers: Callable[[dict[str, str]], Workers]
) -> None:
    settings = make_settings(db_url, **fakes.settings())
    titles = titled(60)
    for title in titles:
        schedule(settings, sessions, title=title)
    slow_platforms(fakes, 0.05, SNS)
    pool = workers(env_for(db_url, fakes, notifier_concurrency=4, notifier_lease_seconds=10))
    for _ in range(2):
        pool.start()
    calls = lambda: sum(len(fakes[n].state.find(POST_PATHS[n])) for n in SNS)  # noqa: E731
    wait_for(lambda: calls() >= 20, 60, "the first calls")
    restart_postgres()
    sessions.kw["bind"].dispose()
    wait_for(lambda: _settled_after_restart(sessions), 120, "the workers to finish after the restart")
    pool.stop()
    states = delivery_states(sessions)
    assert len(states) == 240 and set(states.values()) <= {"sent", "unknown"}, pool.tail()
    for name in SNS:
        counts = published_titles(fakes, name)
        assert set(counts.values()) <= {1}, name
        if name in KEYED:
            assert sorted(counts) == sorted(titles)
    assert all(p.poll() is None or p.returncode in (0, -signal.SIGTERM) for p in pool.procs)
    assert "retrying" in pool.logged(), "the workers should have noticed the restart"


def _settled_after_restart(sessions: sessionmaker[Session]) -> Any:
    try:
        return settled(sessions)
    except Exception:  # the test's own connection while the server restarts
        return False
