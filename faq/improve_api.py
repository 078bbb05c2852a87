"""The FAQ's improvement loop for staff (JSON; any staff role reads, the editor role changes):

- `GET /api/v1/faq/unanswered/groups`: unanswered questions grouped by similarity.
- `POST /api/v1/faq/unanswered/groups/apply`: one action turns a group into a new entry (its
  questions as alternatives) or adds them as alternatives to an existing entry; the bot answers
  them at once.
- `GET /api/v1/faq/feedback`: the entries with the most 👎 and the questions that led to them.
- `GET /api/v1/faq/picks`: the suggestions residents picked (evidence for new phrasings).
- `POST /api/v1/faq/entries/{lang}/{entry_id}/alternatives`: add phrasings to an entry.
- `GET /api/v1/faq/report` and `/report.csv`: the monthly report.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth import EditorDep, StaffDep
from app.deps import MAX_ROW_ID, SessionDep
from app.staff_tables import StaffUser
from faq import answer_log, entry_store, monthly_report
from faq.corpus import CorpusError, Entry, parse_objects
from faq.faq_api import faq_audited
from faq.faq_tables import UnansweredQuestion
from faq.question_groups import Asked, group
from faq.service import FaqIndexService
from faq.unanswered_log import resolve

router = APIRouter(prefix="/api/v1/faq", tags=["faq"])

MAX_IDS = 500
MAX_TEXTS = 50


def _service(request: Request) -> FaqIndexService:
    service: FaqIndexService = request.app.state.faq
    return service


def _weight(request: Request) -> Any:
    service = _service(request)
    return lambda term, lang: service.term_weight(lang)(term)


def _open_questions(session: Session, limit: int) -> list[Asked]:
    stmt = (
        select(UnansweredQuestion)
        .where(UnansweredQuestion.resolved_entry.is_(None))
        .order_by(UnansweredQuestion.last_seen.desc(), UnansweredQuestion.id.desc())
        .limit(limit)
    )
    return [Asked(r.id, r.text, r.lang, r.count, r.created_at, r.last_seen) for r in session.scalars(stmt)]


@router.get("/unanswered/groups")
def unanswered_groups(
    request: Request,
    session: SessionDep,
    _: StaffDep,
    limit: Annotated[int, Query(ge=1, le=200, description="groups returned")] = 50,
) -> Any:
    """Open unanswered questions grouped by similarity, the most asked group first."""
    groups = group(_open_questions(session, 1000), _weight(request))[:limit]
    return [
        {
            "ids": g.ids,
            "lang": g.lang,
            "count": g.count,
            "examples": g.examples,
            "first_seen": g.first_seen,
            "last_seen": g.last_seen,
        }
        for g in groups
    ]


class GroupAction(BaseModel):
    """Turn logged questions into a new entry (`entry`) or alternatives of an existing one."""

    ids: list[Annotated[int, Field(ge=1, le=MAX_ROW_ID)]] = Field(min_length=1, max_length=MAX_IDS)
    entry: dict[str, Any] | None = None  # a new entry in the import format
    entry_id: str | None = None  # … or an existing entry (with `lang`)
    lang: str = "ja"


def _validated(payload: dict[str, Any]) -> Entry:
    try:
        return parse_objects([payload], "request body")[0]
    except CorpusError as exc:
        raise HTTPException(422, {"errors": [str(e) for e in exc.errors]}) from None


def _with_alternatives(entry: Entry, texts: list[str]) -> Entry:
    """`entry` with `texts` added as alternatives (validated like an import; duplicates dropped)."""
    data = entry.to_json() | {"alternatives": [*entry.alternatives, *texts], "updated_at": None}
    return _validated(data)


def _save(
    request: Request, session: Session, staff: StaffUser, entry: Entry, ids: list[int], before: Entry | None
) -> None:
    action = "faq.edit" if before is not None else "faq.create"
    old = before.to_json() if before is not None else None
    faq_audited(session, request, staff, action, f"{entry.lang}/{entry.id}", old, entry.to_json())
    entry_store.upsert(session, [entry])
    resolve(session, ids, entry.id)
    session.commit()
    _service(request).refresh(force=True)


@router.post("/unanswered/groups/apply")
def apply_group(request: Request, session: SessionDep, staff: EditorDep, action: GroupAction) -> Any:
    """Create the entry (or extend the existing one) with the group's questions as alternatives."""
    rows = session.scalars(select(UnansweredQuestion).where(UnansweredQuestion.id.in_(action.ids))).all()
    if not rows:
        raise HTTPException(404, "no such unanswered questions / 該当する質問がありません")
    texts = [r.text for r in sorted(rows, key=lambda r: -r.count)][:MAX_TEXTS]
    if action.entry is not None:
        new = _validated(action.entry)
        if entry_store.get(session, new.id, new.lang) is not None:
            raise HTTPException(409, f"FAQ entry {new.id!r} ({new.lang}) already exists / 既に存在します")
        entry, before = _with_alternatives(new, [t for t in texts if t != new.question]), None
    elif action.entry_id:
        existing = entry_store.get(session, action.entry_id, action.lang)
        if existing is None:
            raise HTTPException(
                404, f"no FAQ entry {action.entry_id!r} ({action.lang}) / FAQ項目が見つかりません"
            )
        entry, before = _with_alternatives(existing, texts), existing
    else:
        raise HTTPException(422, "give `entry` or `entry_id` / 新しい項目か既存の項目を指定してください")
    _save(request, session, staff, entry, [r.id for r in rows], before)
    return entry.to_json()


class Texts(BaseModel):
    texts: list[str] = Field(min_length=1, max_length=MAX_TEXTS)


@router.post("/entries/{lang}/{entry_id}/alternatives")
def add_alternatives(
    request: Request, session: SessionDep, staff: EditorDep, lang: str, entry_id: str, body: Texts
) -> Any:
    """Add phrasings (e.g. a picked suggestion's question) to an entry; the bot uses them at once."""
    existing = entry_store.get(session, entry_id, lang)
    if existing is None:
        raise HTTPException(404, f"no FAQ entry {entry_id!r} ({lang}) / FAQ項目が見つかりません")
    entry = _with_alternatives(existing, body.texts)
    _save(request, session, staff, entry, [], existing)
    return entry.to_json()


@router.get("/feedback")
def feedback(
    request: Request, session: SessionDep, _: StaffDep, limit: Annotated[int, Query(ge=1, le=100)] = 20
) -> Any:
    """Entries by 👎 (most first), with the questions whose answer got the 👎."""
    service = _service(request)
    out = []
    for v in answer_log.votes(session)[:limit]:
        entry = service.entry(v.entry_id)
        out.append(
            {
                "entry_id": v.entry_id,
                "question": entry.question if entry is not None else None,
                "helpful": v.helpful,
                "not_helpful": v.not_helpful,
                "questions": answer_log.downvoted_questions(session, v.entry_id),
            }
        )
    return out


@router.get("/picks")
def picks(
    request: Request, session: SessionDep, _: StaffDep, limit: Annotated[int, Query(ge=1, le=200)] = 50
) -> Any:
    """Questions whose offered suggestion residents picked, with how often (most first)."""
    service = _service(request)
    out = []
    for p in answer_log.picked_suggestions(session, limit=limit):
        entry = service.entry(p.entry_id, lang=p.lang)
        known = entry is not None and p.question in (entry.question, *entry.alternatives)
        out.append(
            {
                "question": p.question,
                "lang": p.lang,
                "entry_id": p.entry_id,
                "entry_question": entry.question if entry is not None else None,
                "count": p.count,
                "last_seen": p.last_seen,
                "already_alternative": known,
            }
        )
    return out


def _month(month: str | None) -> str:
    chosen = month or monthly_report.this_month()
    try:
        monthly_report.month_range(chosen)
    except ValueError:
        raise HTTPException(422, "month must be YYYY-MM / 月は YYYY-MM の形式で指定してください") from None
    return chosen


@router.get("/report")
def report(request: Request, session: SessionDep, _: StaffDep, month: str | None = None) -> Any:
    """The monthly report (default: this month in Japan time) with the previous month beside it."""
    return monthly_report.report(session, _month(month), _weight(request))


@router.get("/report.csv")
def report_csv(request: Request, session: SessionDep, _: StaffDep, month: str | None = None) -> Response:
    chosen = _month(month)
    data = monthly_report.report(session, chosen, _weight(request))
    return Response(
        monthly_report.to_csv(data),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="faq-report-{chosen}.csv"'},
    )
