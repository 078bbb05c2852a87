"""Leases: one holder at a time, expiry, conditions, and the owners of dead processes."""

from __future__ import annotations

import datetime as dt
import os
import socket
import subprocess
import sys
import threading

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.bot_tables import LOCKS
from notifier.ledger_tables import JobRun
from storage.db import session_scope
from storage.leases import Lease, acquire, owner_is_dead, owner_name

CHAT = Lease(until=LOCKS.c.expires_at, owner=LOCKS.c.owner)
JOB = Lease(until=JobRun.lease_until, owner=JobRun.lease_owner)
T0 = dt.datetime(2030, 4, 1, 9, 0, tzinfo=dt.UTC)


def take(sessions: sessionmaker[Session], owner: str, now: dt.datetime, seconds: float = 60.0) -> bool:
    with session_scope(sessions) as s:
        return acquire(s, LOCKS, {"chat_id": "C1"}, CHAT, owner=owner, now=now, seconds=seconds)


def test_one_holder_until_it_expires(sessions: sessionmaker[Session]) -> None:
    assert take(sessions, "a", T0)  # a missing row is inserted already leased
    assert take(sessions, "a", T0 + dt.timedelta(seconds=10))  # the holder renews
    assert not take(sessions, "b", T0 + dt.timedelta(seconds=30))  # held
    assert take(sessions, "b", T0 + dt.timedelta(seconds=71))  # expired: anyone may take it
    with sessions() as s:
        assert s.execute(select(LOCKS.c.owner, LOCKS.c.expires_at)).one() == (
            "b",
            T0 + dt.timedelta(seconds=131),
        )


def test_concurrent_takers_get_it_once(sessions: sessionmaker[Session]) -> None:
    won: list[str] = []
    barrier = threading.Barrier(8)

    def contend(name: str) -> None:
        barrier.wait()
        if take(sessions, name, T0):
            won.append(name)

    threads = [threading.Thread(target=contend, args=(f"w{i}",)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert len(won) == 1


def test_conditions_and_values_taken_with_the_lease(sessions: sessionmaker[Session]) -> None:
    def job(owner: str, now: dt.datetime) -> bool:
        with session_scope(sessions) as s:
            return acquire(
                s, JobRun, {"name": "j"}, JOB, owner=owner, now=now, seconds=60,
                when=[JobRun.next_run_at <= now], new_row={"next_run_at": now}, also={"last_started_at": now},
            )  # fmt: skip

    assert job("a", T0)
    with session_scope(sessions) as s:  # done: released, next run in an hour
        run = s.get(JobRun, "j")
        assert run is not None and run.last_started_at == T0
        run.lease_owner, run.lease_until, run.next_run_at = None, None, T0 + dt.timedelta(hours=1)
    assert not job("b", T0 + dt.timedelta(minutes=5))  # free, but not due
    assert job("b", T0 + dt.timedelta(hours=1))


def test_owner_of_a_dead_process_on_this_host() -> None:
    assert owner_name().startswith(f"{socket.gethostname()[:30]}:{os.getpid()}:")
    assert not owner_is_dead(owner_name())  # alive: this process
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    assert owner_is_dead(f"{socket.gethostname()[:30]}:{child.pid}:abcd1234")
    assert not owner_is_dead(f"another-host:{child.pid}:abcd1234")  # cannot tell: wait for the lease
    assert not owner_is_dead("garbage")
