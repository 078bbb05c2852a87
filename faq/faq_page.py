"""The staff FAQ page `/faq`: try a question as residents would ask it, review the questions the FAQ
could not answer, edit entries and import files, and run the improvement loop (groups of unanswered
questions, 👎 entries, picked suggestions, the monthly report). A thin client of the JSON API
(`faq.faq_api`, `faq.improve_api`): same checks, same roles."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse

from app.auth import EDITOR_ROLES, OptionalStaffDep, sign_in_redirect
from app.templating import render

router = APIRouter(include_in_schema=False)

# The page's scripts and styles are files of this origin: no inline script, no style attribute.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


@router.get("/faq", response_class=HTMLResponse)
def faq_page(request: Request, staff: OptionalStaffDep) -> Response:
    if staff is None:
        return sign_in_redirect(request)
    page = render(request, "pages/faq.html.j2", {"can_edit": staff.role in EDITOR_ROLES, "active": "faq"})
    page.headers["Content-Security-Policy"] = CSP
    return page
