"""`python -m notifier kpi targets ...`: list, set, remove and reset the targets."""

from __future__ import annotations

import datetime as dt
import sys

import click

from app.cli import config_errors_exit
from kpi.cli_common import DATE, database
from kpi.kpi_tables import TOTAL
from kpi.targets import Target, load_targets, remove_target, reset_targets, set_target
from storage.db import begin_immediate, session_scope


@click.group(invoke_without_command=True)
@click.pass_context
def targets(ctx: click.Context) -> None:
    """List the targets (default: the plan's total); `set`, `remove`, `reset` change them."""
    if ctx.invoked_subcommand is None:
        ctx.invoke(list_targets)


@targets.command("list")
@config_errors_exit
def list_targets() -> None:
    """Print every target: scope, date, followers, label."""
    with database() as (_settings, sessions), sessions() as session:
        for t in load_targets(session):
            click.echo(f"{t.scope}\t{t.date}\t{t.followers}\t{t.label}")


@targets.command("set")
@click.argument("date", type=DATE)
@click.argument("followers", type=click.IntRange(min=0))
@click.option("--scope", default=TOTAL, show_default=True, help="total, or a channel: line, x, ...")
@click.option("--label", default="", help="A note shown with the target.")
@config_errors_exit
def set_(date: dt.date, followers: int, scope: str, label: str) -> None:
    """Add or change the target for DATE."""
    with database() as (_settings, sessions):
        try:
            with session_scope(sessions) as session:
                begin_immediate(session)
                set_target(session, Target(scope, date, followers, label))
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--scope") from None
    click.echo(f"target {scope} {date}: {followers:,}")


@targets.command("remove")
@click.argument("date", type=DATE)
@click.option("--scope", default=TOTAL, show_default=True)
@config_errors_exit
def remove(date: dt.date, scope: str) -> None:
    """Remove the target for DATE."""
    with database() as (_settings, sessions):
        try:
            with session_scope(sessions) as session:
                found = remove_target(session, scope, date)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--scope") from None
    if not found:
        click.echo(f"error: no {scope} target on {date}", err=True)
        sys.exit(2)
    click.echo(f"removed target {scope} {date}")


@targets.command("reset")
@config_errors_exit
def reset() -> None:
    """Go back to the plan's targets."""
    with database() as (_settings, sessions), session_scope(sessions) as session:
        reset_targets(session)
    click.echo("targets reset to the plan's")
