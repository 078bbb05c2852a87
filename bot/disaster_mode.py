"""Disaster mode: `GET/PUT /api/v1/disaster-mode`. While it is on, every bot answer starts with the
city's headline (`bot.conversation.dialogue.handle`), `/readyz` and every staff page say so, and the
LINE rich menu is the disaster menu (`bot.rich_menu`, kind `disaster`) for every resident: it is made
the default menu through the rich menu API, and the normal menu is made the default again when the
mode is switched off (the disaster menu is then deleted).

Who may switch: admins (there is no approver role yet). Residents whose menu was linked to them one by
one (per-user rich menus) keep that menu: the service links none.

The state is one row (`bot_disaster_mode`); every process reads it every `REFRESH_SECONDS` into
`app.state.disaster_mode` for the pages and `/readyz`, and the conversation reads it per event.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, FastAPI, Request
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlalchemy.orm import Session

from app import audit
from app.auth import ApproverDep, StaffDep
from app.staff_tables import StaffUser
from bot import rich_menu
from bot.bot_tables import DisasterModeRow
from bot.conversation.dialogue_types import Headline
from platforms.line_errors import LineApiError
from storage.base import utcnow
from storage.db import storable

if TYPE_CHECKING:
    from platforms.line_api import LineApi

log = logging.getLogger(__name__)
REFRESH_SECONDS = 2.0


SwitcherDep = ApproverDep  # approvers and admins switch the mode (issue 15)


class ModeIn(BaseModel):
    """`{"on": true, "headline": "…", "link": "https://…"}` or `{"on": false}`."""

    model_config = ConfigDict(extra="forbid")
    on: bool
    headline: str | None = Field(default=None, min_length=1, max_length=200)
    link: str | None = Field(default=None, max_length=2000, pattern=r"^https?://\S+$")

    _texts = field_validator("headline", "link")(storable)

    @model_validator(mode="after")
    def _headline_when_on(self) -> ModeIn:
        if self.on and not (self.headline or "").strip():
            raise ValueError(
                "見出し (headline) を入力してください / a headline is required to switch the mode on"
            )
        return self


def load(session: Session) -> DisasterModeRow:
    """The stored state (an unsaved "off" row when the mode was never switched)."""
    return session.get(DisasterModeRow, 1) or DisasterModeRow(id=1, on=False, headline="", rich_menu_note="")


def headline(session: Session) -> Headline | None:
    """What the conversation adds to every answer, or None while the mode is off."""
    row = session.get(DisasterModeRow, 1)
    return Headline(row.headline, row.link) if row is not None and row.on else None


def view(row: DisasterModeRow) -> dict[str, Any]:
    """The API's and `/readyz`'s JSON."""
    return {
        "on": bool(row.on),
        "headline": row.headline if row.on else None,
        "link": row.link if row.on else None,
        "changed_by": row.changed_by or None,
        "changed_at": row.changed_at.isoformat() if row.changed_at else None,
        "rich_menu": {"disaster_menu_id": row.disaster_menu_id, "note": row.rich_menu_note or None},
    }


def _fields(row: DisasterModeRow) -> dict[str, Any]:
    return {"on": bool(row.on), "headline": row.headline or "", "link": row.link}


def _save(session: Session, body: ModeIn, who: StaffUser, origin: audit.Origin) -> dict[str, Any]:
    """Store the mode and record the switch in the audit log (one transaction)."""
    row = session.get(DisasterModeRow, 1)
    if row is None:
        row = DisasterModeRow(id=1, rich_menu_note="", on=False, headline="")
        session.add(row)
    before = _fields(row)
    row.on = body.on
    row.headline = (body.headline or "").strip() if body.on else ""
    row.link = body.link if body.on else None
    row.changed_by = who.username
    row.changed_at = utcnow()
    session.flush()
    action = "disaster_mode.on" if body.on else "disaster_mode.off"
    audit.record(
        session, audit.Actor.of(who), origin, action, "disaster_mode", 1, audit.changes(before, _fields(row))
    )
    return {"disaster_menu_id": row.disaster_menu_id, "normal_menu_id": row.normal_menu_id}


def _save_menus(session: Session, menus: dict[str, str | None], note: str) -> DisasterModeRow:
    row = load(session)
    row.disaster_menu_id = menus.get("disaster_menu_id")
    row.normal_menu_id = menus.get("normal_menu_id")
    row.rich_menu_note = note[:500]
    session.add(row)
    session.flush()
    session.expunge(row)
    return row


async def switch_menu(api: LineApi, on: bool, link: str | None, menus: dict[str, str | None]) -> str:
    """Make the disaster menu (on) or the normal one (off) the default at LINE; updates `menus`
    (`disaster_menu_id`, `normal_menu_id`) and returns a note for staff."""
    main_name = rich_menu.texts("main").name
    old_disaster = menus.get("disaster_menu_id")
    if on:
        if menus.get("normal_menu_id") is None:
            named = [m.rich_menu_id for m in await api.rich_menus() if m.name == main_name]
            menus["normal_menu_id"] = named[-1] if named else None
        image = await asyncio.to_thread(rich_menu.draw, None, "disaster")
        menus["disaster_menu_id"] = await rich_menu.install(api, rich_menu.menu_json("disaster", link), image)
        note = "災害時メニューを既定にしました / the disaster menu is the default"
    else:
        known = {m.rich_menu_id for m in await api.rich_menus()}
        normal = menus.get("normal_menu_id")
        if normal in known and normal is not None:
            await api.set_default_rich_menu(normal)
        else:  # the normal menu is gone (or never existed): make a new one
            image = await asyncio.to_thread(rich_menu.draw, None, "main")
            menus["normal_menu_id"] = await rich_menu.install(api, rich_menu.menu_json("main"), image)
        menus["disaster_menu_id"] = None
        note = "通常のメニューに戻しました / the normal menu is the default again"
    if old_disaster is not None and old_disaster != menus.get("disaster_menu_id"):
        with contextlib.suppress(LineApiError):  # already deleted at LINE: nothing to do
            await api.delete_rich_menu(old_disaster)
    return note


router = APIRouter(prefix="/api/v1", tags=["bot"])


@router.get("/disaster-mode", summary="Disaster mode: on or off, the headline, the rich menu")
async def get_mode(request: Request, staff: StaffDep) -> dict[str, Any]:
    return view(await request.app.state.db.read(load))


@router.put(
    "/disaster-mode",
    summary="Switch disaster mode on (headline, link) or off (admin)",
    responses={403: {"description": "Admin role required"}, 422: {"description": "No headline"}},
)
async def put_mode(request: Request, body: ModeIn, staff: SwitcherDep) -> dict[str, Any]:
    """The mode is stored first (answers carry the headline at once); then the rich menu is switched.
    When LINE or the font fails, the mode stays as asked and `rich_menu.note` says what failed (send
    the same request again to retry the menu)."""
    db = request.app.state.db
    menus = await db.run(_save, body, staff, audit.Origin.of(request))
    try:
        api = await request.app.state.bot.api_for("line")
        note = await switch_menu(api, body.on, body.link, menus)
    except (LineApiError, rich_menu.FontNotFound, OSError) as exc:
        log.warning("disaster mode: the rich menu was not switched: %s", exc)
        note = f"リッチメニューを切り替えられませんでした / the rich menu was not switched: {exc}"
    row = await db.run(_save_menus, menus, note)
    request.app.state.disaster_mode = banner(row)
    return view(row)


def banner(row: DisasterModeRow) -> dict[str, Any] | None:
    """What staff pages and `/readyz` show (None while off)."""
    if not row.on:
        return None
    return {"on": True, "headline": row.headline, "link": row.link, "since": row.changed_at.isoformat()}


def _banner(session: Session) -> dict[str, Any] | None:
    return banner(load(session))


@contextlib.asynccontextmanager
async def watching(app: FastAPI) -> AsyncIterator[None]:
    """Keep `app.state.disaster_mode` current (another process may switch the mode)."""

    async def refresh() -> None:
        while True:
            try:
                app.state.disaster_mode = await app.state.db.read(_banner)
            except Exception:  # the database is away: keep showing the last known state
                log.exception("disaster mode: state not read")
            await asyncio.sleep(REFRESH_SECONDS)

    app.state.disaster_mode = None
    task = asyncio.create_task(refresh(), name="disaster-mode-refresh")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
