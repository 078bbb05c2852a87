"""Staff JSON API for posts: `/api/v1/posts…` (create, preview, schedule, edit, duplicate, cancel, list,
calendar, audience) and the delivery health. Reads need a staff session; changes need the editor role.
Times are returned in Asia/Tokyo (whole seconds); input times must carry an offset. Refusals name the
field in words, Japanese first (`notifier.problem_texts`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Coroutine, Iterator
from functools import partial
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from app import audit
from app.auth import APPROVER_ROLES, ApproverDep, EditorDep, StaffDep
from app.deps import MAX_ROW_ID, RowId, SessionDep
from app.staff_tables import StaffUser
from bot.audience import subscriber_count
from notifier import delivery_health, post_approval, post_calendar, post_ledger, template_revisions
from notifier.compose import (
    EXAMPLE,
    TEMPLATE_TEXTS,
    ComposeError,
    PostIn,
    field_name,
    prepare,
    prime_limits,
    pydantic_problem,
)
from notifier.demo_platforms import ChannelSettingsDep
from notifier.ledger_tables import POST_STATES, Post
from notifier.post_views import audit_fields, post_view
from notifier.preview import audience_warnings, preview
from storage.base import utcnow

CalendarDay = Annotated[
    dt.date | None, Query(alias="date", description="A day in the week or month (JST); default today")
]


class ProblemRoute(APIRoute):
    """Errors in one place: invalid request bodies and refused posts (`ComposeError`) answer 422 with
    `detail: [{"field", "message"}]` (FastAPI's `loc`/`msg`/`type` kept alongside for the former);
    `LedgerError` answers its status. Nothing is committed then: the request's session rolls back."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except RequestValidationError as exc:
                return JSONResponse({"detail": [_problem(e) for e in exc.errors()]}, 422)
            except ComposeError as exc:
                problems = [{"field": p.field, "message": p.message} for p in exc.problems]
                return JSONResponse({"detail": problems}, 422)
            except post_ledger.LedgerError as exc:
                return JSONResponse({"detail": str(exc)}, exc.status)

        return route


def _problem(error: Any) -> dict[str, Any]:
    loc = tuple(error.get("loc", ()))
    where = loc[1:] if loc[:1] == ("body",) else loc
    problem = pydantic_problem(where, error)
    msg = str(error.get("msg", ""))
    return {
        "field": field_name(where),
        "message": problem.message,
        "loc": list(loc),
        "msg": msg,
        "type": error.get("type"),
    }


def subscribers_of(session: Session, post: PostIn | Post) -> int | None:
    """The LINE audience of a topic post (None when LINE or a topic is not chosen)."""
    if post.topic is None or "line" not in post.channels:
        return None
    return subscriber_count(session, post.topic)


def saved(session: Session, post_id: int) -> dict[str, Any]:
    """The stored post for the staff API, with the warnings of `notifier.preview.audience_warnings`."""
    post = post_ledger.load(session, post_id)
    view = post_view(post, utcnow())
    view["warnings"] = audience_warnings(post_ledger.as_input(post), subscribers_of(session, post))
    return view


router = APIRouter(prefix="/api/v1", tags=["notifier"], route_class=ProblemRoute)


def wake_worker(request: Request) -> Iterator[None]:
    """After a change that may make something due now: the in-app worker looks at once, not at its
    next poll (standalone workers find it at theirs)."""
    yield
    worker = getattr(request.app.state, "notifier_worker", None)
    if worker is not None:
        worker.wake()


WAKES = [Depends(wake_worker)]


def limits_first(settings: ChannelSettingsDep) -> None:
    """Before a route that composes: read the channels' text limits (a platform call the first time),
    so that composing later never waits for a platform while the request holds a database connection
    (route dependencies run before the session is first used)."""
    prime_limits(settings)


COMPOSES = [Depends(limits_first)]


async def effective_templates(request: Request) -> None:
    """Before a route whose body may name an emergency template: its approved edits in force are read
    (one small query) so that the body is filled from them while FastAPI validates it (route
    dependencies run before the body is parsed, in the same context)."""
    TEMPLATE_TEXTS.set(await request.app.state.db.read(template_revisions.effective_texts))


FILLS = [Depends(effective_templates)]

EMERGENCY_ROLE = "緊急公開は承認者か管理者だけができます / only an approver or admin may publish an emergency"

ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Not signed in"},
    403: {"description": "Editor role required"},
    404: {"description": "No such post"},
    409: {"description": "A delivery has already started, or the post is cancelled"},
    422: {"description": "Invalid post: `detail` lists each field and the problem"},
}


class PostCreate(PostIn):
    """POST.json, optionally saved as a draft (no deliveries until scheduled)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{**EXAMPLE, "draft": False}]})
    draft: bool = False
    # an approver or admin publishes an emergency post at once, saying why (APPROVAL_REQUIRED)
    emergency_reason: str | None = Field(default=None, min_length=1, max_length=1000)


class ScheduleIn(BaseModel):
    """Schedule a draft; omit `scheduled_at` to keep its time (a draft without one goes out now),
    null = now."""

    model_config = ConfigDict(extra="forbid")
    scheduled_at: AwareDatetime | None = None


class ReasonIn(BaseModel):
    """Why a post is rejected, or why an emergency goes out without a second person."""

    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=1000)


class ResolveIn(BaseModel):
    """A person's decision on an `unknown` (or `failed`) delivery."""

    model_config = ConfigDict(extra="forbid")
    outcome: Literal["sent", "resend", "failed"]
    platform_id: str | None = Field(default=None, max_length=200)


def audited(
    session: Session,
    request: Request,
    staff: StaffUser,
    action: str,
    post: Post,
    before: dict[str, Any] | None = None,
    note: str | None = None,
) -> None:
    """Record a post action in the audit log (same transaction): the fields it changed, masked."""
    summary: dict[str, Any] = {"changes": audit.changes(before or {}, audit_fields(post))}
    if note:
        summary["note"] = audit.masked(note)
    audit.record(session, audit.Actor.of(staff), audit.Origin.of(request), action, "post", post.id, summary)


@router.post(
    "/posts",
    status_code=201,
    responses=ERRORS,
    summary="Create (and schedule, or submit for approval) a post",
    dependencies=COMPOSES + FILLS + WAKES,
)
def create_post(
    request: Request, body: PostCreate, staff: EditorDep, session: SessionDep, settings: ChannelSettingsDep
) -> Any:
    """With APPROVAL_REQUIRED a post that is not a draft is submitted (`awaiting_approval`) instead of
    scheduled; with `emergency_reason` an approver or admin publishes an emergency post at once."""
    if body.emergency_reason is not None and staff.role not in APPROVER_ROLES:
        raise post_ledger.LedgerError(EMERGENCY_ROLE, status=403)
    data = PostIn.model_validate(body.model_dump(exclude={"draft", "emergency_reason"}))
    now = utcnow()
    emergency = body.emergency_reason is not None and settings.approval_required
    post = post_ledger.create_post(
        session,
        prepare(data, settings, now),
        author=staff.username,
        draft=body.draft or emergency,
        approval_required=settings.approval_required,
        now=now,
    )
    audited(session, request, staff, "post.create", post)
    if emergency:
        post = post_approval.emergency(
            session, post.id, settings, now, by=staff.username, reason=str(body.emergency_reason)
        )
        audited(session, request, staff, "post.emergency", post, note=body.emergency_reason)
    elif post.state == "awaiting_approval":
        audited(session, request, staff, "post.submit", post)
    elif post.state == "scheduled":
        audited(session, request, staff, "post.schedule", post)
    session.commit()
    return saved(session, post.id)


@router.post(
    "/posts/preview",
    responses=ERRORS,
    summary="Preview a post on every chosen channel",
    dependencies=COMPOSES + FILLS,
)
def preview_new(
    body: PostIn, staff: StaffDep, session: SessionDep, settings: ChannelSettingsDep
) -> dict[str, Any]:
    return preview(body, settings, utcnow(), subscribers_of(session, body))


@router.get("/posts/audience", responses=ERRORS, summary="How many residents a LINE topic push reaches")
def audience(
    staff: StaffDep, session: SessionDep, topic: str = Query(min_length=1, max_length=32)
) -> dict[str, Any]:
    """`{"topic", "subscribers"}`: the residents subscribed to `topic` (0: a push reaches nobody)."""
    return {"topic": topic, "subscribers": subscriber_count(session, topic)}


@router.get("/posts/calendar", responses=ERRORS, summary="Scheduled and sent posts per day and channel (JST)")
def calendar(
    staff: StaffDep,
    session: SessionDep,
    view: Literal["week", "month"] = "week",
    day: CalendarDay = None,
    channel: Annotated[str | None, Query(description="Only this channel", max_length=16)] = None,
) -> dict[str, Any]:
    """The days of the week or month around `date` (Japan time), each with the scheduled and sent posts
    of that day: title, time, and each channel's delivery state."""
    found = post_calendar.load_calendar(session, view, day, utcnow(), channel=channel)
    return found.as_json()


@router.get(
    "/posts/approvals", responses=ERRORS, summary="What waits for approval, and emergencies to review"
)
def approvals(staff: StaffDep, session: SessionDep, settings: ChannelSettingsDep) -> dict[str, Any]:
    """`waiting`: posts awaiting approval, longest-waiting first, each with `waited_too_long` (longer
    than APPROVAL_WAIT_WARNING_MINUTES) and `can_approve` (for the signed-in person);
    `to_review`: emergencies published without a second person, until someone else marks them reviewed."""
    now = utcnow()
    approver = staff.role in APPROVER_ROLES

    def entry(post: Post, can: bool) -> dict[str, Any]:
        return {
            **post_view(post, now),
            "waited_too_long": post_approval.waited_too_long(post, settings, now),
            "can_act": can,
        }

    return {
        "approval_required": settings.approval_required,
        "warning_minutes": settings.approval_wait_warning_minutes,
        "waiting": [
            entry(p, approver and not post_approval.own(p, staff.username))
            for p in post_approval.waiting(session)
        ],
        "to_review": [
            entry(p, approver and staff.username not in (p.decided_by, p.author))
            for p in post_approval.to_review(session)
        ],
    }


@router.get("/posts", responses=ERRORS, summary="List posts with their deliveries, newest first")
def list_posts(
    staff: StaffDep,
    session: SessionDep,
    state: Literal[POST_STATES] | None = None,  # type: ignore[valid-type]
    limit: int = Query(50, ge=1, le=200),
    before_id: int | None = Query(None, ge=1, le=MAX_ROW_ID, description="Page: posts with a smaller id"),
) -> dict[str, Any]:
    now = utcnow()
    posts = post_ledger.list_posts(session, state=state, limit=limit, before_id=before_id)
    return {"posts": [post_view(p, now) for p in posts]}


@router.get("/posts/{post_id}", responses=ERRORS, summary="A post and its deliveries")
def get_post(post_id: RowId, staff: StaffDep, session: SessionDep) -> dict[str, Any]:
    return post_view(post_ledger.load(session, post_id), utcnow())


@router.get(
    "/posts/{post_id}/preview", responses=ERRORS, summary="Preview a stored post", dependencies=COMPOSES
)
def preview_post(
    post_id: RowId, staff: StaffDep, session: SessionDep, settings: ChannelSettingsDep
) -> dict[str, Any]:
    """What each channel will publish: what an approver checks before approving."""
    post = post_ledger.load(session, post_id)
    return preview(
        post_ledger.as_input(post, scheduled_at=None), settings, utcnow(), subscribers_of(session, post)
    )


def _before(session: Session, post_id: int) -> dict[str, Any]:
    """The post's audited fields before a change. Everything loaded is expired again: the change
    reads the rows afresh under its locks (`post_ledger.lock_unstarted`), never from this read."""
    fields = audit_fields(post_ledger.load(session, post_id))
    session.expire_all()
    return fields


def changed(
    session: Session,
    request: Request,
    staff: StaffUser,
    action: str,
    post_id: int,
    change: Callable[[], Post],
    note: str | None = None,
) -> dict[str, Any]:
    """Make one change to a stored post, record it in the audit log with what it changed, commit, and
    answer the post as saved."""
    before = _before(session, post_id)
    post = change()
    audited(session, request, staff, action, post, before, note)
    session.commit()
    return saved(session, post.id)


@router.put(
    "/posts/{post_id}",
    responses=ERRORS,
    summary="Edit a post until a delivery starts (an approved post goes back for approval)",
    dependencies=COMPOSES + FILLS + WAKES,
)
def edit_post(
    request: Request,
    post_id: RowId,
    body: PostIn,
    staff: EditorDep,
    session: SessionDep,
    settings: ChannelSettingsDep,
) -> Any:
    def change() -> Post:
        return post_ledger.edit_post(session, post_id, body, settings, utcnow(), by=staff.username)

    return changed(session, request, staff, "post.edit", post_id, change)


@router.post(
    "/posts/{post_id}/schedule",
    responses=ERRORS,
    summary="Schedule a draft (with APPROVAL_REQUIRED: submit it for approval)",
    dependencies=COMPOSES + WAKES,
)
def schedule_post(
    request: Request,
    post_id: RowId,
    staff: EditorDep,
    session: SessionDep,
    settings: ChannelSettingsDep,
    body: Annotated[ScheduleIn | None, Body()] = None,
) -> Any:
    when = body.scheduled_at if body is not None and "scheduled_at" in body.model_fields_set else "keep"
    by = staff.username
    if settings.approval_required:
        submit = partial(post_approval.submit, session, post_id, settings, utcnow(), by=by, scheduled_at=when)
        return changed(session, request, staff, "post.submit", post_id, submit)
    schedule = partial(post_ledger.schedule_post, session, post_id, settings, utcnow(), scheduled_at=when)
    return changed(session, request, staff, "post.schedule", post_id, schedule)


@router.post(
    "/posts/{post_id}/submit", responses=ERRORS, summary="Submit a draft for approval", dependencies=COMPOSES
)
def submit_post(
    request: Request, post_id: RowId, staff: EditorDep, session: SessionDep, settings: ChannelSettingsDep
) -> Any:
    """The draft waits (`awaiting_approval`) for an approver or admin other than its author."""
    submit = partial(post_approval.submit, session, post_id, settings, utcnow(), by=staff.username)
    return changed(session, request, staff, "post.submit", post_id, submit)


@router.post(
    "/posts/{post_id}/approve",
    responses={**ERRORS, 403: {"description": "Approver role required, or one's own post"}},
    summary="Approve a waiting post (not one's own): it is scheduled",
    dependencies=COMPOSES + WAKES,
)
def approve_post(
    request: Request, post_id: RowId, staff: ApproverDep, session: SessionDep, settings: ChannelSettingsDep
) -> Any:
    approve = partial(post_approval.approve, session, post_id, settings, utcnow(), by=staff.username)
    return changed(session, request, staff, "post.approve", post_id, approve)


@router.post(
    "/posts/{post_id}/reject",
    responses={**ERRORS, 403: {"description": "Approver role required"}},
    summary="Send a waiting post back to its author as a draft, with the reason",
)
def reject_post(
    request: Request, post_id: RowId, body: ReasonIn, staff: ApproverDep, session: SessionDep
) -> Any:
    reject = partial(post_approval.reject, session, post_id, utcnow(), by=staff.username, reason=body.reason)
    return changed(session, request, staff, "post.reject", post_id, reject)


@router.post(
    "/posts/{post_id}/emergency",
    responses={**ERRORS, 403: {"description": "Approver role required"}},
    summary="Publish an emergency post at once on one approver's word, with the reason",
    dependencies=COMPOSES + WAKES,
)
def emergency_post(
    request: Request,
    post_id: RowId,
    body: ReasonIn,
    staff: ApproverDep,
    session: SessionDep,
    settings: ChannelSettingsDep,
) -> Any:
    """Only for urgency `emergency`; the post is then listed "to review" until someone else marks it
    reviewed (`POST /api/v1/posts/{id}/reviewed`)."""
    publish = partial(
        post_approval.emergency, session, post_id, settings, utcnow(), by=staff.username, reason=body.reason
    )
    return changed(session, request, staff, "post.emergency", post_id, publish, body.reason)


@router.post(
    "/posts/{post_id}/reviewed",
    responses={**ERRORS, 403: {"description": "Approver role required, or one's own emergency"}},
    summary="Mark an emergency published without a second person as reviewed",
)
def reviewed_post(request: Request, post_id: RowId, staff: ApproverDep, session: SessionDep) -> Any:
    review = partial(post_approval.mark_reviewed, session, post_id, utcnow(), by=staff.username)
    return changed(session, request, staff, "post.reviewed", post_id, review)


@router.post(
    "/posts/{post_id}/duplicate", status_code=201, responses=ERRORS, summary="Copy a post into a new draft"
)
def duplicate_post(
    request: Request, post_id: RowId, staff: EditorDep, session: SessionDep, settings: ChannelSettingsDep
) -> dict[str, Any]:
    """A new draft with the post's content, channels and texts, and no time."""
    post = post_ledger.duplicate_post(
        session, post_id, author=staff.username, approval_required=settings.approval_required
    )
    audited(session, request, staff, "post.create", post, note=f"copy of post {post_id}")
    session.commit()
    return saved(session, post.id)


@router.post("/posts/{post_id}/cancel", responses=ERRORS, summary="Cancel a post until a delivery starts")
def cancel_post(request: Request, post_id: RowId, staff: EditorDep, session: SessionDep) -> dict[str, Any]:
    before = _before(session, post_id)
    post = post_ledger.cancel_post(session, post_id)
    audited(session, request, staff, "post.cancel", post, before)
    session.commit()
    return post_view(post_ledger.load(session, post.id), utcnow())


@router.post(
    "/deliveries/{delivery_id}/resolve",
    responses=ERRORS,
    summary="Resolve an unknown or failed delivery",
    dependencies=WAKES,
)
def resolve_delivery(
    request: Request, delivery_id: RowId, body: ResolveIn, staff: EditorDep, session: SessionDep
) -> dict[str, Any]:
    who = staff.username
    delivery = post_ledger.resolve_delivery(
        session, delivery_id, body.outcome, by=who, now=utcnow(), platform_id=body.platform_id
    )
    summary = {
        "changes": {"state": [None, delivery.state]},
        "note": f"delivery {delivery.id} ({delivery.channel}): {body.outcome}",
    }
    audit.record(
        session,
        audit.Actor.of(staff),
        audit.Origin.of(request),
        "post.resolve",
        "post",
        delivery.post_id,
        summary,
    )
    session.commit()
    return post_view(post_ledger.load(session, delivery.post_id), utcnow())


@router.get("/notifier/status", responses=ERRORS, summary="Workers alive, overdue deliveries, rate limits")
def notifier_status(staff: StaffDep, session: SessionDep) -> dict[str, Any]:
    return delivery_health.full(session, utcnow())
