"""The app factory. `create_app(settings)` builds a FastAPI app; start-up work happens in `lifespan`.

Areas plug in through `AREAS`: each entry is a module with a `router` and, optionally, an async
context manager `lifespan(app)` that starts and stops what the area needs (SDK clients, workers),
`SESSIONLESS_PATHS` (machine routes that never use the staff session and are authenticated otherwise,
such as LINE's webhook with its signature: the CSRF check skips them),
`FAST_ROUTES` (`{(method, path): app.plain_routes.FastRoute}`: served before the middleware stack),
`page_csp(settings) -> {path: Content-Security-Policy}` (a page that needs more than the default) and
`features(settings) -> {name: configured}` (listed by `/readyz`, `check` and the home page; a value is
True/False or one of `FEATURE_STATES`, e.g. "demo" for a channel that runs against the app's own fake).
"""

from __future__ import annotations

import gc
import importlib
import logging
import os
import secrets
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, Response
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from starlette.routing import BaseRoute, Route
from starlette.types import Receive, Scope, Send

from app.api_docs import describe_422
from app.auth import OptionalStaffDep
from app.client_address import TrustedProxies
from app.client_limiter import ClientLimiter
from app.csrf import CsrfGuard
from app.logs import RequestIdMiddleware, configure_logging
from app.plain_routes import FastRoute
from app.request_limits import BodyLimit, error_handlers
from app.security_headers import SecurityHeaders
from app.settings import ROOT, ConfigError, Settings, get_settings, require_database
from app.templating import render
from storage.aio import AsyncDb
from storage.db import make_engine, make_sessionmaker, private_dir

log = logging.getLogger(__name__)
INTAKE_POOL = 2  # connections (and threads) reserved for the webhook's inserts

# Modules with `router` (and optionally `lifespan`), in the order their lifespans start and their routes
# are matched.
AREAS: tuple[str, ...] = (
    "app.health",
    "app.auth",
    "app.first_run",
    "app.staff_admin",
    "app.audit_page",
    "faq.faq_area",
    "bot.bot_area",
    "reports.reports_area",
    "kpi.kpi_api",
    "notifier.notifier_area",
    "app.api_docs",
)


def _none(settings: Settings) -> dict[str, str]:
    return {}


def _areas() -> list[ModuleType]:
    return [importlib.import_module(name) for name in AREAS]


FEATURE_STATES = ("ready", "demo", "not configured")


def feature_states(settings: Settings) -> dict[str, str]:
    """Which optional features have what they need (for `/readyz`, `check` and the home page): every
    area's `features(settings)`, e.g. each notifier channel and the LINE bot, as one of
    `FEATURE_STATES` (an area's True is "ready", False "not configured")."""
    states: dict[str, str] = {}
    for area in _areas():
        hook = getattr(area, "features", None)
        if hook is not None:
            for name, state in hook(settings).items():
                states[name] = state if isinstance(state, str) else ("ready" if state else "not configured")
    return states


def add_routes(app: FastAPI, router: APIRouter) -> None:
    """Add an area's routes. FastAPI matches the routes of an included router twice per level of
    inclusion (to find it, then inside it), which costs every request tens of microseconds: routes
    without dependencies go to the app's own list and are matched once. Routes with dependencies are
    included the usual way, so `app.dependency_overrides` reaches them (a route added as is would keep
    its router's overrides); so is a router with startup/shutdown handlers."""
    if router.on_startup or router.on_shutdown:
        app.include_router(router)
        return
    plain = [route for route in router.routes if _without_dependencies(route)]
    app.router.routes.extend(plain)
    others = [route for route in router.routes if route not in plain]
    if others:
        app.include_router(APIRouter(routes=others))


def _without_dependencies(route: BaseRoute) -> bool:
    if isinstance(route, APIRoute):
        return not route.dependant.dependencies
    return isinstance(route, Route)


class ServiceApp(FastAPI):
    """The FastAPI app, with `fast_routes` answered before its middleware stack and router."""

    fast_routes: dict[tuple[str, str], FastRoute]

    def openapi(self) -> dict[str, Any]:
        """FastAPI's document (built once), with the 422 answers described as they are sent."""
        if self.openapi_schema is None:
            self.openapi_schema = describe_422(super().openapi())
        return self.openapi_schema

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            handler = self.fast_routes.get((scope["method"], scope["path"]))
            if handler is not None:
                await handler(self, scope, receive, send)
                return
        await super().__call__(scope, receive, send)


def session_secret(settings: Settings) -> str:
    """SECRET_KEY, or in development a random key kept in ./var so tokens survive restarts."""
    if settings.secret_key is not None:
        return settings.secret_key.get_secret_value()
    if settings.app_env == "production":
        raise ConfigError("SECRET_KEY is required when APP_ENV=production")
    if settings.app_env == "test":
        return "test-secret-key"
    path = ROOT / "var" / "secret_key"
    private_dir(path.parent)
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(48))
    return Path(path).read_text().strip()


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    require_database(settings.database_url)
    engine = make_engine(settings.database_url, pool_timeout=settings.db_pool_timeout)
    app.state.engine = engine
    app.state.sessionmaker = make_sessionmaker(engine)
    app.state.db = AsyncDb(app.state.sessionmaker)  # every area's database work from async code
    # LINE's webhook stores residents' events through connections of its own: however busy the main
    # pool is (staff pages, the simulator, the worker), the webhook is not queued behind it
    intake_engine = make_engine(
        settings.database_url, pool_size=INTAKE_POOL, pool_timeout=settings.db_pool_timeout
    )
    app.state.intake_db = AsyncDb(
        make_sessionmaker(intake_engine), threads=INTAKE_POOL, shares_lock_with=app.state.db
    )
    for name, state in app.state.features.items():
        if state != "ready":
            log.info(
                "feature %s: %s", name, state, extra={"feature": name, "configured": False, "state": state}
            )
    async with AsyncExitStack() as stack:
        for area in _areas():
            hook = getattr(area, "lifespan", None)
            if hook is not None:
                await stack.enter_async_context(hook(app))
        freeze = settings.app_env != "test"  # tests start hundreds of apps in one process
        if freeze:
            freeze_startup_objects()
        yield
        if freeze:
            gc.unfreeze()
    await app.state.intake_db.close()
    await app.state.db.close()  # the last grouped writes land before the engine goes
    intake_engine.dispose()
    engine.dispose()


def freeze_startup_objects() -> None:
    """Move what start-up built (FAQ index, dictionaries, SDK models: ~300,000 objects) out of the
    garbage collector's reach. Otherwise every full collection walks them all: ~180 ms of CPU every
    ~4,000 webhooks, about 40 µs per request and a pause that every request in flight waits for."""
    gc.collect()
    gc.freeze()


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the service. Tests pass their own settings; production reads the environment."""
    settings = settings or get_settings()
    if settings.app_env != "test":
        configure_logging(settings.log_level, settings.log_format)
    app = ServiceApp(
        title="Suita City LINE & SNS service / 吹田市 LINE・SNS 配信サービス",
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,  # app.api_docs serves /docs and /redoc without a CDN or an inline script
        redoc_url=None,
        openapi_url="/openapi.json" if settings.docs_enabled else None,
    )
    app.state.settings = settings
    app.state.features = feature_states(settings)
    app.state.feature_notes = {}
    areas = _areas()
    app.fast_routes = {key: fn for area in areas for key, fn in getattr(area, "FAST_ROUTES", {}).items()}
    app.state.secret = session_secret(settings).encode("utf-8")
    app.state.trusted_proxies = TrustedProxies(settings.trusted_proxies)
    app.state.limits = {
        "search": ClientLimiter(settings.search_rate_per_minute),
        "simulator": ClientLimiter(settings.simulator_rate_per_minute),
    }
    app.add_middleware(
        CsrfGuard,
        secret=app.state.secret,
        public_origin=settings.public_base_url,
        exempt=[path for area in areas for path in getattr(area, "SESSIONLESS_PATHS", ())],
        always=["/login"],
    )
    app.add_middleware(BodyLimit)
    app.add_middleware(RequestIdMiddleware)
    page_csp = {
        path: csp for area in areas for path, csp in getattr(area, "page_csp", _none)(settings).items()
    }
    app.add_middleware(SecurityHeaders, production=settings.app_env == "production", page_csp=page_csp)
    for exc_type, handler in error_handlers.items():
        app.add_exception_handler(exc_type, handler)
    for area in areas:
        add_routes(app, area.router)
    static = ROOT / "templates" / "static"
    if static.is_dir():
        app.mount("/static", StaticFiles(directory=static), name="static")

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def index(request: Request, _staff: OptionalStaffDep) -> Response:
        return render(request, "pages/index.html.j2", {})

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> Response:
        return FileResponse(static / "favicon.svg", media_type="image/svg+xml")

    return app


def create_app_from_env() -> Any:
    """Entry point for `uvicorn --factory app.main:create_app_from_env`."""
    return create_app()
