"""Grouped writes, the in-process write lock, pacing under a burst, and lease owners."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from bot.dbwork import Db
from bot.models import DeadLetter
from bot.pacing import Pressure, owner_is_dead, owner_name


def _letter(session: Session, reason: str) -> str:
    session.add(DeadLetter(reason=reason, body="{}"))
    session.flush()
    return reason


def _broken(session: Session, reason: str) -> str:
    session.execute(text("SELECT * FROM no_such_table"))
    return reason


def _count(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(DeadLetter)) or 0)


@pytest.mark.anyio
async def test_concurrent_writes_share_transactions_and_a_bad_one_fails_alone(
    sessions: sessionmaker[Session],
) -> None:
    db = Db(sessions)
    commits = 0
    original = db._transaction

    def counting(ops: Any) -> Any:
        nonlocal commits
        commits += 1
        return original(ops)

    db._transaction = counting  # type: ignore[method-assign]
    assert await asyncio.gather(*(db.write(_letter, f"a{i}") for i in range(20))) == [
        f"a{i}" for i in range(20)
    ]
    assert commits <= 2  # the first write alone, the 19 that queued meanwhile together
    calls = [db.write(_letter, f"r{i}") for i in range(5)] + [db.write(_broken, "bad")]
    results = await asyncio.gather(*calls, return_exceptions=True)
    await db.close()
    assert results[:5] == [f"r{i}" for i in range(5)]
    assert isinstance(results[5], Exception)
    assert await db.read(_count) == 25


@pytest.mark.anyio
async def test_writes_keep_their_order(sessions: sessionmaker[Session]) -> None:
    db = Db(sessions)
    await asyncio.gather(*(db.write(_letter, f"{i:02d}") for i in range(30)))
    with sessions() as s:
        reasons = list(s.scalars(select(DeadLetter.reason).order_by(DeadLetter.id)))
    assert reasons == [f"{i:02d}" for i in range(30)]


@pytest.mark.anyio
@pytest.mark.parametrize(("in_flight", "waits"), [(0, False), (8, False), (9, True), (50, True)])
async def test_pressure_defers_replies_during_a_burst_but_not_forever(in_flight: int, waits: bool) -> None:
    pressure = Pressure()
    pressure.in_flight = in_flight
    start = time.monotonic()
    await pressure.calm(limit=8, max_wait=0.1)
    assert (time.monotonic() - start >= 0.09) is waits


def test_owner_of_a_dead_process_on_this_host() -> None:
    assert owner_name().startswith(f"{socket.gethostname()[:30]}:{os.getpid()}:")
    assert not owner_is_dead(owner_name())  # alive: this process
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    assert owner_is_dead(f"{socket.gethostname()[:30]}:{child.pid}:abcd1234")
    assert not owner_is_dead(f"another-host:{child.pid}:abcd1234")  # cannot tell: wait for the lease
    assert not owner_is_dead("garbage")
