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

from bot.bot_tables import DeadLetter
from bot.inbox.worker_pacing import Pressure, owner_is_dead, owner_name
from storage.aio import AsyncDb, Batched


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
    db = AsyncDb(sessions)
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
async def test_batched_writes_of_a_group_share_one_call_and_a_bad_item_fails_alone(
    sessions: sessionmaker[Session],
) -> None:
    calls: list[list[str]] = []

    def letters(session: Session, reasons: list[str]) -> None:
        calls.append(reasons)
        if "bad" in reasons:
            _broken(session, "bad")
        session.add_all([DeadLetter(reason=r, body="{}") for r in reasons])

    batched, db = Batched(letters), AsyncDb(sessions)
    await db.write(batched, "first")  # alone: nothing was queued yet
    ok = await asyncio.gather(*(db.write(batched, f"b{i}") for i in range(10)), db.write(_letter, "plain"))
    assert ok == [None] * 10 + ["plain"]
    assert calls == [["first"], [f"b{i}" for i in range(10)]]
    results = await asyncio.gather(
        *(db.write(batched, r) for r in ("c0", "bad", "c1")), return_exceptions=True
    )
    await db.close()
    assert results[0] is None and isinstance(results[1], Exception) and results[2] is None
    assert calls[2:] == [["c0", "bad", "c1"], ["c0"], ["bad"], ["c1"]]  # the group, then each alone
    assert await db.read(_count) == 14


@pytest.mark.anyio
async def test_writes_keep_their_order(sessions: sessionmaker[Session]) -> None:
    db = AsyncDb(sessions)
    await asyncio.gather(*(db.write(_letter, f"{i:02d}") for i in range(30)))
    with sessions() as s:
        reasons = list(s.scalars(select(DeadLetter.reason).order_by(DeadLetter.id)))
    assert reasons == [f"{i:02d}" for i in range(30)]


@pytest.mark.parametrize(
    ("arrivals", "quiet_for", "busy"),
    [(0, 0.0, False), (40, 0.0, False), (60, 0.0, True), (60, 0.05, True), (60, 0.25, False)],
    ids=["none", "a steady trickle", "a burst", "just after a burst", "a burst that ended"],
)
def test_pressure_counts_the_arrival_rate(arrivals: int, quiet_for: float, busy: bool) -> None:
    """Requests in flight drop to zero whenever a group commit answers them; the arrival rate over
    the last 0.1-0.2 s stays high for as long as a burst lasts (here: more than 500/s)."""
    pressure = Pressure()
    for _ in range(arrivals):
        pressure.arrived()
    time.sleep(quiet_for)
    assert pressure.in_flight == 0
    assert pressure.busy(limit=8, rate=500) is busy


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
