"""Admin CLI: `python -m app migrate | create-staff | check | serve | mask`."""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

import click

from app.privacy import mask_pii
from app.settings import ConfigError, Settings, load_settings, require_database
from storage import migrate as migrations
from storage.db import describe, make_engine, make_sessionmaker, session_scope

F = TypeVar("F", bound=Callable[..., Any])


def config_errors_exit(func: F) -> F:
    """Turn configuration and database errors into one clear line on stderr and exit code 1."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ConfigError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(1)

    return wrapper  # type: ignore[return-value]


def ready_settings() -> Settings:
    """Settings whose database answers; raises `ConfigError` naming DATABASE_URL otherwise."""
    settings = load_settings()
    require_database(settings.database_url)
    return settings


@click.group()
def cli() -> None:
    """吹田市 LINE・SNS 配信サービスの管理コマンド / Admin commands of the Suita City service."""


@cli.command()
@config_errors_exit
def migrate() -> None:
    """Apply database migrations (safe to run repeatedly)."""
    settings = ready_settings()
    migrations.upgrade(settings.database_url)
    click.echo(f"database is current: {describe(settings.database_url)}")


@cli.command()
@config_errors_exit
def check() -> None:
    """Check settings and database, and list which features are configured."""
    settings = ready_settings()
    engine = make_engine(settings.database_url, pool_size=1)
    try:
        missing = migrations.pending(engine)
    finally:
        engine.dispose()
    click.echo(
        f"database: {describe(settings.database_url)} ({'current' if not missing else 'needs migrate'})"
    )
    from app.main import feature_states

    for name, ok in feature_states(settings).items():
        click.echo(f"{name}: {'ready' if ok else 'not configured'}")


@cli.command("create-staff")
@click.argument("username")
@click.option("--role", type=click.Choice(["admin", "editor", "viewer"]), default="editor", show_default=True)
@click.password_option(
    envvar="STAFF_PASSWORD", help="Password (prompted when absent; or env STAFF_PASSWORD)."
)
@config_errors_exit
def create_staff(username: str, role: str, password: str) -> None:
    """Create a staff account for the console, the simulator and the API."""
    from app.auth import UserError, create_staff_user

    settings = ready_settings()
    engine = make_engine(settings.database_url, pool_size=1)
    try:
        with session_scope(make_sessionmaker(engine)) as session:
            create_staff_user(session, username=username, password=password, role=role)
    except UserError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    finally:
        engine.dispose()
    click.echo(f"created {role} {username}")


@cli.command()
@click.option("--host", envvar="HOST", default="127.0.0.1", show_default=True)
@click.option("--port", envvar="PORT", type=int, default=8000, show_default=True)
@click.option("--workers", type=int, default=1, show_default=True, help="uvicorn worker processes")
@config_errors_exit
def serve(host: str, port: int, workers: int) -> None:
    """Check the database, apply migrations and serve the app with uvicorn."""
    import uvicorn

    settings = ready_settings()
    migrations.upgrade(settings.database_url)
    uvicorn.run(
        "app.main:create_app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=True,
        log_config=None,
    )


@cli.command()
def mask() -> None:
    """Print each line of stdin with personal details masked (UTF-8), as residents' texts are stored."""
    for raw in sys.stdin.buffer:  # bytes, whatever the locale's encoding
        line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
        click.echo(mask_pii(line).encode("utf-8") + b"\n", nl=False)
