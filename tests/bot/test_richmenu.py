"""The rich menu: its JSON passes LINE's checks, its image is drawn with a Japanese font, and the CLI
deploys it through the adapter to the fake LINE server."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest
from PIL import Image

from bot import rich_menu
from bot.conversation import postback_data as pb
from fakes.fake_line import FakeLine
from fakes.fake_line_rules import rich_menu_errors
from fakes.fake_server import FakeServer
from tests.cli_runner import suita
from tests.line_fixtures import LINE_TOKEN


def test_menu_json_is_what_line_accepts() -> None:
    menu = rich_menu.menu_json()
    assert rich_menu_errors(menu) == []
    areas = menu["areas"]
    assert len(areas) == 7
    assert (
        sum(a["bounds"]["width"] * a["bounds"]["height"] for a in areas) == rich_menu.WIDTH * rich_menu.HEIGHT
    )
    for area in areas:
        action = area["action"]
        data = action.get("data")
        assert action["type"] == "uri" or pb.decode(data) is not None or data == rich_menu.REPORT_DAMAGE_DATA
    bar = areas[-1]
    assert bar["bounds"] == {
        "x": 0,
        "y": rich_menu.GRID_HEIGHT,
        "width": 2500,
        "height": rich_menu.BAR_HEIGHT,
    }
    assert bar["action"] == {"type": "postback", "data": "a=rp&s=start", "displayText": "被害を報告"}


@pytest.mark.usefixtures("cjk_font")
def test_image_has_the_menu_size_and_fits_line_limit() -> None:
    data = rich_menu.draw()
    image = Image.open(io.BytesIO(data))  # in memory: nothing to close
    assert image.size == (rich_menu.WIDTH, rich_menu.HEIGHT)
    assert len(data) <= rich_menu.MAX_IMAGE_BYTES
    colours = {image.getpixel((b["x"] + 30, b["y"] + 30)) for b in map(rich_menu.bounds, range(6))}
    assert len(colours) == 3  # the tiles are painted, alternating colours
    bar = rich_menu.bounds(6)
    assert image.getpixel((bar["x"] + 30, bar["y"] + 30)) == (0xB3, 0x26, 0x1E)
    label = image.crop((bar["x"] + 200, bar["y"] + 60, bar["x"] + bar["width"] - 200, bar["y"] + 270))
    assert sum(label.convert("L").histogram()[201:]) > 5000  # white strokes of 被害を報告 / Report damage


@pytest.mark.usefixtures("cjk_font")
def test_image_text_is_drawn_with_the_cjk_font() -> None:
    """Drawn with a font lacking Japanese, the titles would be empty boxes: compare ink."""
    font = rich_menu.find_font()
    assert "CJK" in font.name or "JP" in font.name or font.suffix in (".ttc", ".ttf", ".otf")
    image = Image.open(io.BytesIO(rich_menu.draw(font)))
    b = rich_menu.bounds(0)
    title = image.crop((b["x"] + 100, b["y"] + 200, b["x"] + b["width"] - 100, b["y"] + 420)).convert("L")
    assert sum(title.histogram()[201:]) > 2000  # white strokes of 使い方


def test_no_font_is_a_clear_error_naming_the_package(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(rich_menu, "FONT_CANDIDATES", ())
    monkeypatch.setattr(rich_menu, "FONT_PATTERNS", ())
    monkeypatch.setattr(shutil, "which", lambda name: None)  # no fc-list
    with pytest.raises(rich_menu.FontNotFound, match="apt install fonts-noto-cjk"):
        rich_menu.find_font()
    result = suita("bot", "richmenu", "image", "-o", str(tmp_path / "m.png"))
    assert result.exit_code == 1 and "fonts-noto-cjk" in result.output
    with pytest.raises(rich_menu.FontNotFound, match="font file not found"):
        rich_menu.find_font(tmp_path / "missing.ttf")


@pytest.mark.usefixtures("cjk_font")
def test_cli_json_and_image(tmp_path: Path) -> None:
    shown = suita("bot", "richmenu", "json")
    assert shown.exit_code == 0 and json.loads(shown.output) == rich_menu.menu_json()
    out = tmp_path / "menu.png"
    drawn = suita("bot", "richmenu", "image", "-o", str(out))
    assert drawn.exit_code == 0
    with Image.open(out) as image:
        assert image.size == (2500, 1686)


def _env(line_server: FakeServer) -> dict[str, str]:
    return {
        "LINE_API_BASE_URL": line_server.url,
        "LINE_DATA_API_BASE_URL": line_server.url,
        "LINE_CHANNEL_ACCESS_TOKEN": LINE_TOKEN,
        "DATABASE_URL": "sqlite://",
    }


@pytest.mark.usefixtures("cjk_font")
def test_cli_deploy_replaces_the_previous_menu(line_server: FakeServer, fake_line: FakeLine) -> None:
    first = suita("bot", "richmenu", "deploy", env=_env(line_server))
    assert first.exit_code == 0, first.output
    second = suita("bot", "richmenu", "deploy", env=_env(line_server))
    assert second.exit_code == 0 and "removed 1 older version(s)" in second.output
    state = fake_line.dump()
    (menu,) = state["richMenus"]
    assert state["defaultRichMenuId"] == menu["richMenuId"] and menu["richMenuId"] in second.output
    assert state["richMenuImages"][menu["richMenuId"]]["size"] == (2500, 1686)


@pytest.mark.usefixtures("cjk_font")
def test_cli_deploy_reports_line_errors(line_server: FakeServer, fake_line: FakeLine) -> None:
    fake_line.fail(
        "status", status=401, body={"message": "Authentication failed"}, path="/richmenu", times=-1
    )
    result = suita("bot", "richmenu", "deploy", env=_env(line_server))
    assert result.exit_code == 1 and "401" in result.output and LINE_TOKEN not in result.output


def test_cli_deploy_without_a_token_names_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    """Checked before the image is drawn: named even where no CJK font is installed."""
    monkeypatch.setattr(rich_menu, "draw", lambda font=None: pytest.fail("drawn before the token check"))
    result = suita("bot", "richmenu", "deploy", env={"DATABASE_URL": "sqlite://"})
    assert result.exit_code == 1 and "LINE_CHANNEL_ACCESS_TOKEN" in result.output
