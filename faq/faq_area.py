"""The FAQ's place in the app (`app.main.AREAS`): the JSON API and the staff page, and the lifespan that
seeds the database and loads the index."""

from __future__ import annotations

from fastapi import APIRouter

from faq import faq_api, faq_page, improve_api
from faq.faq_api import lifespan

__all__ = ["lifespan", "router"]

router = APIRouter(routes=[*faq_api.router.routes, *improve_api.router.routes, *faq_page.router.routes])
