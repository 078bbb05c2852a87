"""X's recent search (`GET /2/tweets/search/recent`) for the hashtag collection, through tweepy's
`Client.search_recent_tweets` (user context, the city account's keys) against `X_API_BASE_URL`.

Only when `X_SEARCH_ENABLED` is set: search is not in every API tier. X answers a tier without search
with a 403 whose `reason` is "client-not-enrolled" (or error code 453); that is `XSearchUnavailable`,
and the collector stops asking X for the rest of the round instead of repeating the refusal.
"""

from __future__ import annotations

import html
import math
from typing import Any

import requests

from app.settings import Settings
from platforms.x_hosts import x_client, x_session

MAX_RESULTS = 100  # X's upper bound for recent search
TIER_REASONS = frozenset({"client-not-enrolled"})
TIER_CODE = 453  # "You currently have access to a subset of X API V2 endpoints ..."


class XSearchUnavailable(Exception):
    """The account's API tier does not include search (X's 403 client-not-enrolled or code 453)."""


class XSearchFailed(Exception):
    """Any other failed search (429, 5xx, network, an unexpected answer); the text says which."""


def has_credentials(settings: Settings) -> bool:
    """Whether the four user-context keys of X are set."""
    keys = (
        settings.x_api_key,
        settings.x_api_secret,
        settings.x_access_token,
        settings.x_access_token_secret,
    )
    return all(k is not None and k.get_secret_value() for k in keys)


def query_for(tag: str) -> str:
    """The search query of one hashtag: original posts only."""
    return f"#{tag} -is:retweet"


def search(settings: Settings, tag: str) -> Any:
    """The JSON body of one recent search for `tag` (blocking: run it in a thread). Raises
    `XSearchUnavailable` for the tier refusal, `XSearchFailed` for anything else."""
    import tweepy  # ~15 MB, loaded only when X is searched

    session = x_session(settings.x_api_base_url, settings.notifier_request_timeout)
    client = x_client(settings, session)
    try:
        response: requests.Response = client.search_recent_tweets(
            query_for(tag),
            max_results=MAX_RESULTS,
            tweet_fields=["author_id", "created_at", "geo"],
            expansions=["author_id", "geo.place_id"],
            user_fields=["username"],
            user_auth=True,
        )
        return response.json()
    except tweepy.Forbidden as exc:
        if tier_refusal(exc.response):
            raise XSearchUnavailable(_detail(exc.response)) from None
        raise XSearchFailed(f"403 {_detail(exc.response)}") from None
    except tweepy.HTTPException as exc:
        raise XSearchFailed(f"{exc.response.status_code} {_detail(exc.response)}") from None
    except (requests.RequestException, ValueError) as exc:
        raise XSearchFailed(type(exc).__name__) from None
    finally:
        session.close()


def tier_refusal(response: requests.Response) -> bool:
    """Whether a 403 says the API tier has no access to the endpoint."""
    try:
        body = response.json()
    except ValueError:
        return False
    if not isinstance(body, dict):
        return False
    codes = {e.get("code") for e in body.get("errors", []) if isinstance(e, dict)}
    return body.get("reason") in TIER_REASONS or TIER_CODE in codes


def _detail(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.reason or ""
    if not isinstance(body, dict):
        return ""
    return str(body.get("reason") or body.get("title") or body.get("detail") or "")[:200]


def coordinates(tweet: dict[str, Any]) -> tuple[float, float] | None:
    """(lat, lon) of a post's exact location (`geo.coordinates`, a GeoJSON Point `[lon, lat]`), or
    None when it has none or they are not valid WGS 84 coordinates."""
    try:
        point = tweet["geo"]["coordinates"]
        lon, lat = (float(v) for v in point["coordinates"])
    except (KeyError, TypeError, ValueError):
        return None
    if not (math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    return lat, lon


def posts_of(body: Any) -> list[dict[str, Any]]:
    """The posts of a search answer as plain fields (`id`, `text`, `author`, `link`, `place`); items
    without an id or a known author are skipped."""
    if not isinstance(body, dict):
        return []
    users = {
        str(u.get("id")): str(u.get("username"))
        for u in (body.get("includes") or {}).get("users", [])
        if isinstance(u, dict) and u.get("username")
    }
    found = []
    for tweet in body.get("data") or []:
        if not isinstance(tweet, dict) or "id" not in tweet:
            continue
        username = users.get(str(tweet.get("author_id")))
        if username is None:
            continue
        tweet_id = str(tweet["id"])[:300]
        found.append(
            {
                "id": tweet_id,
                "text": html.unescape(str(tweet.get("text", ""))),
                "author": "@" + username[:190],
                "link": f"https://x.com/{username}/status/{tweet_id}"[:500],
                "place": coordinates(tweet),
            }
        )
    return found
