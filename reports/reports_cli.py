"""`suita reports` (`python -m reports`): list damage reports and export them as GeoJSON or CSV, for
staff at a terminal and for the city's GIS and open-data work (the same views as the staff API)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from app.cli import config_errors_exit, open_database
from reports import report_store as store
from reports.line_flow import report_number
from reports.report_kinds import BY_ID, SOURCES, STATUSES

NOTE_WIDTH = 40


def _filter_options(func: click.decorators.FC) -> click.decorators.FC:
    for option in reversed(
        [
            click.option("--status", type=click.Choice(STATUSES), help="Only this status"),
            click.option("--category", type=click.Choice(sorted(BY_ID)), help="Only this category"),
            click.option("--source", type=click.Choice(SOURCES), help="Only this source"),
            click.option(
                "--confirmed/--unconfirmed", default=None, help="Only confirmed (or unconfirmed) ones"
            ),
            click.option(
                "--limit",
                type=click.IntRange(1, store.MAX_LIST),
                default=store.MAX_LIST,
                show_default=True,
                help="At most this many, newest first",
            ),  # fmt: skip
        ]
    ):
        func = option(func)
    return func


def _filters(
    status: str | None, category: str | None, source: str | None, confirmed: bool | None, limit: int
) -> store.Filters:
    return store.Filters(category=category, status=status, source=source, confirmed=confirmed, limit=limit)


@click.group(name="reports")
def cli() -> None:
    """被害報告 / Damage reports: list and export."""


@cli.command("list")
@_filter_options
@click.option("--json", "as_json", is_flag=True, help="The API's JSON instead of lines")
@config_errors_exit
def list_reports(
    status: str | None,
    category: str | None,
    source: str | None,
    confirmed: bool | None,
    limit: int,
    as_json: bool,
) -> None:
    """Reports, newest first: number, time (UTC), category, status, source, place, note (masked)."""
    with open_database() as (_settings, sessions), sessions() as session:
        reports = store.find(session, _filters(status, category, source, confirmed, limit))
        if as_json:
            listed = store.listing(session, reports)
            click.echo(json.dumps({"reports": listed}, ensure_ascii=False, indent=2))
            return
        for r in reports:
            place = (
                f"{r.lat:.5f},{r.lon:.5f}" if r.lat is not None and r.lon is not None else (r.address or "-")
            )
            mark = "" if r.confirmed else " (要確認 / unconfirmed)"
            note = (r.note or "").replace("\n", " ")[:NOTE_WIDTH]
            click.echo(
                f"{report_number(r.id)}  {r.created_at:%Y-%m-%d %H:%M}  {r.category}  {r.status}  "
                f"{r.source}{mark}  {place}  {note}"
            )
        click.echo(f"{len(reports)} 件 / reports", err=True)


@cli.command("export")
@_filter_options
@click.option("--geojson", "geojson_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Write an RFC 7946 FeatureCollection (reports with a place)")  # fmt: skip
@click.option("--csv", "csv_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Write UTF-8 CSV with a BOM (every report)")  # fmt: skip
@config_errors_exit
def export(
    status: str | None,
    category: str | None,
    source: str | None,
    confirmed: bool | None,
    limit: int,
    geojson_file: Path | None,
    csv_file: Path | None,
) -> None:
    """Export reports as GeoJSON or CSV (notes masked), as the staff API does."""
    if (geojson_file is None) == (csv_file is None):
        raise click.UsageError(
            "--geojson FILE か --csv FILE のどちらか一つ / give exactly one of --geojson FILE, --csv FILE"
        )
    with open_database() as (_settings, sessions), sessions() as session:
        reports = store.find(session, _filters(status, category, source, confirmed, limit))
        if geojson_file is not None:
            collection = store.geojson(reports)
            geojson_file.write_text(json.dumps(collection, ensure_ascii=False), encoding="utf-8")
            click.echo(f"{len(collection['features'])} 件を書き出しました / wrote {geojson_file}")
        elif csv_file is not None:
            csv_file.write_bytes(store.as_csv(reports).encode("utf-8"))
            click.echo(f"{len(reports)} 件を書き出しました / wrote {csv_file}")
