"""The one command line, `suita` (also `python -m app`), with a group of sub-commands per area:

    suita serve | migrate | check | create-staff | set-password | mask | audit verify | archive
    suita faq ask | rank | bench | build | import | export
    suita bot richmenu json | image | deploy
    suita notifier post create | show | list | cancel | resolve, worker, status
    suita kpi collect | backfill | import | report | targets

The area groups are loaded on first use (`LazyGroup`): `suita --help` stays fast, and `app` imports no
area (the layer rule). `python -m faq|bot|notifier|kpi` are thin aliases of `suita <area>` (and
`python -m notifier kpi …` of `suita kpi …`). Commands that need the database open it with
`open_database`.
"""

from __future__ import annotations

import datetime as dt
import importlib
import os
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click
from sqlalchemy.orm import Session, sessionmaker

from app import audit
from app.privacy import mask_pii
from app.settings import ConfigError, Settings, load_settings, require_database
from storage import migrate as migrations
from storage.db import describe, make_engine, make_sessionmaker, session_scope

F = TypeVar("F", bound=Callable[..., Any])

# `suita <name>`: the area's click group, as "module:attribute" (imported when used)
AREA_COMMANDS: dict[str, str] = {
    "faq": "faq.faq_cli:cli",
    "bot": "bot.bot_cli:cli",
    "notifier": "notifier.notifier_cli:cli",
    "kpi": "kpi.kpi_cli:kpi",
    "reports": "reports.reports_cli:cli",
}


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


@contextmanager
def open_database(*, pool_size: int = 2) -> Iterator[tuple[Settings, sessionmaker[Session]]]:
    """Settings and sessions on a reachable, migrated database, for a command; `ConfigError` (which
    `config_errors_exit` prints) when the database cannot be reached or needs migrating."""
    settings = ready_settings()
    engine = make_engine(settings.database_url, pool_size=pool_size)
    try:
        if migrations.pending(engine):
            raise ConfigError(
                "the database needs migrating: run `python -m app migrate` (or `suita migrate`) first"
            )
        yield settings, make_sessionmaker(engine)
    finally:
        engine.dispose()


def load_command(target: str) -> click.Command:
    """The click command named by "module:attribute"."""
    module, _, attribute = target.partition(":")
    command = getattr(importlib.import_module(module), attribute)
    if not isinstance(command, click.Command):
        raise TypeError(f"{target} is not a click command")
    return command


class LazyGroup(click.Group):
    """A group whose `lazy` sub-commands ("name": "module:attribute") are imported when first used."""

    def __init__(self, *args: Any, lazy: Mapping[str, str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = dict(lazy or {})

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy and cmd_name not in self.commands:
            self.add_command(load_command(self.lazy[cmd_name]), cmd_name)
        return super().get_command(ctx, cmd_name)


@click.group(cls=LazyGroup, lazy=AREA_COMMANDS)
def cli() -> None:
    """吹田市 LINE・SNS 配信サービス / Suita City LINE & SNS service."""


def main() -> None:
    """The `suita` console script."""
    cli(prog_name="suita")


def run_area(name: str, lazy: Mapping[str, str] | None = None) -> None:
    """`python -m <area>`: the area's group as its own command (with `lazy` extra sub-commands)."""
    group = load_command(AREA_COMMANDS[name])
    if lazy:
        alias = LazyGroup(name=group.name, help=group.help, lazy=lazy)
        for command_name, command in getattr(group, "commands", {}).items():
            alias.add_command(command, command_name)
        group = alias
    group(prog_name=f"python -m {name}")


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
    from app.main import feature_states

    settings = ready_settings()
    engine = make_engine(settings.database_url, pool_size=1)
    try:
        missing = migrations.pending(engine)
    finally:
        engine.dispose()
    click.echo(
        f"database: {describe(settings.database_url)} ({'current' if not missing else 'needs migrate'})"
    )
    for name, state in feature_states(settings).items():
        click.echo(f"{name}: {state}")


@cli.command("create-staff")
@click.argument("username")
@click.option(
    "--role",
    type=click.Choice(["admin", "approver", "editor", "viewer"]),
    default="editor",
    show_default=True,
)
@click.password_option(
    envvar="STAFF_PASSWORD", help="Password (prompted when absent; or env STAFF_PASSWORD)."
)
@config_errors_exit
def create_staff(username: str, role: str, password: str) -> None:
    """Create a staff account for the console, the simulator and the API (password: at least 12
    characters, hard to guess, without the username; usernames are unique whatever their case)."""
    from app.auth import UserError, create_staff_user

    with open_database(pool_size=1) as (_settings, sessions), session_scope(sessions) as session:
        try:
            user = create_staff_user(session, username=username, password=password, role=role)
        except UserError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(2)
        summary = {"changes": {"role": [None, role]}}
        audit.record(session, audit.cli_actor(), audit.CLI, "staff.create", "staff_user", user.id, summary)
    click.echo(f"created {role} {username}")


@cli.command("set-password")
@click.argument("username")
@click.password_option(
    envvar="STAFF_PASSWORD", help="New password (prompted when absent; or env STAFF_PASSWORD)."
)
@config_errors_exit
def set_password_command(username: str, password: str) -> None:
    """Set a staff account's password; every session of the account ends (sign in again)."""
    from app.auth import UserError, find_user, set_password

    with open_database(pool_size=1) as (_settings, sessions), session_scope(sessions) as session:
        user = find_user(session, username)
        if user is None:
            click.echo(f"error: ユーザー {username!r} がいません / no user {username!r}", err=True)
            sys.exit(2)
        try:
            ended = set_password(session, user, password)
        except UserError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(2)
        audit.record(session, audit.cli_actor(), audit.CLI, "staff.password_set", "staff_user", user.id)
    click.echo(f"password of {user.username} changed; {ended} session(s) ended")


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
    if settings.public_base_url == Settings.model_fields["public_base_url"].default:
        # unset: links the server prints (the first-run setup link) point at where it listens
        shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
        os.environ["PUBLIC_BASE_URL"] = f"http://{shown}:{port}"
    uvicorn.run(
        "app.main:create_app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=True,
        # X-Forwarded-Proto/-For only from TRUSTED_PROXIES (uvicorn's own default trusts 127.0.0.1)
        forwarded_allow_ips=",".join(settings.trusted_proxies),
        log_config=None,
    )


@cli.command()
def mask() -> None:
    """Print each line of stdin with personal details masked (UTF-8), as residents' texts are stored."""
    for raw in sys.stdin.buffer:  # bytes, whatever the locale's encoding
        line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
        click.echo(mask_pii(line).encode("utf-8") + b"\n", nl=False)


@cli.group("audit")
def audit_group() -> None:
    """The audit log (`audit_events`): check that no row was changed or removed."""


@audit_group.command("verify")
@click.option(
    "--archive",
    "archives",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="An archive file of older rows (`suita audit archive`); repeat for each, any order.",
)
@config_errors_exit
def audit_verify(archives: tuple[Path, ...]) -> None:
    """Check the hash chain of the audit log (and of archive files given): names the first broken row
    and exits 1."""
    from app.audit_archive import check_archives

    after = None
    if archives:
        found = check_archives(archives)
        if found.broken is not None:
            where = f"row {found.broken.row}" if found.broken.row is not None else "its header"
            click.echo(f"archive {found.broken.path} broken at {where}: {found.broken.problem}", err=True)
            sys.exit(1)
        for path, header in found.headers:
            click.echo(f"archive {path} intact: rows {header.first_id}–{header.last_id} ({header.rows} rows)")
        first_path, oldest = found.headers[0]
        if oldest.first_id != 1:
            click.echo(
                f"(row {oldest.first_id} of {first_path} follows hash {oldest.first_prev_hash}: "
                "give the older archives to check it too)"
            )
        after = found.last
    with open_database(pool_size=1) as (_settings, sessions), sessions() as session:
        checked, broken = audit.verify(session, after=after)
        first = audit.first_row(session)
    if broken is not None:
        click.echo(f"audit log broken at row {broken.row}: {broken.problem} ({checked} rows read)", err=True)
        sys.exit(1)
    click.echo(f"audit log intact: {checked} rows")
    if first is not None and first[1] != audit.GENESIS:
        # rows before were archived: this hash must be the last archived row's (docs/governance.md)
        checked_by = " (the last archived row's hash: checked)" if after is not None else ""
        click.echo(f"it continues from archived rows: row {first[0]} follows hash {first[1]}{checked_by}")


@audit_group.command("archive")
@click.option(
    "--before",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="Archive the rows written before this day (Japan time); default: older than AUDIT_RETENTION_DAYS.",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The archive file to write (default: AUDIT_ARCHIVE_DIR/audit-FIRST-LAST.jsonl); never overwritten.",
)
@config_errors_exit
def audit_archive(before: dt.datetime | None, out: Path | None) -> None:
    """Move the oldest rows of the audit log to an archive file, keeping the chain checkable."""
    from app import audit_archive as archiving
    from app.tokyo_time import to_jst

    with open_database(pool_size=2) as (settings, sessions):
        now = dt.datetime.now(dt.UTC)
        if before is not None:
            cutoff: dt.datetime | None = archiving.day_start(before.date())
        else:
            cutoff = archiving.retention_cutoff(settings.audit_retention_days, now)
        if cutoff is None:
            click.echo(
                "nothing to do: AUDIT_RETENTION_DAYS is 0 (keep every row); "
                "give --before DAY to archive by hand"
            )
            return
        if cutoff > now:
            click.echo("error: --before must not be after today (Japan time)", err=True)
            sys.exit(2)
        try:
            done = archiving.archive(
                sessions,
                before=cutoff,
                directory=settings.audit_archive_dir,
                actor=audit.cli_actor(),
                origin=audit.CLI,
                out=out,
            )
        except archiving.ArchiveError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(1)
    if done is None:
        click.echo(f"nothing to archive: no row before {to_jst(cutoff)} (the newest row always stays)")
        return
    h = done.header
    click.echo(
        f"archived rows {h.first_id}–{h.last_id} ({h.rows} rows) to {done.path}; last hash {h.last_hash}"
    )
