"""`/simulator`: a chat page where a person plays a LINE user. What they type becomes a webhook event
that the server signs with the channel secret (which never reaches the browser) and sends through the
real `POST /line/webhook` of this app; the bot's replies arrive at the simulator's fake LINE server,
and the page polls for them. Without LINE credentials anyone may use it (rate limited per client:
`SIMULATOR_RATE_PER_MINUTE`); with them, staff only.

The simulated LINE user comes from a cookie of its own (`suita_sim`, a random token; the user ID is an
HMAC of it), so "start over" gives a new user without touching a staff session. A send holds no
database connection while the webhook it posts to stores the event (which needs one).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field, field_validator

from app.auth import SIGN_IN_REQUIRED, OptionalStaffDep
from app.client_limiter import enforce
from app.languages import LANGUAGES, REGISTRY
from app.templating import render
from bot.intake.webhook_events import SIMULATOR_DESTINATION
from fakes import fake_line_events as ev
from storage.db import storable

if TYPE_CHECKING:
    from bot.bot_area import BotRuntime

router = APIRouter(prefix="/simulator", tags=["simulator"])
COOKIE = "suita_sim"
MAX_TEXT = 5000  # what LINE lets a user send; the bot cuts questions to 400 characters before matching


class SendRequest(BaseModel):
    """What the person did in the page."""

    kind: Literal["text", "postback", "follow", "unfollow", "sticker", "image", "location"]
    text: str = Field(default="", max_length=MAX_TEXT)
    data: str = Field(default="", max_length=300)
    language: str = Field("ja", description="The simulated user's LINE language: one of app.languages")

    _texts = field_validator("text", "data")(storable)

    @field_validator("language")
    @classmethod
    def _known_language(cls, value: str) -> str:
        if value not in LANGUAGES:
            raise ValueError(f"language must be one of {', '.join(LANGUAGES)}")
        return value


def _runtime(request: Request) -> BotRuntime:
    runtime: BotRuntime = request.app.state.bot
    return runtime


async def allowed(request: Request, staff: OptionalStaffDep) -> bool:
    """Anyone in simulator mode (no LINE credentials); signed-in staff when the bot is live."""
    return staff is not None or not _runtime(request).live


AllowedDep = Annotated[bool, Depends(allowed)]


def _require(ok: bool) -> None:
    if not ok:
        raise HTTPException(401, SIGN_IN_REQUIRED)


async def allowed_and_limited(request: Request, ok: AllowedDep, staff: OptionalStaffDep) -> None:
    """For the simulator's actions: 401 when not allowed; 429 when an anonymous client sent too much."""
    _require(ok)
    if staff is None:
        enforce(request, "simulator")


def _user(request: Request, response: Response, *, new: bool = False) -> str:
    """The simulated LINE user of this browser (a new one when `new` or without the cookie)."""
    token = request.cookies.get(COOKIE)
    if new or token is None or not 16 <= len(token) <= 64:
        token = secrets.token_urlsafe(24)
        secure = request.app.state.settings.app_env == "production"
        response.set_cookie(COOKIE, token, path="/simulator", secure=secure, httponly=True, samesite="lax")
    digest = hmac.new(request.app.state.secret, b"simulator-user:" + token.encode(), hashlib.sha256)
    return "U" + digest.hexdigest()[:32]


@router.get("", response_class=HTMLResponse, include_in_schema=False)
def page(request: Request, ok: AllowedDep) -> Response:
    if not ok:
        return RedirectResponse("/login?next=/simulator", status_code=303)
    languages = [lang for lang in REGISTRY if lang.profile_codes]  # what a LINE profile can say
    context = {"live": _runtime(request).live, "profile_languages": languages}
    response = render(request, "pages/simulator.html.j2", context)
    _user(request, response)
    return response


@router.post(
    "/api/send",
    dependencies=[Depends(allowed_and_limited)],
    responses={401: {"description": "Staff only (live bot)"}, 429: {"description": "Too many requests"}},
)
async def send(body: SendRequest, request: Request, response: Response) -> dict[str, Any]:
    """Play one event as the simulated user through the signed webhook."""
    if body.kind == "text" and not body.text.strip():
        raise HTTPException(422, "text is empty / メッセージが空です")
    if body.kind == "postback" and not body.data:
        raise HTTPException(422, "postback data is empty")
    runtime = _runtime(request)
    user = _user(request, response)
    fake = runtime.simulator.fake
    await runtime.simulator.api()  # start the fake LINE server before the bot needs it
    if body.kind == "follow":
        fake.add_follower(user, "シミュレーター", body.language)
    token = fake.issue_reply_token(user)
    event = _event(body, user, token)
    if body.kind == "image":  # the photo "taken": LINE's content endpoint serves it
        fake.add_content(event["message"]["id"], ev.sample_photo())
    raw = ev.body([event], destination=SIMULATOR_DESTINATION)
    status = await runtime.simulator.post_webhook(request.app, raw, ev.signed(raw, runtime.channel_secret))
    return {"webhook_status": status}


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
def messages(
    request: Request, response: Response, ok: AllowedDep, after: Annotated[int, Query(ge=0, le=2**63 - 1)] = 0
) -> dict[str, Any]:
    """The bot's messages to the simulated user from index `after` on."""
    _require(ok)
    delivered, total = _runtime(request).simulator.fake.messages_since(_user(request, response), after)
    return {"messages": [_view(m) for m in delivered], "next": total}


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


@router.post("/api/reset", dependencies=[Depends(allowed_and_limited)])
def reset(request: Request, response: Response) -> dict[str, str]:
    """Start over as a new simulated user."""
    _user(request, response, new=True)
    return {"status": "ok"}
