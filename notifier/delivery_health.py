"""Is anything stuck? Worker liveness and overdue deliveries, for the API and `/readyz` notes.

Posts stuck because no worker runs are the top complaint about schedulers, so this is visible
everywhere: `GET /api/v1/notifier/status`, the `notifier` note in `/readyz`, `python -m notifier status`.
So is a channel whose posting limit is spent for a while (X's 24-hour cap): its deliveries wait for the
platform's reset, and staff see until when (`paused`, and a problem in Japanese and English).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from app.tokyo_time import JST, to_jst
from notifier.channels.channel_registry import CHANNELS
from notifier.ledger_tables import Delivery, NotifierWorker
from notifier.post_views import OVERDUE_AFTER
from notifier.problem_texts import jst_text
from storage import rate_budgets

ALIVE_WITHIN = dt.timedelta(seconds=30)
# a rate-limit block longer than X's 15-minute window is worth telling staff (a spent daily cap)
LONG_PAUSE = dt.timedelta(minutes=15)


def _overdue_clause(now: dt.datetime) -> Any:
    return or_(
        and_(Delivery.state == "pending", Delivery.run_at < now - OVERDUE_AFTER),
        and_(Delivery.state == "sending", Delivery.lease_until < now),
    )


def pauses(session: Session, now: dt.datetime) -> list[dict[str, Any]]:
    """Channel accounts whose platform said not to call them for longer than `LONG_PAUSE`."""
    found = []
    for key, until in rate_budgets.blocked_beyond(session, now + LONG_PAUSE):
        channel, _, rest = key.partition(":")
        account, _, endpoint = rest.rpartition(":")
        found.append({"channel": channel, "account": account, "endpoint": endpoint, "until": until})
    return found


def pause_problem(channel: str, until: dt.datetime) -> str:
    """The status line of a paused channel, Japanese first."""
    label = CHANNELS[channel].label if channel in CHANNELS else channel
    local = until.astimezone(JST)
    return (
        f"{label}: 投稿上限に達したため、{local:%m月%d日 %H:%M} まで送信を待っています / "
        f"{label}: the platform's posting limit is reached; sending waits until {local:%Y-%m-%d %H:%M} JST"
    )


def summary(session: Session, now: dt.datetime) -> dict[str, Any]:
    """Counts by state, overdue deliveries and live workers; `ok` is False when something is stuck."""
    by_state = dict(session.execute(select(Delivery.state, func.count()).group_by(Delivery.state)).all())
    overdue, oldest = session.execute(
        select(func.count(Delivery.id), func.min(Delivery.run_at)).where(_overdue_clause(now))
    ).one()
    workers = session.scalars(
        select(NotifierWorker).where(
            NotifierWorker.heartbeat_at >= now - ALIVE_WITHIN, NotifierWorker.stopped_at.is_(None)
        )
    ).all()
    due = by_state.get("pending", 0) + by_state.get("sending", 0)
    problems = []
    if overdue:
        when = jst_text(oldest) if oldest else "—"
        problems.append(
            f"遅れている配信 {overdue} 件(最も古い予定 {when})/ "
            f"{overdue} overdue deliveries (oldest due {when})"
        )
    if due and not workers:
        problems.append(
            "配信待ちがありますが配信ワーカーが動いていません / "
            "deliveries are waiting but no worker is running (python -m notifier worker)"
        )
    if by_state.get("unknown"):
        unknown = by_state["unknown"]
        problems.append(
            f"確認が必要な配信 {unknown} 件 / {unknown} deliveries need a person to check (state unknown)"
        )
    paused = pauses(session, now)
    problems += [pause_problem(p["channel"], p["until"]) for p in paused]
    return {
        "ok": not problems,
        "problems": problems,
        "workers_alive": len(workers),
        "workers": [
            {"id": w.id, "mode": w.mode, "heartbeat_at": to_jst(w.heartbeat_at), "processed": w.processed}
            for w in workers
        ],
        "deliveries": {state: int(n) for state, n in sorted(by_state.items())},
        "overdue": int(overdue or 0),
        "oldest_overdue_at": to_jst(oldest),
        "paused": [{**p, "until": to_jst(p["until"])} for p in paused],
    }


def full(session: Session, now: dt.datetime) -> dict[str, Any]:
    """`summary` plus every rate-limit key's state."""
    data = summary(session, now)
    data["rate_limits"] = [
        {**row, "blocked_until": to_jst(row["blocked_until"]), "reset_at": to_jst(row["reset_at"])}  # type: ignore[arg-type]
        for row in rate_budgets.snapshot(session)
    ]
    return data
