"""The daily collection as a periodic job of the delivery workers (`notifier.periodic_jobs`).

`run_due` is idempotent and cheap when nothing is due (no platform call once a day's figure is
stored), so it runs every `INTERVAL` in whichever worker takes it: `python -m notifier worker`
processes or the web process's in-app worker (RUN_WORKER_IN_APP), once per interval across all of
them. `python -m notifier kpi collect` runs the same collection from cron or by hand.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter

from sqlalchemy.orm import Session, sessionmaker

from app.settings import Settings
from kpi.follower_collector import Collector, FetchResult
from kpi.follower_sources import open_sources
from notifier.periodic_jobs import JobContext, periodic

log = logging.getLogger(__name__)
JOB_NAME = "kpi.followers"
INTERVAL = dt.timedelta(minutes=10)


async def run_due(
    sessions: sessionmaker[Session], settings: Settings, now: dt.datetime | None = None
) -> list[FetchResult]:
    """Collect whatever is due for the configured channels (see `Collector.run_due`)."""
    async with open_sources(settings) as sources:
        return await Collector(sessions, sources).run_due(now) if sources else []


@periodic(JOB_NAME, every=INTERVAL)
async def collect_followers(ctx: JobContext) -> None:
    """Periodic job: store the follower figures that are due. A failed fetch is recorded per account
    (`kpi_fetches`) and retried with backoff, so it is logged here, never raised."""
    outcomes = await run_due(ctx.sessions, ctx.settings, ctx.now)
    fetched = [o for o in outcomes if o.status not in ("stored", "waiting")]
    if fetched:
        summary = Counter(o.status for o in fetched)
        level = logging.WARNING if summary["error"] else logging.INFO
        log.log(level, "kpi collection: %s", dict(summary), extra={"statuses": dict(summary)})
