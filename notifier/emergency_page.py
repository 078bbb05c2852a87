"""The staff pages of the emergency templates.

- `/emergency`: pick a template, fill its slots once, preview every language on every channel with its
  count, and send (editors). A thin client of `GET /api/v1/emergency-templates`,
  `POST /api/v1/posts/preview` and `POST /api/v1/posts`; languages nobody reviewed yet are marked.
- `/emergency/templates?id=…`: one template's text in every language with its review (unreviewed ones
  marked), the edit waiting for approval, an edit form per language (editors), approve / reject /
  mark-reviewed buttons (approvers and admins), and every edit waiting for approval. The buttons call
  `notifier.emergency_api`; the page is drawn on the server.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse

from app.auth import APPROVER_ROLES, EDITOR_ROLES, OptionalStaffDep, sign_in_redirect
from app.deps import SessionDep
from app.templating import render
from notifier import template_revisions
from notifier.emergency_templates import languages_named, library
from notifier.posts_api import COMPOSES

router = APIRouter(include_in_schema=False)


@router.get("/emergency", response_class=HTMLResponse, dependencies=COMPOSES)
def emergency_page(request: Request, staff: OptionalStaffDep, session: SessionDep) -> Response:
    if staff is None:
        return sign_in_redirect(request)
    context = {
        "templates": template_revisions.listings(session),
        "language_names": languages_named(),
        "topics": request.app.state.settings.topics,
        "can_edit": staff.role in EDITOR_ROLES,
        "active": "emergency",
    }
    return render(request, "pages/emergency.html.j2", context)


TemplateChoice = Annotated[str | None, Query(alias="id", max_length=64)]


@router.get("/emergency/templates", response_class=HTMLResponse)
def template_texts_page(
    request: Request, staff: OptionalStaffDep, session: SessionDep, template_id: TemplateChoice = None
) -> Response:
    if staff is None:
        return sign_in_redirect(request)
    listed = template_revisions.listings(session)
    chosen = template_id if template_id in library() else listed[0]["id"]
    waiting = [template_revisions.revision_view(rev) for rev in template_revisions.waiting(session)]
    titles = {t["id"]: t["title"] for t in listed}
    context = {
        "templates": listed,
        "template": template_revisions.detail(session, str(chosen)),
        "waiting": [{**rev, "template_title": titles.get(rev["template_id"], "")} for rev in waiting],
        "can_edit": staff.role in EDITOR_ROLES,
        "can_approve": staff.role in APPROVER_ROLES,
        "approval_required": request.app.state.settings.approval_required,
        "active": "emergency",
    }
    return render(request, "pages/emergency_texts.html.j2", context)
