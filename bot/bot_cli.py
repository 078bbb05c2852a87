"""Bot commands: `python -m bot richmenu json | image | deploy`."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import click

from app.cli import config_errors_exit
from app.settings import Settings, load_settings
from bot import rich_menu
from platforms.line_api import LineApi, LineApiError


@click.group()
def cli() -> None:
    """LINE ボットの管理コマンド / LINE bot commands."""


@cli.group("richmenu")
def richmenu_group() -> None:
    """The rich menu (the buttons under the chat): show, draw, deploy."""


@richmenu_group.command("json")
def show_json() -> None:
    """Print the rich menu object (what `deploy` creates)."""
    click.echo(json.dumps(rich_menu.menu_json(), ensure_ascii=False, indent=2))


@richmenu_group.command("image")
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=Path("rich_menu.png")
)
@click.option("--font", type=click.Path(dir_okay=False), help="A font file that has Japanese glyphs.")
def image(output: Path, font: str | None) -> None:
    """Draw the rich menu image into OUTPUT."""
    data = _draw(font)
    output.write_bytes(data)
    click.echo(f"wrote {output} ({len(data):,} bytes, {rich_menu.WIDTH}x{rich_menu.HEIGHT})")


@richmenu_group.command("deploy")
@click.option("--font", type=click.Path(dir_okay=False), help="A font file that has Japanese glyphs.")
@click.option("--keep-old", is_flag=True, help="Keep earlier menus of the same name.")
@config_errors_exit
def deploy(font: str | None, keep_old: bool) -> None:
    """Create the menu at LINE, upload its image, make it the default, delete the old versions."""
    settings = load_settings()
    LineApi.check_settings(settings)  # a missing token is named before the image is drawn
    data = _draw(font)
    try:
        menu_id, removed = asyncio.run(_deploy(settings, data, keep_old))
    except LineApiError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    click.echo(f"rich menu {menu_id} is the default; removed {removed} older version(s)")


def _draw(font: str | None) -> bytes:
    try:
        return rich_menu.draw(font)
    except rich_menu.FontNotFound as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)


async def _deploy(settings: Settings, image_data: bytes, keep_old: bool) -> tuple[str, int]:
    menu = rich_menu.menu_json()
    async with LineApi.open(settings) as api:
        menu_id = await rich_menu.install(api, menu, image_data)
        removed = 0
        if not keep_old:
            for old in await api.rich_menus():
                if old.name == menu["name"] and old.rich_menu_id != menu_id:
                    await api.delete_rich_menu(old.rich_menu_id)
                    removed += 1
    return menu_id, removed
