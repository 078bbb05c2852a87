"""Periodic jobs that run inside the delivery workers (reconciliation, the KPI's follower collection).

Register a job in a module listed in `JOB_MODULES`:

    from notifier.periodic_jobs import JobContext, periodic

    @periodic("area.cleanup", every=dt.timedelta(hours=1))
    async def cleanup(ctx: JobContext) -> None: ...

However many workers run, each job runs in one of them at a time and at most once per interval:
a worker takes the job's row in `notifier_job_runs` with one `UPDATE … RETURNING` (a lease), runs it,
and sets the next run time. A job that raises is logged and retried at its next interval; a worker that
dies mid-job leaves a lease that expires.
"""

from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import cached_property

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from app.settings import Settings
from notifier.ledger_tables import JobRun
from storage.aio import AsyncDb
from storage.leases import Lease, acquire

# Modules whose import registers jobs. Areas add theirs here.
JOB_MODULES: tuple[str, ...] = (
    "notifier.delivery.reconcile",
    "kpi.collection_job",
    "notifier.report_hashtags_job",
    "notifier.audit_retention_job",
)
JOB_LEASE = dt.timedelta(minutes=15)


@dataclass(frozen=True)
class JobContext:
    """What a job gets: settings, a session factory, the worker's id and the time; `db` runs database
    work from the job's async code."""

    settings: Settings
    sessions: sessionmaker[Session]
    worker: str
    now: dt.datetime

    @cached_property
    def db(self) -> AsyncDb:
        return AsyncDb(self.sessions)


JobFunc = Callable[[JobContext], Awaitable[None]]


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    interval: dt.timedelta
    run: JobFunc


_REGISTRY: dict[str, PeriodicJob] = {}


def register(name: str, interval: dt.timedelta, func: JobFunc) -> PeriodicJob:
    """Add (or replace) a periodic job."""
    job = PeriodicJob(name, interval, func)
    _REGISTRY[name] = job
    return job


def periodic(name: str, *, every: dt.timedelta) -> Callable[[JobFunc], JobFunc]:
    """Decorator form of `register`."""

    def decorate(func: JobFunc) -> JobFunc:
        register(name, every, func)
        return func

    return decorate


def registered() -> list[PeriodicJob]:
    """Every job, after importing `JOB_MODULES`."""
    for module in JOB_MODULES:
        importlib.import_module(module)
    return sorted(_REGISTRY.values(), key=lambda j: j.name)


RUN_LEASE = Lease(until=JobRun.lease_until, owner=JobRun.lease_owner)


def take(session: Session, job: PeriodicJob, *, worker: str, now: dt.datetime) -> bool:
    """Lease `job` to `worker` if it is due and nobody runs it now."""
    return acquire(
        session,
        JobRun,
        {"name": job.name},
        RUN_LEASE,
        owner=worker,
        now=now,
        seconds=JOB_LEASE.total_seconds(),
        when=[JobRun.next_run_at <= now],
        new_row={"next_run_at": now},
        also={"last_started_at": now},
    )


def done(session: Session, job: PeriodicJob, *, worker: str, now: dt.datetime, error: str | None) -> None:
    """Release the lease and set the next run."""
    session.execute(
        update(JobRun)
        .where(JobRun.name == job.name, JobRun.lease_owner == worker)
        .values(
            next_run_at=now + job.interval,
            **RUN_LEASE.cleared(),
            last_finished_at=now,
            last_error=error,
        )
    )
