"""The emergency template library for staff (`notifier.emergency_templates`, edits and reviews in
`notifier.template_revisions`). A post is made from a template with `POST /api/v1/posts` and
`"template": {"id", "slots"}` (`notifier.compose.TemplateRef`), filled from the effective texts.

- `GET /api/v1/emergency-templates` (signed in): `[{"id", "title", "slots", "languages", "reviewed":
  {lang: "YYYY-MM-DD" or null}, "reviewed_by": {lang: name or null}, "awaiting_approval": [lang]}]`.
- `GET /api/v1/emergency-templates/awaiting-approval`: the edits waiting for approval, oldest first.
- `GET /api/v1/emergency-templates/{id}`: per language the effective text, review, open and rejected edit.
- `PUT /api/v1/emergency-templates/{id}/texts/{lang}` (editor): `{"title", "body", "draft"}`.
- `POST /api/v1/emergency-templates/{id}/revisions/{revision}/approve` and `…/reject` `{"reason"}`
  (approver or admin; nobody approves their own edit).
- `POST /api/v1/emergency-templates/{id}/texts/{lang}/reviewed` `{"revision": n or null}` (approver or
  admin): the text in force (that revision, null = the shipped text) was checked by a person.

Every change is recorded in the audit log (`emergency_template`, the template id) in its transaction.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy.orm import Session

from app import audit
from app.auth import ApproverDep, EditorDep, StaffDep
from app.deps import RowId, SessionDep, SettingsDep
from app.staff_tables import StaffUser
from notifier import template_revisions as revisions
from notifier.emergency_templates import BODY_MAX
from notifier.posts_api import ProblemRoute, ReasonIn
from storage.base import utcnow
from storage.db import storable

router = APIRouter(prefix="/api/v1", tags=["notifier"], route_class=ProblemRoute)

TemplateId = Annotated[str, Path(pattern=r"^[a-z0-9-]{1,64}$")]
Lang = Annotated[str, Path(min_length=2, max_length=8)]
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Not signed in"},
    403: {"description": "Role missing, or your own edit"},
    404: {"description": "No such template, language or revision"},
    409: {"description": "Not waiting for approval, or the text changed since it was read"},
    422: {"description": "The text lacks a slot, names an unknown one, or is too long"},
}


class TextEdit(BaseModel):
    """One language's edited text; `draft` saves it without asking for approval."""

    model_config = ConfigDict(extra="forbid")
    title: str = Field(max_length=BODY_MAX)  # the real caps are checked by `text_problems`, by name
    body: str = Field(max_length=BODY_MAX * 2)
    draft: bool = False

    _texts = field_validator("title", "body")(storable)


class ReviewedIn(BaseModel):
    """The text the reviewer checked: its revision, or null for the shipped text."""

    model_config = ConfigDict(extra="forbid")
    revision: int | None = Field(ge=1)


def _done(
    session: Session, request: Request, staff: StaffUser, action: str, template_id: str, summary: Any
) -> dict[str, Any]:
    """Record the change in the audit log, commit both, and answer the template as `GET` does."""
    audit.record(
        session,
        audit.Actor.of(staff),
        audit.Origin.of(request),
        action,
        "emergency_template",
        template_id,
        audit.masked(summary),
    )
    session.commit()
    return revisions.detail(session, template_id)


@router.get("/emergency-templates", summary="Emergency templates with their slots, languages and reviews")
def emergency_templates(staff: StaffDep, session: SessionDep) -> list[dict[str, Any]]:
    """`[{"id", "title", "slots", "languages", "reviewed": {lang: "YYYY-MM-DD" or null}, "reviewed_by",
    "awaiting_approval"}]`: titles and reviews of the effective texts."""
    return revisions.listings(session)


@router.get("/emergency-templates/awaiting-approval", summary="Template edits waiting for approval")
def awaiting_approval(staff: StaffDep, session: SessionDep) -> list[dict[str, Any]]:
    return [revisions.revision_view(rev) for rev in revisions.waiting(session)]


@router.get("/emergency-templates/{template_id}", responses=ERRORS, summary="One template in every language")
def emergency_template(template_id: TemplateId, staff: StaffDep, session: SessionDep) -> dict[str, Any]:
    return revisions.detail(session, template_id)


@router.put(
    "/emergency-templates/{template_id}/texts/{lang}",
    responses=ERRORS,
    summary="Edit one language's text (waits for approval when APPROVAL_REQUIRED)",
)
def edit_text(
    request: Request,
    template_id: TemplateId,
    lang: Lang,
    body: TextEdit,
    staff: EditorDep,
    session: SessionDep,
    settings: SettingsDep,
) -> dict[str, Any]:
    rev, replaced = revisions.save_edit(
        session,
        template_id,
        lang,
        body.title,
        body.body,
        utcnow(),
        by=staff.username,
        draft=body.draft,
        approval_required=settings.approval_required,
    )
    summary = revisions.audit_summary(rev, replaced)
    return _done(session, request, staff, "emergency_template.edit", template_id, summary)


@router.post(
    "/emergency-templates/{template_id}/revisions/{revision_id}/approve",
    responses=ERRORS,
    summary="Approve an edit waiting for approval (not your own)",
)
def approve_text(
    request: Request, template_id: TemplateId, revision_id: RowId, staff: ApproverDep, session: SessionDep
) -> dict[str, Any]:
    rev = revisions.approve(session, template_id, revision_id, utcnow(), by=staff.username)
    return _done(
        session, request, staff, "emergency_template.approve", template_id, revisions.audit_summary(rev)
    )


@router.post(
    "/emergency-templates/{template_id}/revisions/{revision_id}/reject",
    responses=ERRORS,
    summary="Reject an edit waiting for approval, with the reason",
)
def reject_text(
    request: Request,
    template_id: TemplateId,
    revision_id: RowId,
    body: ReasonIn,
    staff: ApproverDep,
    session: SessionDep,
) -> dict[str, Any]:
    rev = revisions.reject(session, template_id, revision_id, utcnow(), by=staff.username, reason=body.reason)
    return _done(
        session, request, staff, "emergency_template.reject", template_id, revisions.audit_summary(rev)
    )


@router.post(
    "/emergency-templates/{template_id}/texts/{lang}/reviewed",
    responses=ERRORS,
    summary="Mark the language's text in force as reviewed by you",
)
def mark_reviewed(
    request: Request,
    template_id: TemplateId,
    lang: Lang,
    body: ReviewedIn,
    staff: ApproverDep,
    session: SessionDep,
) -> dict[str, Any]:
    mark = revisions.mark_reviewed(session, template_id, lang, body.revision, utcnow(), by=staff.username)
    summary = {"language": lang, "revision": mark.revision_id}
    return _done(session, request, staff, "emergency_template.review", template_id, summary)
