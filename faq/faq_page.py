"""The staff FAQ page `/faq`: try a question as residents would ask it, review the questions the FAQ
could not answer, edit entries and import files. A thin client of the JSON API (`faq.faq_api`): same
checks, same roles."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse

from app.auth import EDITOR_ROLES, OptionalStaffDep, sign_in_redirect
from app.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/faq", response_class=HTMLResponse)
def faq_page(request: Request, staff: OptionalStaffDep) -> Response:
    if staff is None:
        return sign_in_redirect(request)
    return render(request, "pages/faq.html.j2", {"can_edit": staff.role in EDITOR_ROLES, "active": "faq"})
