"""Public posts carrying the configured hashtags (REPORT_HASHTAGS) on Mastodon (the server's public tag
timeline, `GET /api/v1/timelines/tag/:hashtag`), Bluesky (`app.bsky.feed.searchPosts` on
BLUESKY_SEARCH_BASE_URL) and, when X_SEARCH_ENABLED, X (recent search, `reports.x_search`) become
reports to confirm (`confirmed = False`, category "other"), with the source, the author's handle, the
link and the coordinates when the network gives them (X's `geo.coordinates`). A post is stored once
(source, post ID), however often it is seen. Run by the notifier's workers as a periodic job
(`notifier.report_hashtags_job`).

Posts are public, but a handle is still a person's: only the handle, the link, the text (masked) and
the place are kept, and the report follows the same retention as others.
"""

from __future__ import annotations

import html
import logging
import re
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy.orm import Session

from app.settings import Settings
from platforms.http_calls import in_thread
from reports import report_store as store
from reports import x_search
from reports.report_kinds import OTHER
from storage.aio import AsyncDb

log = logging.getLogger(__name__)
TIMEOUT = 10.0
LIMIT = 40
_TAGS = re.compile(r"<[^>]{0,2000}>")


@dataclass(frozen=True)
class TaggedPost:
    source: str
    external_id: str
    text: str
    author: str
    link: str
    lat: float | None = None
    lon: float | None = None


def plain(content: str) -> str:
    """Mastodon's HTML content as text (tags dropped, entities decoded)."""
    return html.unescape(_TAGS.sub(" ", content.replace("</p>", "\n"))).strip()


def mastodon_posts(statuses: Any, base: str) -> list[TaggedPost]:
    """Posts of a tag timeline (malformed items are skipped)."""
    posts = []
    for s in statuses if isinstance(statuses, list) else []:
        try:
            account = s["account"]
            text = plain(str(s.get("content") or s.get("text") or ""))
            posts.append(TaggedPost("mastodon", str(s["id"])[:300], text, "@" + str(account["acct"])[:190],
                              str(s.get("url") or s.get("uri") or base)[:500]))  # fmt: skip
        except (KeyError, TypeError):
            continue
    return posts


def bluesky_posts(body: Any) -> list[TaggedPost]:
    posts = []
    for p in body.get("posts", []) if isinstance(body, dict) else []:
        try:
            uri, handle = str(p["uri"]), str(p["author"]["handle"])
            rkey = uri.rsplit("/", 1)[-1]
            link = f"https://bsky.app/profile/{handle}/post/{rkey}"
            posts.append(
                TaggedPost("bluesky", uri[:300], str(p["record"]["text"]), "@" + handle[:190], link[:500])
            )
        except (KeyError, TypeError):
            continue
    return posts


def x_posts(body: Any) -> list[TaggedPost]:
    """Posts of an X recent search answer, with their coordinates when they have them."""
    posts = []
    for p in x_search.posts_of(body):
        lat, lon = p["place"] or (None, None)
        posts.append(TaggedPost("x", p["id"], p["text"], p["author"], p["link"], lat, lon))
    return posts


async def fetch(settings: Settings, client: httpx.AsyncClient) -> list[TaggedPost]:
    """The posts of every configured hashtag on each network (a network that fails is logged and
    skipped this round: the next run tries again; X stops for the round at its first failure)."""
    posts: list[TaggedPost] = []
    search_x = settings.x_search_enabled and x_search.has_credentials(settings)
    if settings.x_search_enabled and not search_x:
        log.warning("X search is enabled but the X API keys are not set: X is not searched")
    for tag in settings.report_hashtags:
        if search_x:
            found, search_x = await _search_x(settings, tag)
            posts += found
        if settings.mastodon_api_base_url:
            base = settings.mastodon_api_base_url.rstrip("/")
            posts += await _get(client, f"{base}/api/v1/timelines/tag/{tag}", {"limit": LIMIT},
                                lambda body, b=base: mastodon_posts(body, b))  # fmt: skip
        if settings.bluesky_search_base_url:
            url = settings.bluesky_search_base_url.rstrip("/") + "/xrpc/app.bsky.feed.searchPosts"
            posts += await _get(client, url, {"q": f"#{tag}", "limit": LIMIT}, bluesky_posts)
    return posts


async def _get(client: httpx.AsyncClient, url: str, params: dict[str, Any], parse: Any) -> list[TaggedPost]:
    try:
        response = await client.get(url, params=params)
        response.raise_for_status()
        found: list[TaggedPost] = parse(response.json())
        return found
    except (httpx.HTTPError, ValueError) as exc:
        log.warning(
            "hashtag collection failed", extra={"url": url.split("?")[0], "error": type(exc).__name__}
        )
        return []


async def _search_x(settings: Settings, tag: str) -> tuple[list[TaggedPost], bool]:
    """X's posts for `tag`, and whether to keep searching X this round."""
    try:
        return x_posts(await in_thread(x_search.search, settings, tag)), True
    except x_search.XSearchUnavailable as exc:
        log.warning(
            "X search is not part of this account's API tier (%s): X is skipped this round; "
            "set X_SEARCH_ENABLED=false to stop asking",
            exc,
        )
    except x_search.XSearchFailed as exc:
        log.warning("hashtag collection failed: X search skipped this round (%s)", exc)
    return [], False


def store_posts(session: Session, posts: list[TaggedPost]) -> int:
    """Store new posts as unconfirmed reports; how many were new."""
    added = 0
    for post in posts:
        new = store.NewReport(
            category=OTHER,
            source=post.source,
            note=post.text,
            author=post.author,
            link=post.link,
            lat=post.lat,
            lon=post.lon,
            external_id=post.external_id,
            confirmed=False,
        )
        if store.create(session, new, "system") is not None:
            added += 1
    return added


async def collect(settings: Settings, db: AsyncDb) -> int:
    """One round: fetch and store; the number of new reports."""
    if not settings.report_hashtags:
        return 0
    async with httpx.AsyncClient(timeout=TIMEOUT, follow_redirects=False) as client:
        posts = await fetch(settings, client)
    added: int = await db.run(store_posts, posts) if posts else 0
    if added:
        log.info("hashtag collection: %d new reports to confirm", added, extra={"added": added})
    return added
