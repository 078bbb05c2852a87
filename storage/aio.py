"""Blocking database work from async code: the one bridge every area uses (`AsyncDb`).

Database work is a small synchronous function `fn(session, ...)`; `AsyncDb` runs it in a worker
thread, within a cap on threads (and so connections), in one of three ways:

- `read(fn, ...)`: a read; nothing is committed.
- `run(fn, ...)`: a transaction of its own, retried while the database is briefly away (`patience`).
- `write(fn, ...)`: grouped with the writes that arrive while a transaction is being committed, into
  the next shared transaction ("group commit"): a burst of small writes (the bot's webhook inserts,
  leases, outcomes) costs a few commits, not one each. Writes of one kind that can share a statement
  (`Batched`: the webhook's inbox insert) go to one call with all their items. If a grouped
  transaction fails, each of its writes is retried alone, so one bad write only fails its own caller.

On SQLite, one writer at a time: grouped writes take the write lock at their first statement
(`BEGIN IMMEDIATE`), and an in-process lock keeps this object's writers in line; other processes meet
SQLite's busy handler. PostgreSQL needs no such lock.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from typing import Any, TypeVar

import anyio
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from storage.db import begin_immediate, session_scope

log = logging.getLogger(__name__)
T = TypeVar("T")
Op = tuple[Callable[..., Any], tuple[Any, ...], "asyncio.Future[Any]"]


def transient(exc: DBAPIError) -> bool:
    """Connection-level failures (server restarting, connection dropped), not SQL mistakes."""
    if exc.connection_invalidated or isinstance(exc, OperationalError):
        return True
    return "InterfaceError" in type(exc.orig).__name__ if exc.orig is not None else False


class Batched:
    """A write whose items can share one call, `fn(session, items)`: `await db.write(batched, item)`
    puts the item in the group's single call of `fn` (made where the group's first such write was)."""

    def __init__(self, fn: Callable[[Session, list[Any]], None]) -> None:
        self.fn = fn

    def __call__(self, session: Session, *items: Any) -> None:
        self.fn(session, list(items))


class AsyncDb:
    """`await db.read(fn, ...)`, `await db.run(fn, ...)` and `await db.write(fn, ...)` run
    `fn(session, ...)` in a worker thread and return its result.

    `threads` caps the threads (and so the connections) this object uses at once for `read` and `run`:
    few, since they share one GIL and must stay within the engine's pool; grouped writes have one thread
    of their own, so they never wait behind reads or the app's other threads. `patience` is how long
    `run` retries a transaction while the database is briefly away (a restart); 0 means no retry.
    `shares_lock_with`: another `AsyncDb` on the same SQLite file whose writers this one's wait for
    (one in-process writer at a time, however many bridges)."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        *,
        threads: int = 4,
        patience: float = 0.0,
        max_batch: int = 200,
        shares_lock_with: AsyncDb | None = None,
    ) -> None:
        self.sessions = sessions
        self.max_batch = max_batch
        self.patience = patience
        self._threads = anyio.CapacityLimiter(threads)
        self._flush_thread = anyio.CapacityLimiter(1)
        bind = sessions.kw.get("bind")
        self.sqlite = bind is not None and bind.dialect.name == "sqlite"
        shared = shares_lock_with._lock if shares_lock_with is not None else None
        self._lock: threading.Lock | None = (shared or threading.Lock()) if self.sqlite else None
        self._waiting: list[Op] = []
        self._flusher: asyncio.Task[None] | None = None

    def writing(self) -> AbstractContextManager[Any]:
        """The in-process write lock (SQLite) or nothing (PostgreSQL)."""
        return self._lock if self._lock is not None else nullcontext()

    async def read(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a read-only `fn` in a worker thread (nothing is committed)."""

        def read() -> T:
            with self.sessions() as session:
                return fn(session, *args, **kwargs)

        return await anyio.to_thread.run_sync(read, limiter=self._threads)

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run `fn` in a transaction of its own (committed on success, rolled back on error), retrying
        for `patience` seconds while the database is briefly away. Only the transaction is retried,
        never anything `fn`'s caller did around it."""
        deadline = time.monotonic() + self.patience
        delay = 0.2
        while True:
            try:
                return await anyio.to_thread.run_sync(
                    functools.partial(self._one, fn, *args, **kwargs), limiter=self._threads
                )
            except (OperationalError, DBAPIError) as exc:
                if time.monotonic() + delay > deadline or not transient(exc):
                    raise
                log.warning("database unavailable, retrying: %s", type(exc).__name__)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    def _one(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        with session_scope(self.sessions) as session:
            return fn(session, *args, **kwargs)

    async def write(self, fn: Callable[..., T], *args: Any) -> T:
        """Run `fn` in the next grouped transaction; return once it is committed."""
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._waiting.append((fn, args, future))
        if self._flusher is None:
            self._flusher = asyncio.create_task(self._flush(), name="db-group-commit")
        return await future

    async def close(self) -> None:
        """Wait for the writes already queued (before the engine is disposed)."""
        if self._flusher is not None:
            await asyncio.shield(self._flusher)

    async def _flush(self) -> None:
        try:
            while self._waiting:
                batch, self._waiting = self._waiting[: self.max_batch], self._waiting[self.max_batch :]
                results = await anyio.to_thread.run_sync(
                    self._commit_group, batch, limiter=self._flush_thread
                )
                for (_, _, future), (ok, value) in zip(batch, results, strict=True):
                    if future.done():
                        continue
                    if ok:
                        future.set_result(value)
                    else:
                        future.set_exception(value)
        finally:
            self._flusher = None

    def _commit_group(self, batch: list[Op]) -> list[tuple[bool, Any]]:
        """One transaction for the whole group; on failure, one transaction per write."""
        if len(batch) > 1:
            try:
                return [(True, value) for value in self._transaction(batch)]
            except Exception:  # find the culprit: each write alone
                pass
        results: list[tuple[bool, Any]] = []
        for op in batch:
            try:
                results.append((True, self._transaction([op])[0]))
            except Exception as exc:
                results.append((False, exc))
        return results

    def _transaction(self, ops: list[Op]) -> list[Any]:
        batches: dict[Batched, list[Any]] = {}
        for fn, args, _ in ops:
            if isinstance(fn, Batched):
                batches.setdefault(fn, []).extend(args)
        with self.writing(), self.sessions() as session:
            if self.sqlite:
                begin_immediate(session)
            values = [self._run(session, fn, args, batches) for fn, args, _ in ops]
            session.commit()
            return values

    @staticmethod
    def _run(
        session: Session, fn: Callable[..., Any], args: tuple[Any, ...], batches: dict[Batched, list[Any]]
    ) -> Any:
        """One write of a group; the first `Batched` write of a kind runs the items of all of them."""
        if not isinstance(fn, Batched):
            return fn(session, *args)
        items = batches.pop(fn, None)
        return None if items is None else fn(session, *items)
