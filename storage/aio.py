"""How the bot's transactions run: reads in worker threads, writes grouped into shared transactions.

Every write of the bot (storing webhook events, leases, prepared replies, outcomes) is a small function
`fn(session, ...)`. Writes that arrive while a transaction is being committed wait and then go
together into the next one ("group commit"): a burst of webhooks and replies costs a few commits, not
one per step. Writes of one kind that can share a statement (`Batched`: the webhook's inbox insert)
go to one call with all their items, so a burst of webhooks costs one INSERT per transaction, not one
each. If a grouped transaction fails, each of its writes is retried alone, so one bad write only
fails its own caller.

On SQLite, one writer at a time: a writer that finds the database locked sleeps in SQLite's busy
handler (back-off steps up to 100 ms). Grouping means this process has one writer at a time, and the
write lock below keeps the bot's other writers (the preparer's fallback) in line with it; other
processes still meet the busy handler. PostgreSQL needs no such lock.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from typing import Any, TypeVar

import anyio
from sqlalchemy.orm import Session, sessionmaker

from storage.db import begin_immediate

T = TypeVar("T")
Op = tuple[Callable[..., Any], tuple[Any, ...], "asyncio.Future[Any]"]


class Batched:
    """A write whose items can share one call, `fn(session, items)`: `await db.write(batched, item)`
    puts the item in the group's single call of `fn` (made where the group's first such write was)."""

    def __init__(self, fn: Callable[[Session, list[Any]], None]) -> None:
        self.fn = fn

    def __call__(self, session: Session, *items: Any) -> None:
        self.fn(session, list(items))


class Db:
    """`await db.read(fn, ...)` and `await db.write(fn, ...)` run `fn(session, ...)` and return its result."""

    def __init__(self, sessions: sessionmaker[Session], max_batch: int = 200, readers: int = 4) -> None:
        self.sessions = sessions
        self.max_batch = max_batch
        # few threads: they share one GIL, and stay within the engine's connection pool
        self._readers = anyio.CapacityLimiter(readers)
        bind = sessions.kw.get("bind")
        self.sqlite = bind is not None and bind.dialect.name == "sqlite"
        self._lock: threading.Lock | None = threading.Lock() if self.sqlite else None
        self._waiting: list[Op] = []
        self._flusher: asyncio.Task[None] | None = None

    def writing(self) -> AbstractContextManager[Any]:
        """The in-process write lock (SQLite) or nothing (PostgreSQL)."""
        return self._lock if self._lock is not None else nullcontext()

    async def read(self, fn: Callable[..., T], *args: Any) -> T:
        """Run a read-only `fn` in a worker thread."""

        def run() -> T:
            with self.sessions() as session:
                return fn(session, *args)

        return await anyio.to_thread.run_sync(run, limiter=self._readers)

    async def write(self, fn: Callable[..., T], *args: Any) -> T:
        """Run `fn` in the next grouped transaction; return once it is committed."""
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._waiting.append((fn, args, future))
        if self._flusher is None:
            self._flusher = asyncio.create_task(self._flush(), name="bot-db-group-commit")
        return await future

    async def close(self) -> None:
        """Wait for the writes already queued (before the engine is disposed)."""
        if self._flusher is not None:
            await asyncio.shield(self._flusher)

    async def _flush(self) -> None:
        try:
            while self._waiting:
                batch, self._waiting = self._waiting[: self.max_batch], self._waiting[self.max_batch :]
                results = await anyio.to_thread.run_sync(self._commit_group, batch)
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
