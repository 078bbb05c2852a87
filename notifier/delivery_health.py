"""Is anything stuck? Worker liveness and overdue deliveries, for the API and `/readyz` notes.

Posts stuck because no worker runs are the top complaint about schedulers, so this is visible
everywhere: `GET /api/v1/notifier/status`, the `notifier` note in `/readyz`, `python -m notifier status`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from notifier.ledger_tables import Delivery, NotifierWorker
from notifier.post_ledger import to_jst
from notifier.post_views import OVERDUE_AFTER
from notifier.problem_texts import jst_text
from storage import rate_budgets

ALIVE_WITHIN = dt.timedelta(seconds=30)


def _overdue_clause(now: dt.datetime) -> Any:
    return or_(
        and_(Delivery.state == "pending", Delivery.run_at < now - OVERDUE_AFTER),
        and_(Delivery.state == "sending", Delivery.lease_until < now),
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
    }


def full(session: Session, now: dt.datetime) -> dict[str, Any]:
    """`summary` plus every rate-limit key's state."""
    data = summary(session, now)
    data["rate_limits"] = [
        {**row, "blocked_until": to_jst(row["blocked_until"]), "reset_at": to_jst(row["reset_at"])}  # type: ignore[arg-type]
        for row in rate_budgets.snapshot(session)
    ]
    return data
