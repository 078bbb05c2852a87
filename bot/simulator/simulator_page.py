"""`/simulator`: a chat page where a person plays a LINE user. What they type becomes a webhook event
that the server signs with the channel secret (which never reaches the browser) and sends through the
real `POST /line/webhook` of this app; the bot's replies arrive at the simulator's fake LINE server,
and the page polls for them. Without LINE credentials anyone may use it; with them, staff only.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from app.auth import current_staff
from app.staff_tables import StaffUser
from app.templating import render
from bot.intake.webhook_events import SIMULATOR_DESTINATION
from fakes import fake_line_events as ev

if TYPE_CHECKING:
    from bot.bot_area import BotRuntime

router = APIRouter(prefix="/simulator", tags=["simulator"])
SESSION_KEY = "simulator_user"
MAX_TEXT = 5000


class SendRequest(BaseModel):
    """What the person did in the page."""

    kind: Literal["text", "postback", "follow", "unfollow", "sticker", "image", "location"]
    text: str = Field(default="", max_length=MAX_TEXT)
    data: str = Field(default="", max_length=300)
    language: Literal["ja", "en"] = "ja"


def _runtime(request: Request) -> BotRuntime:
    runtime: BotRuntime = request.app.state.bot
    return runtime


def allowed(request: Request, staff: Annotated[StaffUser | None, Depends(current_staff)]) -> bool:
    """Anyone in simulator mode (no LINE credentials); signed-in staff when the bot is live."""
    return staff is not None or not _runtime(request).live


AllowedDep = Annotated[bool, Depends(allowed)]


def _require(ok: bool) -> None:
    if not ok:
        raise HTTPException(401, "staff sign-in required / 職員のログインが必要です")


def _user(request: Request, *, new: bool = False) -> str:
    user = request.session.get(SESSION_KEY)
    if new or not isinstance(user, str):
        user = "U" + secrets.token_hex(16)
        request.session[SESSION_KEY] = user
    return user


@router.get("", response_class=HTMLResponse, include_in_schema=False)
def page(request: Request, ok: AllowedDep) -> Response:
    if not ok:
        return RedirectResponse("/login?next=/simulator", status_code=303)
    return render(request, "pages/simulator.html.j2", {"live": _runtime(request).live})


@router.post("/api/send")
async def send(body: SendRequest, request: Request, ok: AllowedDep) -> dict[str, Any]:
    """Play one event as the simulated user through the signed webhook."""
    _require(ok)
    if body.kind == "text" and not body.text.strip():
        raise HTTPException(422, "text is empty / メッセージが空です")
    if body.kind == "postback" and not body.data:
        raise HTTPException(422, "postback data is empty")
    runtime = _runtime(request)
    user = _user(request)
    fake = runtime.simulator.fake
    await runtime.simulator.api()  # start the fake LINE server before the bot needs it
    if body.kind == "follow":
        fake.add_follower(user, "シミュレーター", body.language)
    token = fake.issue_reply_token(user)
    raw = ev.body([_event(body, user, token)], destination=SIMULATOR_DESTINATION)
    import httpx  # only the simulator needs it: a live bot does not load it

    transport = httpx.ASGITransport(app=request.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://simulator.internal") as client:
        answer = await client.post(
            "/line/webhook", content=raw, headers=ev.signed(raw, runtime.channel_secret)
        )
    return {"webhook_status": answer.status_code}


def _event(body: SendRequest, user: str, token: str) -> ev.Event:
    if body.kind == "text":
        return ev.text_event(user, body.text, token)
    if body.kind == "postback":
        return ev.postback_event(user, body.data, token)
    if body.kind == "follow":
        return ev.follow_event(user, token)
    if body.kind == "unfollow":
        return ev.unfollow_event(user)
    makers = {"sticker": ev.sticker_event, "image": ev.image_event, "location": ev.location_event}
    return makers[body.kind](user, token)


@router.get("/api/messages")
def messages(request: Request, ok: AllowedDep, after: Annotated[int, Query(ge=0)] = 0) -> dict[str, Any]:
    """The bot's messages to the simulated user from index `after` on."""
    _require(ok)
    delivered = _runtime(request).simulator.fake.messages_for(_user(request))
    return {"messages": [_view(m) for m in delivered[after:]], "next": len(delivered)}


def _view(message: dict[str, Any]) -> dict[str, Any]:
    items = (message.get("quickReply") or {}).get("items") or []
    buttons = [
        {
            "label": a.get("label", ""),
            "type": a.get("type"),
            "data": a.get("data", ""),
            "text": a.get("displayText") or a.get("text") or "",
        }
        for a in (item.get("action", {}) for item in items)
    ]
    return {"type": message.get("type"), "text": message.get("text", ""), "quick_replies": buttons}


@router.post("/api/reset")
def reset(request: Request, ok: AllowedDep) -> dict[str, str]:
    """Start over as a new simulated user."""
    _require(ok)
    _user(request, new=True)
    return {"status": "ok"}
