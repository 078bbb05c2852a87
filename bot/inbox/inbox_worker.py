"""Handling stored webhook events after the 200, inside the app process.

The webhook calls `notify(chat_ids)` once the events are committed; the worker then takes the chat's
lease, and for each unfinished event in timestamp order: prepares the reply (conversation + effects +
the reply kept in the inbox, one transaction, the resident's text dropped), sends it, marks it done.
A sweeper picks up chats whose events wait longer than `stale_after` seconds (left by a process that
died, or due for a retry) and, once an hour, purges finished events and old dead letters.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from functools import partial

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from app.privacy import mask_user_id
from bot.inbox import inbox_store
from bot.inbox.inbox_store import Work
from bot.inbox.reply_preparer import Preparer
from bot.inbox.worker_pacing import Pressure, Tuning, owner_is_dead, owner_name
from bot.reply_sender import ReplyFailed, deliver
from platforms.line_api import LineApi, LineApiError
from storage.aio import AsyncDb

log = logging.getLogger(__name__)


@dataclass
class _Chats:
    running: dict[str, asyncio.Task[None]] = field(default_factory=dict)
    again: set[str] = field(default_factory=set)  # notified while running: look once more


class InboxWorker:
    """One per app process. `api_for(channel)` gives the LINE adapter for "line" or "simulator"."""

    def __init__(
        self,
        db: AsyncDb,
        preparer: Preparer,
        api_for: Callable[[str], Awaitable[LineApi]],
        tuning: Tuning | None = None,
        pressure: Pressure | None = None,
    ) -> None:
        self.db = db
        self.pressure = pressure or Pressure()
        self.preparer = preparer
        self.api_for = api_for
        self.tuning = tuning or Tuning()
        self.owner = owner_name()
        self._chats = _Chats()
        self._gate = asyncio.Semaphore(self.tuning.concurrency)
        self._sweeper: asyncio.Task[None] | None = None
        self._stopping = False
        self._stop = asyncio.Event()

    async def start(self) -> None:
        self._sweeper = asyncio.create_task(self._sweep_loop(), name="bot-inbox-sweeper")

    async def stop(self, grace: float = 5.0) -> None:
        """Stop sweeping, let running chats finish for `grace` seconds, then cancel them (their events
        stay in the inbox for the next start). Nothing is cancelled in the middle of a database call
        unless the grace runs out, so no connection outlives the app's engine."""
        self._stopping = True
        self._stop.set()
        tasks = [t for t in (self._sweeper, *self._chats.running.values()) if t is not None]
        _, pending = await asyncio.wait(tasks, timeout=grace) if tasks else (set(), set())
        for task in pending:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def notify(self, chat_ids: Iterable[str]) -> None:
        """Events of these chats were just stored: handle them now (called on the event loop)."""
        for chat_id in chat_ids:
            self._schedule(chat_id)

    def _schedule(self, chat_id: str) -> None:
        if self._stopping:
            return
        if chat_id in self._chats.running:
            self._chats.again.add(chat_id)
            return
        task = asyncio.create_task(self._run_chat(chat_id))
        self._chats.running[chat_id] = task
        task.add_done_callback(partial(self._finished, chat_id))

    def _finished(self, chat_id: str, task: asyncio.Task[None]) -> None:
        if self._chats.running.get(chat_id) is task:
            del self._chats.running[chat_id]
        if not task.cancelled() and task.exception() is not None:
            log.error("bot inbox: chat task crashed", exc_info=task.exception())

    async def idle(self, timeout: float = 10.0) -> bool:
        """Wait until no chat is being handled (for tests and benchmarks); False on timeout."""
        deadline = time.monotonic() + timeout
        while self._chats.running:
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(0.01)
        return True

    # ---- one chat ----

    async def _run_chat(self, chat_id: str) -> None:
        async with self._gate:
            while not self._stopping:
                self._chats.again.discard(chat_id)
                await self._calm()  # before the lease: under a burst, even taking it waits
                works = await self.db.write(self._claim_and_load, chat_id)
                if works is None:
                    return  # another process holds the chat; it (or the sweeper) finishes it
                try:
                    blocked = await self._handle_all(chat_id, works)
                except SQLAlchemyError as exc:  # the database is away: the sweeper tries again
                    log.warning("bot inbox: database error (%s)", type(exc).__name__)
                    blocked = True
                finally:
                    more = await self.db.write(self._release, chat_id)
                if blocked or not (more or chat_id in self._chats.again):
                    return

    async def _calm(self) -> None:
        await self.pressure.calm(self.tuning.busy_webhooks, self.tuning.max_defer, self.tuning.busy_rate)

    def _claim_and_load(self, session: Session, chat_id: str) -> list[Work] | None:
        """The chat's unfinished events once its lease is ours; None while another process has it."""
        return inbox_store.work_for(session, chat_id) if self._claim(session, chat_id) else None

    def _claim(self, session: Session, chat_id: str) -> bool:
        """Take the chat's lease, also from a process of this host that died holding it."""
        if inbox_store.claim(session, chat_id, self.owner, self.tuning.lease):
            return True
        holder = inbox_store.lock_owner(session, chat_id)
        if holder is None or not owner_is_dead(holder):
            return False
        log.info("bot inbox: taking over from a dead process", extra={"dead_owner": holder})
        return inbox_store.take_over(session, chat_id, holder, self.owner, self.tuning.lease)

    def _release(self, session: Session, chat_id: str) -> bool:
        inbox_store.release(session, chat_id, self.owner)
        return inbox_store.has_work(session, chat_id)

    async def _handle_all(self, chat_id: str, works: list[Work]) -> bool:
        """Handle events in order; True when one waits for a retry (the later ones wait with it)."""
        renewed = time.monotonic()
        for work in works:
            if time.monotonic() - renewed > self.tuning.lease / 3:  # a long batch: keep the chat
                await self.db.write(self._claim, chat_id)
                renewed = time.monotonic()
            if work.next_try_at is not None and work.next_try_at > dt.datetime.now(dt.UTC):
                return True
            if not await self._handle(work):
                return True
        return False

    async def _handle(self, work: Work) -> bool:
        """Prepare (if not yet) and send one event's reply; False when it must be retried later."""
        try:
            await self._calm()
            parsed = await self.preparer.parsed(work)
            if parsed is None:
                return True
            work = parsed
            api = await self.api_for(work.channel)
            resumed = work.status == "prepared"
            if resumed:
                messages = work.outbox or []
            else:
                language = await self._profile_language(api, work) if work.kind == "follow" else None
                messages = await self.preparer.prepare(work, language)
            if not messages:
                return True
            result = await deliver(api, work, messages, resumed=resumed)
        except SQLAlchemyError:
            raise
        except Exception as exc:  # a bug in our handling: keep the reason, never block the chat
            log.exception("bot inbox: event failed", extra={"chat": mask_user_id(work.chat_id)})
            await self.db.write(inbox_store.fail, work.id, f"internal error: {type(exc).__name__}")
            return True
        if isinstance(result, ReplyFailed):
            return await self._failed(work, result)
        await self.db.write(inbox_store.finish, work.id)
        return True

    async def _failed(self, work: Work, result: ReplyFailed) -> bool:
        delays = self.tuning.retry_delays
        attempts = work.attempts + 1
        extra = {"chat": mask_user_id(work.chat_id), "attempts": attempts, "error": result.error[:200]}
        if result.retry and attempts <= len(delays):
            log.warning("bot reply not sent; will retry", extra=extra)
            await self.db.write(
                inbox_store.retry_later, work.id, attempts, delays[attempts - 1], result.error
            )
            return False
        log.error("bot reply not sent; giving up", extra=extra)
        await self.db.write(inbox_store.fail, work.id, result.error)
        return True

    async def _profile_language(self, api: LineApi, work: Work) -> str | None:
        """Only the profile's language is used (and stored); failures leave it unknown."""
        if work.user_id is None:
            return None
        try:
            return (await api.profile(work.user_id)).language
        except LineApiError:
            return None

    # ---- sweeping ----

    async def _sweep_loop(self) -> None:
        last_purge = float("-inf")  # purge once at start-up, then every `purge_every`
        older_than = 0.0  # at start-up everything unfinished is fair game: its process is gone
        while not self._stopping:
            try:
                for chat_id in await self.db.read(self._stale, older_than):
                    self._schedule(chat_id)
                if time.monotonic() - last_purge > self.tuning.purge_every:
                    last_purge = time.monotonic()
                    await self.db.write(self._purge)
            except SQLAlchemyError as exc:
                log.warning("bot inbox sweep: database error (%s)", type(exc).__name__)
            older_than = self.tuning.stale_after
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self.tuning.sweep_every)

    @staticmethod
    def _stale(session: Session, older_than: float) -> list[str]:
        return inbox_store.stale_chats(session, older_than=older_than)

    def _purge(self, session: Session) -> int:
        return inbox_store.purge(
            session, keep_events=self.tuning.keep_events, keep_dead=self.tuning.keep_dead_letters
        )
