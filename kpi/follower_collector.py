"""Collect follower figures from `FollowerSource`s into daily snapshots.

Which date a source is asked for: LINE insight reports past JST dates (`historical`), so it is asked
for yesterday and can be backfilled; the other platforms only report the current count, which is
stored under today's JST date. Every figure goes through `fetch_log.claim` (one worker per account and
date), rate-limited channels through `rate_budgets.reserve_in_window`, and the result is upserted (one row).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from sqlalchemy.orm import Session, sessionmaker

from app.privacy import mask_pii
from kpi import fetch_log
from kpi.jst_dates import jst_date
from kpi.snapshot_store import SnapshotValues, has_snapshot, upsert_snapshots
from platforms.followers import FollowerCount, FollowerSource
from storage import rate_budgets
from storage.aio import AsyncDb
from storage.base import utcnow
from storage.db import begin_immediate

log = logging.getLogger(__name__)

Status = Literal["ok", "unready", "error", "stored", "waiting", "deferred", "unsupported"]
_SECRET = re.compile(r"((?:access_)?token|key|secret|password|sig)=[^&\s\"']+", re.IGNORECASE)
_BEARER = re.compile(r"Bearer\s+\S+", re.IGNORECASE)


@dataclass(frozen=True)
class FetchResult:
    """What happened to one account's figure for one date."""

    channel: str
    account: str
    date: dt.date
    status: Status
    followers: int | None = None
    reason: str | None = None


def historical(source: FollowerSource) -> bool:
    """Whether the source can report past dates (LINE insight); others report only the current count."""
    return source.counting.historical


def clean_reason(text: str) -> str:
    """An error text safe to store and show: no credentials, no personal details, at most 300 chars."""
    text = _BEARER.sub("Bearer ***", _SECRET.sub(r"\1=***", text))
    return mask_pii(text)[:300]


def snapshot_values(
    source: FollowerSource, date: dt.date, count: FollowerCount, origin: str
) -> SnapshotValues:
    """The row to store for an `ok` count; ValueError when the figures are not usable."""
    details = count.details
    raw = count.followers
    if raw is None or raw < 0:
        raise ValueError(f"unusable follower figure {raw!r}")
    blocks = details.get("blocks")
    followers = count.counted if count.counted is not None else raw
    if followers < 0:
        raise ValueError(f"counted audience below zero (followers {raw}, blocks {blocks})")
    return SnapshotValues(
        channel=source.name,
        account=source.account,
        date=date,
        followers=followers,
        source=origin,
        platform_followers=raw if count.counted is not None else None,
        targeted_reaches=details.get("targeted_reaches"),
        blocks=blocks,
        fan_count=details.get("fan_count"),
    )


@dataclass
class Collector:
    """Collects figures from `sources` into the database behind `sessions`."""

    sessions: sessionmaker[Session]
    sources: Sequence[FollowerSource]
    clock: Callable[[], dt.datetime] = utcnow
    timeout: float = 30.0
    db: AsyncDb = field(init=False)

    def __post_init__(self) -> None:
        self.db = AsyncDb(self.sessions)

    async def collect(
        self, source: FollowerSource, date: dt.date, *, force: bool = False, origin: str = "collect"
    ) -> FetchResult:
        """Fetch and store one figure unless it is stored already, another worker has it, its retry is
        not due (unless `force`), or the rate budget is spent (`deferred`)."""
        now = self.clock()
        if not historical(source) and date != jst_date(now):
            return FetchResult(
                source.name, source.account, date, "unsupported", reason="reports only today's count"
            )
        claimed = await self.db.run(self._claim, source, date, now, force)
        if claimed != "claimed":
            return FetchResult(source.name, source.account, date, claimed)
        limit = source.counting.calls_per_hour
        key = f"{source.name}:{source.account}"
        reserve = rate_budgets.reserve_in_window
        if limit is not None and not await self.db.run(reserve, key, limit, now):
            await self.db.run(fetch_log.release, source.name, source.account, date, now)
            return FetchResult(
                source.name, source.account, date, "deferred", reason=f"{limit} calls/hour used"
            )
        outcome, values = await self._fetch(source, date, origin)
        await self.db.run(self._record, outcome, values)
        log.info(
            "kpi fetch %s/%s %s: %s",
            source.name,
            source.account,
            date,
            outcome.status,
            extra={"channel": source.name, "status": outcome.status, "reason": outcome.reason},
        )
        return outcome

    async def _fetch(
        self, source: FollowerSource, date: dt.date, origin: str
    ) -> tuple[FetchResult, SnapshotValues | None]:
        def failed(status: Status, reason: str) -> tuple[FetchResult, None]:
            return FetchResult(source.name, source.account, date, status, reason=reason), None

        try:
            count = await asyncio.wait_for(source.follower_count(date), self.timeout)
        except TimeoutError:
            return failed("error", f"timeout after {self.timeout:g} s")
        except Exception as exc:  # any platform or SDK failure is recorded, never raised to the job
            return failed("error", clean_reason(f"{type(exc).__name__}: {exc}"))
        if count.status != "ok":
            return failed(count.status, clean_reason(count.reason) if count.reason else count.status)
        try:
            values = snapshot_values(source, date, count, origin)
        except ValueError as exc:
            return failed("error", str(exc))
        return FetchResult(source.name, source.account, date, "ok", followers=values.followers), values

    @staticmethod
    def _claim(
        session: Session, source: FollowerSource, date: dt.date, now: dt.datetime, force: bool
    ) -> Status | Literal["claimed"]:
        begin_immediate(session)  # read-then-write: take SQLite's write lock first
        if has_snapshot(session, source.name, source.account, date):
            return "stored"
        claimed = fetch_log.claim(session, source.name, source.account, date, now, force=force)
        return "claimed" if claimed else "waiting"

    def _record(self, session: Session, outcome: FetchResult, values: SnapshotValues | None) -> None:
        begin_immediate(session)  # read-then-write: take SQLite's write lock first
        if values is not None:
            upsert_snapshots(session, [values])
        o = outcome
        fetch_log.finish(session, o.channel, o.account, o.date, self.clock(), o.status, o.reason)

    async def run_due(self, now: dt.datetime | None = None, *, retry_days: int = 7) -> list[FetchResult]:
        """The daily job; safe to call as often as you like. Live sources: today's JST count, once.
        Historical sources (LINE): yesterday, plus earlier days of the last `retry_days` whose fetch
        has not succeeded (unready or failed), each retried when due."""
        today = jst_date(now or self.clock())
        outcomes: list[FetchResult] = []
        for source in self.sources:
            if not historical(source):
                outcomes.append(await self.collect(source, today))
                continue
            yesterday = today - dt.timedelta(days=1)
            since = today - dt.timedelta(days=retry_days)
            pending = await self.db.read(fetch_log.retry_dates, source.name, source.account, since)
            for date in sorted({yesterday, *(d for d in pending if d < today)}, reverse=True):
                outcomes.append(await self.collect(source, date))
        return outcomes

    async def collect_date(self, date: dt.date) -> list[FetchResult]:
        """`kpi collect --date D`: every source that can report `date`, retrying now if needed."""
        return [await self.collect(source, date, force=True) for source in self.sources]

    async def backfill(self, start: dt.date, end: dt.date) -> list[FetchResult]:
        """Fetch past dates from historical sources (LINE insight, from 2016-11-01), newest first,
        stopping at the first date the rate budget defers or that fails (so a bad token does not
        spend the hour's budget); rerun later to continue (stored dates are skipped)."""
        outcomes: list[FetchResult] = []
        for source in (s for s in self.sources if historical(s)):
            history_start = source.counting.history_start
            day, first = end, max(start, history_start) if history_start else start
            while day >= first:
                outcome = await self.collect(source, day, force=True, origin="backfill")
                outcomes.append(outcome)
                if outcome.status in ("deferred", "error"):
                    break
                day -= dt.timedelta(days=1)
        return outcomes
