"""The reports area's hashtag collection (`reports.hashtag_collector`) as a periodic job of the delivery
workers: every 5 minutes in whichever worker takes it."""

from __future__ import annotations

import datetime as dt

from notifier.periodic_jobs import JobContext, periodic
from reports.hashtag_collector import collect

JOB_NAME = "reports.hashtags"
INTERVAL = dt.timedelta(minutes=5)


@periodic(JOB_NAME, every=INTERVAL)
async def collect_hashtags(ctx: JobContext) -> None:
    """Periodic job: public hashtag posts on Mastodon and Bluesky become reports to confirm."""
    await collect(ctx.settings, ctx.db)
