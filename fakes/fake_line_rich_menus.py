"""Rich menus in the fake LINE server: create, validate, list, get, delete, image upload, default
menu and aliases, with the checks LINE makes (image type, size and dimensions, one image per menu)."""

from __future__ import annotations

import io
import threading
import uuid
from dataclasses import dataclass
from typing import Any

from PIL import Image, UnidentifiedImageError
from starlette.responses import Response

from fakes.fake_line_http import Ctx, answer, bad_request, not_found
from fakes.fake_line_rules import MAX_RICH_MENU_IMAGE, detail, error_body, rich_menu_errors

IMAGE_TYPES = ("image/png", "image/jpeg")


@dataclass(frozen=True)
class MenuImage:
    content_type: str
    data: bytes
    size: tuple[int, int]


class RichMenus:
    """Rich menu state and handlers; `FakeLine` mounts the handlers on the official paths."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.menus: dict[str, dict[str, Any]] = {}
        self.images: dict[str, MenuImage] = {}
        self.aliases: dict[str, str] = {}
        self.default_id: str | None = None

    def reset(self) -> None:
        with self.lock:
            self.menus.clear()
            self.images.clear()
            self.aliases.clear()
            self.default_id = None

    def dump(self) -> dict[str, Any]:
        with self.lock:
            return {
                "richMenus": list(self.menus.values()),
                "richMenuImages": {
                    k: {"contentType": v.content_type, "size": v.size} for k, v in self.images.items()
                },
                "richMenuAliases": dict(self.aliases),
                "defaultRichMenuId": self.default_id,
            }

    # ---- handlers ----

    def create(self, ctx: Ctx) -> Response:
        errors = rich_menu_errors(ctx.json)
        if errors:
            return bad_request(errors)
        menu_id = f"richmenu-{uuid.uuid4().hex}"
        with self.lock:
            if len(self.menus) >= 1000:
                return answer(error_body("The maximum number of rich menus has been reached"), 400)
            self.menus[menu_id] = {"richMenuId": menu_id, **ctx.json}
        return answer({"richMenuId": menu_id})

    def validate(self, ctx: Ctx) -> Response:
        errors = rich_menu_errors(ctx.json)
        return bad_request(errors) if errors else answer({})

    def list(self, ctx: Ctx) -> Response:
        with self.lock:
            return answer({"richmenus": list(self.menus.values())})

    def get(self, ctx: Ctx) -> Response:
        with self.lock:
            menu = self.menus.get(ctx.param("id"))
        return answer(menu) if menu else not_found("richmenu not found")

    def delete(self, ctx: Ctx) -> Response:
        menu_id = ctx.param("id")
        with self.lock:
            if self.menus.pop(menu_id, None) is None:
                return not_found("richmenu not found")
            self.images.pop(menu_id, None)
            self.aliases = {a: m for a, m in self.aliases.items() if m != menu_id}
            if self.default_id == menu_id:
                self.default_id = None
        return answer({})

    def upload(self, ctx: Ctx) -> Response:
        menu_id = ctx.param("id")
        content_type = ctx.request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type not in IMAGE_TYPES:
            return answer(error_body("Content-Type must be image/png or image/jpeg"), 415)
        if len(ctx.body) > MAX_RICH_MENU_IMAGE:
            return answer(error_body("The image exceeds 1 MB"), 413)
        try:
            size = Image.open(io.BytesIO(ctx.body)).size
        except (UnidentifiedImageError, OSError):
            return answer(error_body("The image could not be read"), 400)
        with self.lock:
            menu = self.menus.get(menu_id)
            if menu is None:
                return not_found("richmenu not found")
            if menu_id in self.images:
                return answer(error_body("An image has already been uploaded to the richmenu"), 400)
            expected = (menu["size"]["width"], menu["size"]["height"])
            if size != expected:
                details = [
                    detail(f"Image must be {expected[0]}x{expected[1]} px, got {size[0]}x{size[1]}", "image")
                ]
                return bad_request(details, "The image size does not match the rich menu")
            self.images[menu_id] = MenuImage(content_type, ctx.body, size)
        return answer({})

    def set_default(self, ctx: Ctx) -> Response:
        menu_id = ctx.param("id")
        with self.lock:
            if menu_id not in self.menus:
                return not_found("richmenu not found")
            if menu_id not in self.images:
                return answer(error_body("must upload richmenu image before applying it to user"), 400)
            self.default_id = menu_id
        return answer({})

    def get_default(self, ctx: Ctx) -> Response:
        with self.lock:
            menu_id = self.default_id
        return answer({"richMenuId": menu_id}) if menu_id else not_found("no default richmenu")

    def cancel_default(self, ctx: Ctx) -> Response:
        with self.lock:
            self.default_id = None
        return answer({})

    def create_alias(self, ctx: Ctx) -> Response:
        alias, menu_id = ctx.json.get("richMenuAliasId"), ctx.json.get("richMenuId")
        if not isinstance(alias, str) or not 1 <= len(alias) <= 32:
            return bad_request([detail("Length must be between 1 and 32", "richMenuAliasId")])
        with self.lock:
            if menu_id not in self.menus:
                return bad_request([detail("richmenu not found", "richMenuId")])
            if menu_id not in self.images:
                return answer(error_body("must upload richmenu image before creating an alias"), 400)
            if alias in self.aliases:
                return answer(error_body("conflict richmenu alias id"), 400)
            self.aliases[alias] = str(menu_id)
        return answer({})
