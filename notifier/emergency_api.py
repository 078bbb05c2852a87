"""`GET /api/v1/emergency-templates`: the emergency template library for staff (signed in), each with its
slots, languages and per-language review date (null: not reviewed by a person yet). A post is made
from one with `POST /api/v1/posts` and `"template": {"id", "slots"}` (`notifier.compose.TemplateRef`)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from app.auth import StaffDep
from notifier.emergency_templates import library

router = APIRouter(prefix="/api/v1", tags=["notifier"])


@router.get("/emergency-templates", summary="Emergency templates with their slots, languages and reviews")
def emergency_templates(staff: StaffDep) -> list[dict[str, Any]]:
    """`[{"id", "title", "slots", "languages", "reviewed": {lang: "YYYY-MM-DD" or null}}]`."""
    return [template.listing() for template in library().values()]
