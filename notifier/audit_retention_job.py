"""The audit log's retention (`AUDIT_RETENTION_DAYS` > 0) as a daily periodic job of the delivery workers:
rows older than that many days go to archive files in `AUDIT_ARCHIVE_DIR` (`app.audit_archive`). With
the default 0 the job does nothing: every row is kept.

The job machinery's lease runs it in one worker at a time; `suita audit archive` run by hand meanwhile
is kept apart by the archive's own check under the appenders' lock (the later one removes nothing).
Each file holds at most `MAX_ROWS` rows, and one run stops after `TIME_BUDGET` (well within the job's
lease): a large backlog is archived over a few days.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import time

import anyio

from app import audit
from app.audit_archive import archive, retention_cutoff
from notifier.periodic_jobs import JobContext, periodic

log = logging.getLogger(__name__)
JOB_NAME = "audit.retention"
INTERVAL = dt.timedelta(days=1)
MAX_ROWS = 50_000
TIME_BUDGET = 10 * 60.0  # seconds; JOB_LEASE is 15 minutes
ACTOR = audit.Actor("system:audit-retention", "system")


@periodic(JOB_NAME, every=INTERVAL)
async def archive_old_audit_rows(ctx: JobContext) -> None:
    """Periodic job: archive the audit log's rows older than `AUDIT_RETENTION_DAYS` (0: nothing)."""
    cutoff = retention_cutoff(ctx.settings.audit_retention_days, ctx.now)
    if cutoff is None:
        return
    origin = audit.Origin(f"job:{ctx.worker}"[:64], "local")
    deadline = time.monotonic() + TIME_BUDGET
    while time.monotonic() < deadline:
        # file writing and one transaction: blocking work, in a thread (not one of the app's AsyncDb
        # slots, which the job would hold for minutes)
        done = await anyio.to_thread.run_sync(
            functools.partial(
                archive,
                ctx.sessions,
                before=cutoff,
                directory=ctx.settings.audit_archive_dir,
                actor=ACTOR,
                origin=origin,
                max_rows=MAX_ROWS,
            )
        )
        if done is None:
            return
        log.info("audit log: rows %d–%d archived to %s", done.header.first_id, done.header.last_id, done.path)
