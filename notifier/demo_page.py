"""`/demo` (staff): what each demo channel's fake received, drawn the way residents would see it (a LINE
chat bubble, an X post, a Page post, a Mastodon status, a Bluesky post), newest first; and its JSON,
`GET /api/v1/demo/deliveries` → `[{"channel", "received_at", "text"}]`. Outside demo mode both are
empty: nothing was faked."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse

from app.auth import OptionalStaffDep, StaffDep, sign_in_redirect
from app.templating import render
from notifier.channels.channel_registry import CHANNELS
from notifier.demo_platforms import DemoPlatforms

router = APIRouter()


def _platforms(request: Request) -> DemoPlatforms:
    demo: DemoPlatforms | None = getattr(request.app.state, "demo_platforms", None)
    return demo if demo is not None else DemoPlatforms(())


@router.get("/api/v1/demo/deliveries", tags=["notifier"], summary="What the demo channels' fakes received")
def demo_deliveries(request: Request, _staff: StaffDep) -> list[dict[str, str]]:
    """Every text the app's fake platforms accepted in demo mode, newest first (times in Japan time)."""
    return [item.as_json() for item in _platforms(request).received()]


@router.get("/demo", response_class=HTMLResponse, include_in_schema=False)
def demo_view(request: Request, staff: OptionalStaffDep) -> Response:
    if staff is None:
        return sign_in_redirect(request)
    names = _platforms(request).names
    channels = [{"name": n, "label": CHANNELS[n].label} for n in names]
    labels = {n: CHANNELS[n].label for n in CHANNELS}
    return render(request, "pages/demo.html.j2", {"active": "demo", "channels": channels, "labels": labels})
