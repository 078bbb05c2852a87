"""Rich-menu calls of `LineApi` (create, upload the image, set the default, alias, list, delete)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from linebot.v3 import messaging as lm

from platforms.line_retry import Answer
from platforms.line_types import RichMenuInfo, build_request


class RichMenuCalls:
    """Mixed into `LineApi`, which provides the SDK clients and `_call` (retries, logging, errors)."""

    _messaging: Any
    _blob: Any

    async def _call(
        self,
        endpoint: str,
        fn: Callable[..., Awaitable[Any]],
        *args: Any,
        retry_key: str | None = None,
        **kw: Any,
    ) -> Answer:
        raise NotImplementedError

    async def create_rich_menu(self, menu: Any) -> str:
        """Create a rich menu from an SDK `RichMenuRequest`; returns its ID."""
        answer = await self._call("richmenu_create", self._messaging.create_rich_menu_with_http_info, menu)
        return str(answer.data.rich_menu_id)

    async def upload_rich_menu_image(
        self, rich_menu_id: str, image: bytes, content_type: str = "image/png"
    ) -> None:
        """Attach the menu's image (PNG or JPEG, the menu's exact size, ≤ 1 MB); once per menu."""
        # The SDK sends no Content-Type for this call unless told (it would default to JSON).
        await self._call(
            "richmenu_image",
            self._blob.set_rich_menu_image_with_http_info,
            rich_menu_id,
            image,
            _headers={"Content-Type": content_type},
        )

    async def set_default_rich_menu(self, rich_menu_id: str) -> None:
        await self._call(
            "richmenu_default", self._messaging.set_default_rich_menu_with_http_info, rich_menu_id
        )

    async def create_rich_menu_alias(self, alias_id: str, rich_menu_id: str) -> None:
        request = build_request(
            "richmenu_alias",
            lm.CreateRichMenuAliasRequest,
            rich_menu_alias_id=alias_id,
            rich_menu_id=rich_menu_id,
        )
        await self._call("richmenu_alias", self._messaging.create_rich_menu_alias_with_http_info, request)

    async def rich_menus(self) -> list[RichMenuInfo]:
        answer = await self._call("richmenu_list", self._messaging.get_rich_menu_list_with_http_info)
        return [
            RichMenuInfo(m.rich_menu_id, m.name, m.chat_bar_text, m.selected) for m in answer.data.richmenus
        ]

    async def delete_rich_menu(self, rich_menu_id: str) -> None:
        await self._call("richmenu_delete", self._messaging.delete_rich_menu_with_http_info, rich_menu_id)
