"""Send one claimed delivery: settle what an earlier call may have done, reserve the account's rate
budget, record the attempt, call the channel, and record the outcome (see `notifier.delivery.failure_policy`).

Database steps run through the worker's `storage.aio.AsyncDb` and are retried while the database is
briefly away (a restart):
the platform call is never repeated because of a database error; at worst the lease runs out and the
next worker settles the delivery with the platform's key or a recent-posts lookup.
"""

from __future__ import annotations

import datetime as dt
import logging

from app.settings import Settings
from notifier.channels.channel_base import DEMO_ACCOUNT, Channel, Outgoing, Published
from notifier.channels.channel_registry import build
from notifier.delivery import claims
from notifier.delivery.claims import ClaimedDelivery
from notifier.delivery.delivery_parts import DbPartStore
from notifier.delivery.failure_policy import UNKNOWN_HINT, NextStep, after_lookup, backoff, decide
from platforms.call_errors import Ambiguous, ChannelError, ServerError
from storage.aio import AsyncDb
from storage.base import utcnow

log = logging.getLogger(__name__)
MAYBE_PUBLISHED = ("ambiguous", "server_error")


class Dispatcher:
    """Delivers claimed deliveries for one worker."""

    def __init__(
        self,
        settings: Settings,
        db: AsyncDb,
        *,
        worker: str,
        channels: dict[str, Channel] | None = None,
    ) -> None:
        self.settings = settings
        self.db = db  # `run` retries while the database is briefly away
        self.worker = worker
        self.channels: dict[str, Channel] = dict(channels or {})
        self._known_keys: set[str] = set()

    def channel(self, name: str) -> Channel:
        if name not in self.channels:
            self.channels[name] = build(name, self.settings)
        return self.channels[name]

    async def process(self, delivery_id: int) -> None:
        """Deliver one claimed delivery to its channel."""
        job = await self.db.run(claims.load_job, delivery_id, worker=self.worker, now=utcnow())
        if job is None:
            return
        channel = self.channel(job.channel)
        if (job.account == DEMO_ACCOUNT) != (channel.account == DEMO_ACCOUNT):
            await self._finish(job, NextStep("failed", "rejected", demo_mismatch(job, channel)), None)
            return
        out = self.outgoing(job)
        if out.resumed and await self._settle(job, channel, out):
            return
        await self._attempt(job, channel, out)

    def outgoing(self, job: ClaimedDelivery) -> Outgoing:
        return Outgoing(
            delivery_id=job.id,
            key=job.key,
            texts=job.texts,
            link=job.link,
            topic=job.topic,
            attempt=job.attempts + 1,
            resumed=job.interrupted or job.last_outcome in MAYBE_PUBLISHED,
            first_attempt_at=job.first_attempt_at,
            parts=DbPartStore(
                self.db,
                job.id,
                f"{job.channel}:{job.account}",
                worker=self.worker,
                lease=self.settings.notifier_lease_seconds,
            ),
        )

    async def _settle(self, job: ClaimedDelivery, channel: Channel, out: Outgoing) -> bool:
        """An earlier call may have published the post. True when that settled the delivery."""
        now = utcnow()
        if channel.idempotent:
            if not _key_expired(channel, job, now):
                return False  # the same key makes the retry safe
            reason = "an earlier call may have published it and the idempotency key has expired"
            await self._finish(job, NextStep("unknown", "ambiguous", f"{reason}; {UNKNOWN_HINT}"), None)
            return True
        found, lookup_error = await self._lookup(channel, out, job)
        if found is not None:
            await self._finish(
                job, NextStep("sent", "reconciled"), None, sent=Published(found, note="found in recent posts")
            )
            return True
        if job.last_outcome == "server_error":
            if lookup_error is None:
                return False  # the platform answered 5xx and the post is not there: send again
            later = backoff(job.attempts, self.settings.notifier_backoff_seconds, utcnow())
            await self.db.run(claims.release, job.id, worker=self.worker, run_at=later)  # look again later
            return True
        reason = "an earlier call may have published it" + (
            f" (lookup failed: {lookup_error})" if lookup_error else ""
        )
        await self._finish(job, NextStep("unknown", "ambiguous", f"{reason}; {UNKNOWN_HINT}"), None)
        return True

    async def _lookup(
        self, channel: Channel, out: Outgoing, job: ClaimedDelivery
    ) -> tuple[str | None, str | None]:
        since = job.first_attempt_at or utcnow() - dt.timedelta(hours=1)
        try:
            return await channel.find_sent(out, since), None
        except ChannelError as exc:
            return None, exc.reason

    async def _attempt(self, job: ClaimedDelivery, channel: Channel, out: Outgoing) -> None:
        rate_key = f"{channel.name}:{channel.account}:{channel.endpoint(out)}"
        attempt_id, _wait = await self.db.run(
            claims.start_attempt,
            job,
            worker=self.worker,
            rate_key=rate_key,
            bucket=channel.buckets.get(channel.endpoint(out)),
            now=utcnow(),
            new_key=rate_key not in self._known_keys,
        )
        self._known_keys.add(rate_key)
        if attempt_id is None:
            return  # rate limited before calling: handed back with a later run_at
        try:
            sent = await channel.send(out)
        except ChannelError as exc:
            await self._failed(job, channel, out, exc, attempt_id, rate_key)
            return
        except Exception as exc:  # a bug or an SDK surprise after the request may have left
            log.exception("unexpected error from channel %s", channel.name)
            await self._failed(
                job, channel, out, Ambiguous(f"unexpected {type(exc).__name__}"), attempt_id, rate_key
            )
            return
        await self._finish(job, NextStep("sent", "sent"), attempt_id, sent=sent, rate_key=rate_key)

    async def _failed(
        self,
        job: ClaimedDelivery,
        channel: Channel,
        out: Outgoing,
        exc: ChannelError,
        attempt_id: int,
        rate_key: str,
    ) -> None:
        now = utcnow()
        attempts = job.attempts + 1
        most = self.settings.notifier_max_attempts
        base = self.settings.notifier_backoff_seconds
        decision = decide(
            exc,
            idempotent=channel.idempotent,
            key_expired=_key_expired(channel, job, now),
            attempts=attempts,
            max_attempts=most,
            now=now,
            base=base,
        )
        sent = None
        if decision.lookup:
            found, lookup_error = await self._lookup(channel, out, job)
            if lookup_error is not None and isinstance(exc, ServerError):
                found = None  # the next attempt looks again before sending
            decision = after_lookup(found, exc, attempts=attempts, max_attempts=most, now=now, base=base)
            sent = Published(found, note="found in recent posts") if found else None
        log.info(
            "delivery %s on %s: %s (%s)",
            job.id,
            channel.name,
            decision.outcome,
            exc.reason,
            extra={"delivery_id": job.id, "channel": channel.name, "outcome": decision.outcome},
        )
        await self._finish(job, decision, attempt_id, sent=sent, error=exc, rate_key=rate_key)

    async def _finish(
        self,
        job: ClaimedDelivery,
        decision: NextStep,
        attempt_id: int | None,
        *,
        sent: Published | None = None,
        error: ChannelError | None = None,
        rate_key: str | None = None,
    ) -> None:
        await self.db.run(
            claims.finish,
            job,
            decision,
            worker=self.worker,
            now=utcnow(),
            attempt_id=attempt_id,
            sent=sent,
            error=error,
            rate_key=rate_key,
        )

    async def aclose(self) -> None:
        for channel in self.channels.values():
            await channel.aclose()


def demo_mismatch(job: ClaimedDelivery, channel: Channel) -> str:
    """Why a delivery is never sent here: a demo delivery only goes to the app's fake, a real one
    never does (a worker without the fakes, or a demo app without the account's credentials)."""
    if job.account == DEMO_ACCOUNT:
        return (
            f"デモ用の配信のため {channel.label} の実際のアカウントには送りません / a demo delivery: "
            f"never sent to the real {channel.label} account (only the app's demo worker delivers it)"
        )
    return (
        f"{channel.label} のアカウント {job.account} はここでは設定されていません(デモモード)/ the "
        f"{channel.label} account {job.account} is not configured here (demo mode): not sent to a fake"
    )


def _key_expired(channel: Channel, job: ClaimedDelivery, now: dt.datetime) -> bool:
    ttl = channel.key_ttl
    return bool(ttl and job.first_attempt_at and (now - job.first_attempt_at).total_seconds() > ttl * 0.9)
