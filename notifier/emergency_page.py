"""The staff page `/emergency`: pick an emergency template, fill its slots once, preview every language
on every channel with its count, and send (editors). A thin client of `GET /api/v1/emergency-templates`,
`POST /api/v1/posts/preview` and `POST /api/v1/posts`; languages nobody reviewed yet are marked."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse

from app.auth import EDITOR_ROLES, OptionalStaffDep, sign_in_redirect
from app.templating import render
from notifier.emergency_templates import languages_named, library
from notifier.posts_api import COMPOSES

router = APIRouter(include_in_schema=False)


@router.get("/emergency", response_class=HTMLResponse, dependencies=COMPOSES)
def emergency_page(request: Request, staff: OptionalStaffDep) -> Response:
    if staff is None:
        return sign_in_redirect(request)
    context = {
        "templates": [t.listing() for t in library().values()],
        "language_names": languages_named(),
        "topics": request.app.state.settings.topics,
        "can_edit": staff.role in EDITOR_ROLES,
        "active": "emergency",
    }
    return render(request, "pages/emergency.html.j2", context)
