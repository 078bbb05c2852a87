"""The staff console page `/posts`: compose a post, preview it on every channel, schedule it, edit or
duplicate it, and follow its deliveries. The page is a thin client of the JSON API
(`notifier.posts_api`); everything it shows or changes goes through the same endpoints, checks and
roles as any other API client. `/posts/calendar` draws the week or month of posts (it only reads)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse

from app.auth import APPROVER_ROLES, EDITOR_ROLES, OptionalStaffDep, sign_in_redirect
from app.deps import SessionDep
from app.templating import render
from notifier.channels.channel_registry import CHANNELS, missing_credentials
from notifier.demo_platforms import ChannelSettingsDep
from notifier.post_calendar import View, load_calendar
from notifier.posts_api import COMPOSES
from storage.base import utcnow

router = APIRouter(include_in_schema=False)
STAFF_LANGUAGES = ("ja", "en")  # the staff page's own languages (its topic labels)


@router.get("/posts", response_class=HTMLResponse, dependencies=COMPOSES)
def posts_page(request: Request, settings: ChannelSettingsDep, staff: OptionalStaffDep) -> Response:
    if staff is None:
        return sign_in_redirect(request)
    channels = [
        {
            "name": name,
            "label": cls.label,
            "limit": (limits := cls.limits(settings)).limit,
            "unit": limits.unit,
            "missing": missing_credentials(name, settings),
            "mode": cls.mode(settings),
        }
        for name, cls in CHANNELS.items()
    ]
    context: dict[str, Any] = {
        "channels": channels,
        "topics": [
            {"id": t.id, "labels": {lang: t.label(lang) for lang in STAFF_LANGUAGES}} for t in settings.topics
        ],
        "can_edit": staff.role in EDITOR_ROLES,
        "can_approve": staff.role in APPROVER_ROLES,
        "approval_required": settings.approval_required,
        "active": "posts",
    }
    return render(request, "pages/posts.html.j2", context)


WEEKDAYS = (
    ("月", "Mon"),
    ("火", "Tue"),
    ("水", "Wed"),
    ("木", "Thu"),
    ("金", "Fri"),
    ("土", "Sat"),
    ("日", "Sun"),
)
STATE_WORDS = {
    "pending": "予約 / scheduled",
    "sending": "送信中 / sending",
    "sent": "送信済み / sent",
    "failed": "失敗 / failed",
    "unknown": "要確認 / check",
    "cancelled": "取消 / cancelled",
}


def calendar_link(view: View, day: dt.date, channel: str | None) -> str:
    query = {"view": view, "date": day.isoformat(), **({"channel": channel} if channel else {})}
    return f"/posts/calendar?{urlencode(query)}"


@router.get("/posts/calendar", response_class=HTMLResponse)
def calendar_page(
    request: Request,
    session: SessionDep,
    staff: OptionalStaffDep,
    view: View = "week",
    day: Annotated[dt.date | None, Query(alias="date")] = None,
    channel: Annotated[str | None, Query(max_length=16)] = None,
) -> Response:
    """The week or month of scheduled and sent posts, in Japan time, per channel."""
    if staff is None:
        return sign_in_redirect(request)
    chosen = channel if channel in CHANNELS else None
    cal = load_calendar(session, view, day, utcnow(), channel=chosen)
    context: dict[str, Any] = {
        "active": "calendar",
        "cal": cal,
        "weekdays": WEEKDAYS,
        "states": STATE_WORDS,
        "labels": {name: cls.label for name, cls in CHANNELS.items()},
        "links": {
            "previous": calendar_link(view, cal.previous, chosen),
            "next": calendar_link(view, cal.following, chosen),
            "today": calendar_link(view, cal.today, chosen),
            "week": calendar_link("week", cal.start, chosen),
            "month": calendar_link("month", cal.start, chosen),
        },
    }
    return render(request, "pages/calendar.html.j2", context)
