"""The app factory. `create_app(settings)` builds a FastAPI app; start-up work happens in `lifespan`.

Areas plug in through `AREAS`: each entry is a module with a `router` and, optionally, an async
context manager `lifespan(app)` that starts and stops what the area needs (SDK clients, workers).
"""

from __future__ import annotations

import importlib
import logging
import os
import secrets
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware

from app.logs import RequestIdMiddleware, configure_logging
from app.settings import ROOT, ConfigError, Settings, get_settings, require_database
from app.web import render
from storage.db import make_engine, make_sessionmaker

log = logging.getLogger(__name__)

# Modules with `router` (and optionally `lifespan`), in the order their routes are registered.
AREAS: tuple[str, ...] = (
    "app.health",
    "app.auth",
    "faq.area",
    "bot.area",
    "notifier.kpi.api",
    "notifier.area",
)


def _areas() -> list[ModuleType]:
    return [importlib.import_module(name) for name in AREAS]


def session_secret(settings: Settings) -> str:
    """SECRET_KEY, or in development a random key kept in ./var so sessions survive restarts."""
    if settings.secret_key is not None:
        return settings.secret_key.get_secret_value()
    if settings.app_env == "production":
        raise ConfigError("SECRET_KEY is required when APP_ENV=production")
    if settings.app_env == "test":
        return "test-secret-key"
    path = ROOT / "var" / "secret_key"
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(48))
    return Path(path).read_text().strip()


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    require_database(settings.database_url)
    engine = make_engine(settings.database_url)
    app.state.engine = engine
    app.state.sessionmaker = make_sessionmaker(engine)
    for name, configured in settings.features().items():
        if not configured:
            log.info("feature %s: not configured", name, extra={"feature": name, "configured": False})
    async with AsyncExitStack() as stack:
        for area in _areas():
            hook = getattr(area, "lifespan", None)
            if hook is not None:
                await stack.enter_async_context(hook(app))
        yield
    engine.dispose()


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the service. Tests pass their own settings; production reads the environment."""
    settings = settings or get_settings()
    if settings.app_env != "test":
        configure_logging(settings.log_level, settings.log_format)
    app = FastAPI(
        title="Suita City LINE & SNS service / 吹田市 LINE・SNS 配信サービス",
        version="0.1.0",
        lifespan=lifespan,
        docs_url="/docs",
        openapi_url="/openapi.json",
    )
    app.state.settings = settings
    app.state.feature_notes = {}
    app.add_middleware(
        SessionMiddleware,
        secret_key=session_secret(settings),
        session_cookie="suita_session",
        max_age=8 * 3600,
        same_site="lax",
        https_only=settings.app_env == "production",
    )
    app.add_middleware(RequestIdMiddleware)
    for area in _areas():
        app.include_router(area.router)
    static = ROOT / "templates" / "static"
    if static.is_dir():
        app.mount("/static", StaticFiles(directory=static), name="static")

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def index(request: Request) -> Response:
        return render(request, "pages/index.html.j2", {})

    return app


def create_app_from_env() -> Any:
    """Entry point for `uvicorn --factory app.main:create_app_from_env`."""
    return create_app()
