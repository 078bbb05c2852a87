"""The FAQ's monthly report for the plan's PDCA cycle: questions, answered / suggested / fallback
rates, 👍/👎 per entry and the top unanswered groups, against the previous month. Months are
calendar months in Japan time; rates are shares of the questions the FAQ searched (small talk is
counted apart). Built from `faq_answers` and the unanswered log, so it reaches back as far as their
retention (`FAQ_LOG_DAYS`)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from faq import answer_log
from faq.faq_tables import UnansweredQuestion
from faq.question_groups import Asked, group

JST = timezone(timedelta(hours=9))
MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
TOP_GROUPS = 10


def month_range(month: str) -> tuple[datetime, datetime]:
    """[start, end) in UTC of a 'YYYY-MM' month in Japan time; ValueError for anything else."""
    m = MONTH.match(month)
    if m is None:
        raise ValueError(f"month must be YYYY-MM, not {month!r}")
    year, mon = int(m.group(1)), int(m.group(2))
    try:
        start = datetime(year, mon, 1, tzinfo=JST)
        end = datetime(year + (mon == 12), mon % 12 + 1, 1, tzinfo=JST)
        return start.astimezone(UTC), end.astimezone(UTC)
    except (OverflowError, ValueError):  # 0001-01 in UTC is before year 1; 9999-12 ends after 9999
        raise ValueError(f"month {month!r} is out of range") from None


def previous_month(month: str) -> str:
    year, mon = int(month[:4]), int(month[5:7])
    return f"{year - (mon == 1)}-{(mon - 2) % 12 + 1:02d}"


def this_month(now: datetime | None = None) -> str:
    return (now or datetime.now(UTC)).astimezone(JST).strftime("%Y-%m")


@dataclass(frozen=True)
class Numbers:
    questions: int
    answered: int
    suggested: int
    fallback: int
    small_talk: int

    def rate(self, n: int) -> float:
        return round(n / self.questions, 4) if self.questions else 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "questions": self.questions,
            "answered": self.answered,
            "suggested": self.suggested,
            "fallback": self.fallback,
            "small_talk": self.small_talk,
            "answered_rate": self.rate(self.answered),
            "suggested_rate": self.rate(self.suggested),
            "fallback_rate": self.rate(self.fallback),
        }


def numbers(session: Session, month: str) -> Numbers:
    counts = answer_log.decision_counts(session, *month_range(month))
    searched = sum(counts.get(k, 0) for k in ("answer", "suggest", "fallback"))
    return Numbers(
        searched,
        counts.get("answer", 0),
        counts.get("suggest", 0),
        counts.get("fallback", 0),
        counts.get("small_talk", 0),
    )


def unanswered_in(session: Session, month: str) -> list[Asked]:
    start, end = month_range(month)
    stmt = select(UnansweredQuestion).where(
        UnansweredQuestion.last_seen >= start, UnansweredQuestion.created_at < end
    )
    return [Asked(r.id, r.text, r.lang, r.count, r.created_at, r.last_seen) for r in session.scalars(stmt)]


def report(session: Session, month: str, weight: Callable[[str, str], float]) -> dict[str, Any]:
    """The month's report as JSON, with the previous month's numbers beside it."""
    before = previous_month(month)
    now, prev = numbers(session, month), numbers(session, before)
    votes = answer_log.votes(session, start=month_range(month)[0], end=month_range(month)[1])
    groups = group(unanswered_in(session, month), weight)[:TOP_GROUPS]
    return {
        "month": month,
        "previous_month": before,
        "numbers": now.to_json(),
        "previous": prev.to_json(),
        "votes": [
            {"entry_id": v.entry_id, "helpful": v.helpful, "not_helpful": v.not_helpful} for v in votes
        ],
        "unanswered_groups": [
            {
                "count": g.count,
                "examples": g.examples,
                "lang": g.lang,
                "first_seen": g.first_seen.isoformat() if g.first_seen else None,
                "last_seen": g.last_seen.isoformat() if g.last_seen else None,
            }
            for g in groups
        ],
    }


def _cell(value: object) -> object:
    """Resident text must not become a spreadsheet formula."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def to_csv(data: dict[str, Any]) -> str:
    """The report as one CSV (UTF-8 with BOM, so Excel reads the Japanese): section, item, this month,
    previous month."""
    out = io.StringIO()
    out.write("\ufeff")
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(["section", "item", data["month"], data["previous_month"]])
    for key, value in data["numbers"].items():
        w.writerow(["numbers", key, value, data["previous"][key]])
    for v in data["votes"]:
        w.writerow(["votes 👍", v["entry_id"], v["helpful"], ""])
        w.writerow(["votes 👎", v["entry_id"], v["not_helpful"], ""])
    for g in data["unanswered_groups"]:
        w.writerow(["unanswered group", _cell(" / ".join(g["examples"])), g["count"], ""])
    return out.getvalue()
