"""Liveness and readiness endpoints for load balancers and operators."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError

from app.deps import EngineDep, SettingsDep
from storage import migrate
from storage.db import ping

router = APIRouter(tags=["operations"])
SESSIONLESS_PATHS = ("/healthz", "/readyz")  # probes never use the staff session (see app.main)


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is alive (no dependencies checked; async: no worker thread needed)."""
    return {"status": "ok"}


@router.get("/readyz")
def readyz(request: Request, settings: SettingsDep, engine: EngineDep) -> JSONResponse:
    """Ready when the database answers and its migrations are current; lists every feature."""
    checks: dict[str, Any] = {}
    ok = True
    try:
        ping(engine)
        checks["database"] = {"status": "ok", "backend": engine.dialect.name}
        missing = sorted(migrate.pending(engine))
        checks["migrations"] = {"status": "ok" if not missing else "pending", "pending": missing}
        ok = not missing
    except SQLAlchemyError as exc:
        checks["database"] = {"status": "error", "error": type(exc).__name__}
        ok = False
    features = dict(request.app.state.features)  # "ready", "demo" or "not configured"
    extra = getattr(request.app.state, "feature_notes", {})
    body = {
        "status": "ready" if ok else "not ready",
        "checks": checks,
        "features": features,
        "notes": extra,
        # set by the bot area (`bot.disaster_mode`): {"on": true, "headline", "link", "since"} or null
        "disaster_mode": getattr(request.app.state, "disaster_mode", None),
    }
    return JSONResponse(body, status_code=200 if ok else 503)
