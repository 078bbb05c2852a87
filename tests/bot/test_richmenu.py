"""The rich menu: its JSON passes LINE's checks, its image is drawn with a Japanese font, and the CLI
deploys it through the adapter to the fake LINE server."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest
from PIL import Image

from app.topics import DEFAULT_TOPICS
from bot import rich_menu
from bot.conversation import dialogue as cv
from bot.conversation import postback_data as pb
from fakes.fake_line import FakeLine
from fakes.fake_line_rules import rich_menu_errors
from fakes.fake_server import FakeServer
from reports import line_flow
from tests.cli_runner import suita
from tests.line_fixtures import LINE_TOKEN


def test_menu_json_is_what_line_accepts() -> None:
    menu = rich_menu.menu_json()
    assert rich_menu_errors(menu) == []
    areas = menu["areas"]
    assert len(areas) == 7  # "report damage" (two cells wide) and six others on a 4×2 grid
    assert (
        sum(a["bounds"]["width"] * a["bounds"]["height"] for a in areas) == rich_menu.WIDTH * rich_menu.HEIGHT
    )
    for area in areas:
        action = area["action"]
        assert action["type"] == "uri" or pb.decode(action["data"]) is not None


def test_the_disaster_menu_starts_the_report_flow() -> None:
    menu = rich_menu.menu_json("disaster")
    assert rich_menu_errors(menu) == []
    report = menu["areas"][0]["action"]
    assert report["type"] == "postback" and report["displayText"].startswith("被害を報告")
    assert line_flow.decode(report["data"]) == {"a": "rp", "s": "start"}
    assert pb.decode(report["data"]) == pb.Postback("rp", {"s": "start"})
    for area in menu["areas"]:
        action = area["action"]
        assert action["type"] == "uri" or pb.decode(action["data"]) is not None


def test_a_report_button_without_the_reports_flow_gives_the_emergency_numbers() -> None:
    turn = cv.handle(
        cv.Incoming("postback", "a=rp&s=start"), cv.UserState(), cv.Context(DEFAULT_TOPICS, None, nonce="n")
    )
    assert "119" in turn.messages[0]["text"] and "110" in turn.messages[0]["text"]


@pytest.mark.usefixtures("cjk_font")
def test_image_has_the_menu_size_and_fits_line_limit() -> None:
    data = rich_menu.draw()
    image = Image.open(io.BytesIO(data))  # in memory: nothing to close
    assert image.size == (rich_menu.WIDTH, rich_menu.HEIGHT)
    assert len(data) <= rich_menu.MAX_IMAGE_BYTES
    colours = [image.getpixel((b["x"] + 30, b["y"] + 30)) for b in map(rich_menu.bounds, range(7))]
    assert len(set(colours)) == 4 and colours[0] == (0xB3, 0x26, 0x1E)  # painted; "report damage" red
    for i in range(6):  # neighbours on a row differ
        assert colours[i] != colours[i + 1] or rich_menu.bounds(i)["y"] != rich_menu.bounds(i + 1)["y"]


@pytest.mark.usefixtures("cjk_font")
def test_disaster_image_keeps_its_six_tiles() -> None:
    image = Image.open(io.BytesIO(rich_menu.draw(kind="disaster")))
    assert image.size == (rich_menu.WIDTH, rich_menu.HEIGHT)
    colours = {
        image.getpixel((b["x"] + 30, b["y"] + 30))
        for b in (rich_menu.bounds(i, "disaster") for i in range(6))
    }
    assert len(colours) == 3


@pytest.mark.usefixtures("cjk_font")
def test_image_text_is_drawn_with_the_cjk_font() -> None:
    """Drawn with a font lacking Japanese, the titles would be empty boxes: compare ink."""
    font = rich_menu.find_font()
    assert "CJK" in font.name or "JP" in font.name or font.suffix in (".ttc", ".ttf", ".otf")
    image = Image.open(io.BytesIO(rich_menu.draw(font)))
    b = rich_menu.bounds(0)
    title = image.crop((b["x"] + 100, b["y"] + 200, b["x"] + b["width"] - 100, b["y"] + 420)).convert("L")
    assert sum(title.histogram()[201:]) > 2000  # white strokes of 被害を報告


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
