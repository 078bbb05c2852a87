"""The staff console page `/posts`: compose a post, preview it on every channel, schedule it, and follow
its deliveries. The page is a thin client of the JSON API (`notifier.posts_api`); everything it shows or
changes goes through the same endpoints, checks and roles as any other API client."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse

from app.auth import EDITOR_ROLES, OptionalStaffDep, sign_in_redirect
from app.templating import render
from app.topics import LANGUAGES
from notifier.channels.channel_registry import CHANNELS, missing_credentials
from notifier.demo_platforms import ChannelSettingsDep

router = APIRouter(include_in_schema=False)


@router.get("/posts", response_class=HTMLResponse)
def posts_page(request: Request, settings: ChannelSettingsDep, staff: OptionalStaffDep) -> Response:
    if staff is None:
        return sign_in_redirect(request)
    channels = [
        {
            "name": name,
            "label": cls.label,
            "limit": cls.limit,
            "unit": cls.unit,
            "missing": missing_credentials(name, settings),
        }
        for name, cls in CHANNELS.items()
    ]
    context: dict[str, Any] = {
        "channels": channels,
        "topics": [
            {"id": t.id, "labels": {lang: t.label(lang) for lang in LANGUAGES}} for t in settings.topics
        ],
        "can_edit": staff.role in EDITOR_ROLES,
        "active": "posts",
    }
    return render(request, "pages/posts.html.j2", context)
