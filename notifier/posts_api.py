"""Staff JSON API for posts: `/api/v1/posts…` (create, preview, schedule, edit, duplicate, cancel, list,
calendar, audience) and the delivery health. Reads need a staff session; changes need the editor role.
Times are returned in Asia/Tokyo (whole seconds); input times must carry an offset. Refusals name the
field in words, Japanese first (`notifier.problem_texts`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Coroutine, Iterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from app.auth import EditorDep, StaffDep
from app.deps import RowId, SessionDep
from bot.audience import subscriber_count
from notifier import delivery_health, post_calendar, post_ledger
from notifier.compose import (
    EXAMPLE,
    ComposeError,
    PostIn,
    field_name,
    prepare,
    prime_limits,
    pydantic_problem,
)
from notifier.demo_platforms import ChannelSettingsDep
from notifier.ledger_tables import POST_STATES, Post
from notifier.post_views import post_view
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


class ScheduleIn(BaseModel):
    """Schedule a draft; omit `scheduled_at` to keep its time (a draft without one goes out now),
    null = now."""

    model_config = ConfigDict(extra="forbid")
    scheduled_at: AwareDatetime | None = None


class ResolveIn(BaseModel):
    """A person's decision on an `unknown` (or `failed`) delivery."""

    model_config = ConfigDict(extra="forbid")
    outcome: Literal["sent", "resend", "failed"]
    platform_id: str | None = Field(default=None, max_length=200)


@router.post(
    "/posts",
    status_code=201,
    responses=ERRORS,
    summary="Create (and schedule) a post",
    dependencies=COMPOSES + WAKES,
)
def create_post(body: PostCreate, staff: EditorDep, session: SessionDep, settings: ChannelSettingsDep) -> Any:
    author = staff.username
    data = PostIn.model_validate(body.model_dump(exclude={"draft"}))
    post = post_ledger.create_post(
        session, prepare(data, settings, utcnow()), author=author, draft=body.draft
    )
    session.commit()
    return saved(session, post.id)


@router.post(
    "/posts/preview",
    responses=ERRORS,
    summary="Preview a post on every chosen channel",
    dependencies=COMPOSES,
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


@router.get("/posts", responses=ERRORS, summary="List posts with their deliveries, newest first")
def list_posts(
    staff: StaffDep,
    session: SessionDep,
    state: Literal[POST_STATES] | None = None,  # type: ignore[valid-type]
    limit: int = Query(50, ge=1, le=200),
    before_id: int | None = Query(None, ge=1, le=2**63 - 1, description="Page: posts with a smaller id"),
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
    post = post_ledger.load(session, post_id)
    return preview(
        post_ledger.as_input(post, scheduled_at=None), settings, utcnow(), subscribers_of(session, post)
    )


@router.put(
    "/posts/{post_id}",
    responses=ERRORS,
    summary="Edit a post until a delivery starts",
    dependencies=COMPOSES + WAKES,
)
def edit_post(
    post_id: RowId, body: PostIn, staff: EditorDep, session: SessionDep, settings: ChannelSettingsDep
) -> Any:
    post = post_ledger.edit_post(session, post_id, body, settings, utcnow())
    session.commit()
    return saved(session, post.id)


@router.post(
    "/posts/{post_id}/schedule", responses=ERRORS, summary="Schedule a draft", dependencies=COMPOSES + WAKES
)
def schedule_post(
    post_id: RowId,
    staff: EditorDep,
    session: SessionDep,
    settings: ChannelSettingsDep,
    body: Annotated[ScheduleIn | None, Body()] = None,
) -> Any:
    when = body.scheduled_at if body is not None and "scheduled_at" in body.model_fields_set else "keep"
    post = post_ledger.schedule_post(session, post_id, settings, utcnow(), scheduled_at=when)
    session.commit()
    return saved(session, post.id)


@router.post(
    "/posts/{post_id}/duplicate", status_code=201, responses=ERRORS, summary="Copy a post into a new draft"
)
def duplicate_post(post_id: RowId, staff: EditorDep, session: SessionDep) -> dict[str, Any]:
    """A new draft with the post's content, channels and texts, and no time."""
    post = post_ledger.duplicate_post(session, post_id, author=staff.username)
    session.commit()
    return saved(session, post.id)


@router.post("/posts/{post_id}/cancel", responses=ERRORS, summary="Cancel a post until a delivery starts")
def cancel_post(post_id: RowId, staff: EditorDep, session: SessionDep) -> dict[str, Any]:
    post = post_ledger.cancel_post(session, post_id)
    session.commit()
    return post_view(post_ledger.load(session, post.id), utcnow())


@router.post(
    "/deliveries/{delivery_id}/resolve",
    responses=ERRORS,
    summary="Resolve an unknown or failed delivery",
    dependencies=WAKES,
)
def resolve_delivery(
    delivery_id: RowId, body: ResolveIn, staff: EditorDep, session: SessionDep
) -> dict[str, Any]:
    who = staff.username
    delivery = post_ledger.resolve_delivery(
        session, delivery_id, body.outcome, by=who, now=utcnow(), platform_id=body.platform_id
    )
    session.commit()
    return post_view(post_ledger.load(session, delivery.post_id), utcnow())


@router.get("/notifier/status", responses=ERRORS, summary="Workers alive, overdue deliveries, rate limits")
def notifier_status(staff: StaffDep, session: SessionDep) -> dict[str, Any]:
    return delivery_health.full(session, utcnow())
