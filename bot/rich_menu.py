"""The bot's rich menus: their JSON (2500×1686 px, tiles on a grid) and images, drawn by code with
Pillow. Two kinds: `main` (the everyday menu: a wide "report damage" tile and six others on a 4×2
grid) and `disaster` (six tiles, 3×2: report damage, shelters and evacuation, emergency numbers,
language, …), which disaster mode (`bot.disaster_mode`) makes the default.

Japanese labels need a CJK font: `find_font()` looks for Noto Sans CJK (Debian/Ubuntu package
`fonts-noto-cjk`) and other common Japanese fonts, and raises `FontNotFound` naming the package.
Texts are in `templates/messages/bot/richmenu*.txt.j2`; `bot.bot_cli` deploys the main menu and
`install` creates any of them at LINE.
"""

from __future__ import annotations

import glob
import io
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PIL import Image, ImageDraw, ImageFont

from app.templating import jinja_env
from bot.conversation import postback_data as pb

if TYPE_CHECKING:
    from platforms.line_api import LineApi

WIDTH, HEIGHT = 2500, 1686
MAX_IMAGE_BYTES = 1024 * 1024
CITY_WEBSITE = "https://www.city.suita.osaka.jp/"
GREEN, BLUE, PURPLE, RED = "#00693e", "#0b5cad", "#6a3d9a", "#b3261e"  # each AA contrast with white


@dataclass(frozen=True)
class Grid:
    """A menu's layout: `columns` × `rows` cells; each tile's (column, row, columns spanned) and colour,
    in tile order (neighbours differ in colour)."""

    columns: int
    rows: int
    cells: tuple[tuple[int, int, int], ...]
    colours: tuple[str, ...]


GRIDS = {
    "main": Grid(
        4,
        2,
        ((0, 0, 2), (2, 0, 1), (3, 0, 1), (0, 1, 1), (1, 1, 1), (2, 1, 1), (3, 1, 1)),
        (RED, BLUE, PURPLE, GREEN, BLUE, PURPLE, GREEN),
    ),
    "disaster": Grid(
        3,
        2,
        tuple((i % 3, i // 3, 1) for i in range(6)),
        (GREEN, BLUE, PURPLE, BLUE, PURPLE, GREEN),
    ),
}
FONT_PACKAGE = "fonts-noto-cjk"
FONT_CANDIDATES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/truetype/fonts-japanese-gothic.ttf",
    "/System/Library/Fonts/ヒラギノ角ゴシック W6.ttc",
    "/Library/Fonts/Arial Unicode.ttf",
)
FONT_PATTERNS = ("/usr/share/fonts/**/NotoSansCJK*", "/usr/share/fonts/**/NotoSansJP*")


class FontNotFound(RuntimeError):
    """No font that can draw Japanese was found."""


@dataclass(frozen=True)
class Tile:
    ja: str
    en: str
    action: dict[str, Any]


MENUS = ("main", "disaster")


def texts(kind: str = "main") -> Any:
    name = "richmenu" if kind == "main" else f"richmenu_{kind}"
    return jinja_env().get_template(f"messages/bot/{name}.txt.j2").module


def _postback(action: str, display: str, **params: str) -> dict[str, Any]:
    return {"type": "postback", "data": pb.encode(action, **params), "displayText": display}


def _actions(kind: str, link: str | None) -> list[dict[str, Any]]:
    if kind == "disaster":
        return [
            _postback("rp", texts(kind).report_text, s="start"),  # starts the reports area's flow
            {"type": "uri", "uri": link or CITY_WEBSITE},
            _postback("emergency", "緊急連絡先"),
            _postback("lang", "言語 / Language"),
            _postback("menu", "メニュー"),
            {"type": "uri", "uri": CITY_WEBSITE},
        ]
    return [
        _postback("rp", texts(kind).report_text, s="start"),  # as the disaster menu's first tile
        _postback("menu", "メニュー"),
        _postback("topics", "配信テーマ"),
        _postback("settings", "現在の設定"),
        _postback("lang", "言語 / Language"),
        _postback("contact", "問い合わせ先"),
        {"type": "uri", "uri": CITY_WEBSITE},
    ]


def tiles(kind: str = "main", link: str | None = None) -> list[Tile]:
    """The tiles, left to right, top to bottom (`link`: the disaster menu's shelters tile)."""
    labels = texts(kind).tiles
    return [Tile(t["ja"], t["en"], a) for t, a in zip(labels, _actions(kind, link), strict=True)]


def bounds(index: int, kind: str = "main") -> dict[str, int]:
    """The rectangle of tile `index` of the menu `kind`; the last column and row absorb the rounding."""
    grid = GRIDS[kind]
    col, row, span = grid.cells[index]
    w, h = WIDTH // grid.columns, HEIGHT // grid.rows
    x, y = col * w, row * h
    return {
        "x": x,
        "y": y,
        "width": WIDTH - x if col + span == grid.columns else span * w,
        "height": HEIGHT - y if row == grid.rows - 1 else h,
    }


def menu_json(kind: str = "main", link: str | None = None) -> dict[str, Any]:
    """The rich menu object for `POST /v2/bot/richmenu`."""
    t = texts(kind)
    return {
        "size": {"width": WIDTH, "height": HEIGHT},
        "selected": True,
        "name": t.name,
        "chatBarText": t.chat_bar,
        "areas": [
            {"bounds": bounds(i, kind), "action": tile.action} for i, tile in enumerate(tiles(kind, link))
        ],
    }


async def install(api: LineApi, menu: dict[str, Any], image: bytes) -> str:
    """Create `menu` at LINE, upload its image and make it the default; returns its ID."""
    from linebot.v3 import messaging as lm  # the SDK: loaded on first use

    content_type = "image/png" if image.startswith(b"\x89PNG") else "image/jpeg"
    menu_id = await api.create_rich_menu(lm.RichMenuRequest.from_dict(menu))
    await api.upload_rich_menu_image(menu_id, image, content_type)
    await api.set_default_rich_menu(menu_id)
    return menu_id


def find_font(explicit: str | Path | None = None) -> Path:
    """A font file that can draw Japanese; `FontNotFound` names the package to install."""
    if explicit is not None:
        path = Path(explicit)
        if not path.is_file():
            raise FontNotFound(f"font file not found: {path}")
        return path
    for candidate in FONT_CANDIDATES:
        if Path(candidate).is_file():
            return Path(candidate)
    for pattern in FONT_PATTERNS:
        found = sorted(glob.glob(pattern, recursive=True))
        if found:
            return Path(found[0])
    listed = _fontconfig_japanese()
    if listed is not None:
        return listed
    raise FontNotFound(
        "no Japanese (CJK) font found to draw the rich menu: install one "
        f"(Debian/Ubuntu: apt install {FONT_PACKAGE}) or pass --font /path/to/font.ttc"
    )


def _fontconfig_japanese() -> Path | None:
    if shutil.which("fc-list") is None:
        return None
    out = subprocess.run(["fc-list", ":lang=ja", "file"], capture_output=True, text=True, check=False)
    files = sorted(line.split(":")[0].strip() for line in out.stdout.splitlines() if line.strip())
    return Path(files[0]) if files else None


def draw(font_path: str | Path | None = None, kind: str = "main") -> bytes:
    """The menu image as PNG (JPEG if the PNG would exceed LINE's 1 MB limit)."""
    path = find_font(font_path)
    image = Image.new("RGB", (WIDTH, HEIGHT), "#ffffff")
    pen = ImageDraw.Draw(image)
    colours = GRIDS[kind].colours
    for i, tile in enumerate(tiles(kind)):
        b = bounds(i, kind)
        box = (b["x"] + 8, b["y"] + 8, b["x"] + b["width"] - 8, b["y"] + b["height"] - 8)
        pen.rounded_rectangle(box, radius=40, fill=colours[i])
        cx, cy = b["x"] + b["width"] // 2, b["y"] + b["height"] // 2
        room = b["width"] - 80
        pen.text((cx, cy - 60), tile.ja, font=_fit(tile.ja, path, 150, room), fill="#ffffff", anchor="mm")
        pen.text((cx, cy + 110), tile.en, font=_fit(tile.en, path, 90, room), fill="#ffffff", anchor="mm")
    return _encode(image)


def _fit(text: str, path: Path, size: int, width: int) -> Any:
    """The largest font size up to `size` at which `text` fits in `width` pixels."""
    font = ImageFont.truetype(str(path), size)
    while size > 40 and font.getlength(text) > width:
        size -= 10
        font = ImageFont.truetype(str(path), size)
    return font


def _encode(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, "PNG", optimize=True)
    if buf.tell() <= MAX_IMAGE_BYTES:
        return buf.getvalue()
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=85)
    return buf.getvalue()
