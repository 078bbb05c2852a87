"""`suita kpi` (`python -m kpi`, `python -m notifier kpi`): collect, backfill, import, report and targets."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

import click
from sqlalchemy.orm import Session, sessionmaker

from app import audit
from app.cli import config_errors_exit, open_database
from app.settings import ConfigError, Settings
from kpi.follower_collector import Collector, FetchResult
from kpi.follower_sources import configured_accounts, open_sources
from kpi.history_import import CsvImportError, decode, import_csv
from kpi.jst_dates import jst_date, parse_date
from kpi.kpi_api import import_counts, kpi_audited
from kpi.kpi_tables import TOTAL
from kpi.report import Report
from kpi.report_export import report_csv, report_json
from kpi.report_loader import Options, RangeError, load_report
from kpi.targets import Target, load_targets, remove_target, reset_targets, set_target
from notifier.channels.channel_registry import CHANNELS
from storage import rate_budgets
from storage.base import utcnow
from storage.db import begin_immediate, session_scope


class DateType(click.ParamType[dt.date, object]):
    """A JST date option: YYYY-MM-DD (also YYYY/MM/DD, YYYYMMDD)."""

    name = "YYYY-MM-DD"

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> dt.date:
        if isinstance(value, dt.date):
            return value
        try:
            return parse_date(str(value))
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


DATE = DateType()


def today() -> dt.date:
    return jst_date(utcnow())


@click.group()
def kpi() -> None:
    """SNS フォロワー数 KPI / Follower KPI: collect, import, report."""


def _echo_outcomes(outcomes: Sequence[FetchResult]) -> None:
    for o in outcomes:
        figure = f" {o.followers:,}" if o.followers is not None else ""
        why = f" ({o.reason})" if o.reason else ""
        click.echo(f"{o.channel}/{o.account} {o.date}: {o.status}{figure}{why}")
    if any(o.status == "error" for o in outcomes):
        sys.exit(1)


def _collect(
    settings: Settings,
    sessions: sessionmaker[Session],
    action: Callable[[Collector], Awaitable[list[FetchResult]]],
) -> list[FetchResult]:
    """Open the configured channels' sources, run `action` with a collector, close them."""

    async def run() -> list[FetchResult]:
        async with open_sources(settings) as sources:
            if not sources:
                raise ConfigError("no channel is configured for follower counts (see .env.example)")
            return await action(Collector(sessions, sources))

    return asyncio.run(run())


@kpi.command()
@click.option("--date", "date", type=DATE, help="Collect this JST date only (LINE: any past date).")
@config_errors_exit
def collect(date: dt.date | None) -> None:
    """Collect today's counts and yesterday's LINE insight (or one --date). Idempotent; exit 1 on errors."""
    with open_database() as (settings, sessions):
        outcomes = _collect(settings, sessions, lambda c: c.collect_date(date) if date else c.run_due())
    _echo_outcomes(outcomes)


@kpi.command()
@click.option("--from", "start", type=DATE, required=True)
@click.option("--to", "end", type=DATE, help="Default: yesterday (JST).")
@click.option("--wait", is_flag=True, help="Wait for the hourly LINE budget instead of stopping.")
@config_errors_exit
def backfill(start: dt.date, end: dt.date | None, wait: bool) -> None:
    """Fetch past LINE insight figures (60 calls/hour); rerun to continue where it stopped."""
    end = end or today() - dt.timedelta(days=1)
    if start > end:
        raise click.BadParameter(f"--from {start} is after --to {end}")
    with open_database() as (settings, sessions):
        while True:
            outcomes = _collect(settings, sessions, lambda c: c.backfill(start, end))
            _echo_outcomes([o for o in outcomes if o.status != "stored"])
            deferred = [o for o in outcomes if o.status == "deferred"]
            if not (wait and deferred):
                break
            key = f"{deferred[0].channel}:{deferred[0].account}"
            per_hour = CHANNELS[deferred[0].channel].counting.calls_per_hour or 1
            with sessions() as session:
                until = rate_budgets.next_free_in_window(session, key, per_hour, utcnow())
            click.echo(f"waiting for the LINE budget until {until:%H:%M} UTC ...")
            time.sleep(max(1.0, (until - utcnow()).total_seconds()))


@kpi.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--replace", is_flag=True, help="Overwrite figures already stored for the same dates.")
@config_errors_exit
def import_(file: Path, replace: bool) -> None:
    """Import history from CSV: date,channel,followers[,account] (all or nothing)."""
    with open_database() as (settings, sessions):
        try:
            with session_scope(sessions) as session:
                begin_immediate(session)  # validated against stored rows, then written: one lock
                text = decode(file.read_bytes())
                accounts = configured_accounts(settings)
                result = import_csv(session, text, today=today(), replace=replace, accounts=accounts)
                kpi_audited(
                    session, audit.cli_actor(), audit.CLI, "kpi.import", "history", import_counts(result)
                )
        except CsvImportError as exc:
            click.echo(f"error: {file}: {exc}", err=True)
            sys.exit(2)
    click.echo(
        f"imported {file}: {result.added} added, {result.replaced} replaced, {result.unchanged} unchanged"
    )


def _summary(report: Report) -> list[str]:
    data = report_json(report)
    lines = [f"period: {data['from']} .. {data['to']}"]
    if data["latest"] is None:
        return [*lines, "no figures in this period"]
    lines.append(f"latest total: {data['latest']:,} on {data['as_of']}")
    for name, points in data["channels"].items():
        lines.append(f"  {name}: {points[-1]['followers']:,} on {points[-1]['date']}")
    if nt := data["next_target"]:
        lines.append(f"next target: {nt['followers']:,} by {nt['date']} (gap {nt['gap']:,})")
    p = data["projection"]
    if p["target"] is not None:
        state = "reached" if p["reached"] else "expected" if p["reached_on"] else "not reached at this pace"
        lines.append(f"projection: {p['target']:,} {state} {p['reached_on'] or ''}".rstrip())
    lines += [
        f"gap: {g['channel']}/{g['account']} {g['from']}..{g['to']}: {'; '.join(g['reasons'])}"
        for g in data["gaps"]
    ]
    return lines


@kpi.command()
@click.option("--from", "start", type=DATE, help="First date (default: the first figure).")
@click.option("--to", "end", type=DATE, help="Last date (default: today, JST).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--csv", "as_csv", is_flag=True, help="Print the daily series as CSV.")
@click.option("--png", type=click.Path(dir_okay=False, path_type=Path), help="Write the chart as PNG.")
@click.option("--svg", type=click.Path(dir_okay=False, path_type=Path), help="Write the chart as SVG.")
@config_errors_exit
def report(
    start: dt.date | None,
    end: dt.date | None,
    as_json: bool,
    as_csv: bool,
    png: Path | None,
    svg: Path | None,
) -> None:
    """Total and per-channel followers against the targets, with the projection."""
    if sum(bool(x) for x in (as_json, as_csv, png, svg)) > 1:
        raise click.UsageError("choose one of --json, --csv, --png FILE, --svg FILE")
    with open_database() as (settings, sessions), sessions() as session:
        try:
            result = load_report(
                session,
                start,
                end,
                today=today(),
                options=Options.from_settings(settings),
                names=configured_accounts(settings),
            )
        except RangeError as exc:
            raise click.BadParameter(str(exc)) from None
    if as_json:
        click.echo(json.dumps(report_json(result), ensure_ascii=False, indent=1))
    elif as_csv:
        click.echo(report_csv(result), nl=False)
    elif png or svg:
        from kpi.chart import render_chart  # matplotlib: only loaded when drawing

        path = png or svg
        assert path is not None
        path.write_bytes(render_chart(result, "png" if png else "svg"))
        click.echo(f"wrote {path}")
    else:
        click.echo("\n".join(_summary(result)))


@kpi.group(invoke_without_command=True)
@click.pass_context
def targets(ctx: click.Context) -> None:
    """List the targets (default: the plan's total); `set`, `remove`, `reset` change them."""
    if ctx.invoked_subcommand is None:
        ctx.invoke(list_targets)


@targets.command("list")
@config_errors_exit
def list_targets() -> None:
    """Print every target: scope, date, followers, label."""
    with open_database() as (_settings, sessions), sessions() as session:
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
    with open_database() as (_settings, sessions):
        try:
            with session_scope(sessions) as session:
                begin_immediate(session)
                before = {t.date.isoformat(): t.followers for t in load_targets(session) if t.scope == scope}
                set_target(session, Target(scope, date, followers, label))
                after = {**before, date.isoformat(): followers}
                changes = {"changes": audit.changes(before, after), "note": label}
                kpi_audited(session, audit.cli_actor(), audit.CLI, "kpi.target_set", scope, changes)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--scope") from None
    click.echo(f"target {scope} {date}: {followers:,}")


@targets.command("remove")
@click.argument("date", type=DATE)
@click.option("--scope", default=TOTAL, show_default=True)
@config_errors_exit
def remove(date: dt.date, scope: str) -> None:
    """Remove the target for DATE."""
    with open_database() as (_settings, sessions):
        try:
            with session_scope(sessions) as session:
                found = remove_target(session, scope, date)
                if found:
                    note = {"note": f"removed {date.isoformat()}"}
                    kpi_audited(session, audit.cli_actor(), audit.CLI, "kpi.target_remove", scope, note)
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
    with open_database() as (_settings, sessions), session_scope(sessions) as session:
        reset_targets(session)
        kpi_audited(session, audit.cli_actor(), audit.CLI, "kpi.target_reset", "*", {})
    click.echo("targets reset to the plan's")
