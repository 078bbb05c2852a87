"""Bluesky through atproto `com.atproto.repo.createRecord` with a record key (TID) chosen at scheduling.

The record key is the idempotency key: after an unclear attempt the channel first asks `getRecord`
for that key and only creates the record when it is absent (creating an existing key answers 500
today, bluesky-social/atproto#3718). Links become facets with UTF-8 byte offsets; a URL ends where
twitter-text ends it (so `詳しくはhttps://…/kurashi/をご覧ください` links only the address).

A PDS ends a session early by answering 400 `ExpiredToken` / `InvalidToken` (not 401): the channel then
refreshes the session with its refresh token, or logs in again when that is refused too, and retries
the call once.

A post with other languages (`BLUESKY_POST_LANGUAGES`) is a thread: each language a reply to the post
before it (`reply: {root, parent}`, strong references with uri and cid), each with its own record key,
derived from the delivery's (`part_key`: the next TIDs), so a look-up finds every post by its key
(`notifier.channels.thread_posts`).
"""

from __future__ import annotations

import datetime as dt
import secrets
import threading
import time
from typing import TYPE_CHECKING, Any

import httpx

from app.languages import LANGUAGES
from app.settings import Settings
from notifier.channels.channel_base import Channel, Outgoing, Published
from notifier.channels.thread_posts import ThreadStep, find_thread, language_tag, publish_thread
from platforms.call_errors import Ambiguous, ChannelError, RateLimited, Rejected, ServerError
from platforms.counting import graphemes
from platforms.followers import FollowerCount
from platforms.http_calls import from_httpx, in_thread, rate_info, short

if TYPE_CHECKING:
    from atproto import Client
    from atproto_client import exceptions as atx

# The atproto SDK takes about half a second to import: it is loaded on first use, so commands that
# never talk to Bluesky start fast.

POST = "app.bsky.feed.post"
MAX_BYTES = 3000
MAX_CIDS = 1000  # posts whose cid is kept for reply references (others are read back with getRecord)
SESSION_ENDED = ("ExpiredToken", "InvalidToken")  # a PDS's 400 answers to a token it no longer accepts
_S32 = "234567abcdefghijklmnopqrstuvwxyz"


def new_tid(micros: int | None = None, clock_id: int | None = None) -> str:
    """A record key: 53 bits of microseconds since the epoch and a 10-bit clock id, base32-sortable."""
    micros = time.time_ns() // 1000 if micros is None else micros
    clock_id = secrets.randbelow(1024) if clock_id is None else clock_id
    value = (micros << 10) | clock_id
    return "".join(_S32[(value >> shift) & 31] for shift in range(60, -1, -5))


def tid_after(tid: str, steps: int) -> str:
    """The record key `steps` clock ids after `tid` (still a valid, later TID)."""
    value = 0
    for char in tid:
        value = value * 32 + _S32.index(char)
    value += steps
    return "".join(_S32[(value >> shift) & 31] for shift in range(60, -1, -5))


def link_facets(text: str) -> list[dict[str, Any]]:
    """Link facets for every URL in `text`, indexed by UTF-8 byte offsets as the lexicon requires."""
    from twitter_text.extract_urls import extract_urls_with_indices  # loaded with the first post

    facets = []
    for found in extract_urls_with_indices(text, extract_urls_without_protocol=False):
        first, last = found["indices"]  # code point indices
        start = len(text[:first].encode("utf-8"))
        end = start + len(text[first:last].encode("utf-8"))
        facets.append(
            {
                "index": {"byteStart": start, "byteEnd": end},
                "features": [{"$type": "app.bsky.richtext.facet#link", "uri": found["url"]}],
            }
        )
    return facets


class BlueskyChannel(Channel):
    """The city's Bluesky account (the record key is the idempotency key; limits from the
    ratelimit-* headers)."""

    name = "bluesky"
    label = "Bluesky"
    limit = 300
    unit = "graphemes"
    max_bytes = MAX_BYTES
    credentials = ("BLUESKY_HANDLE", "BLUESKY_APP_PASSWORD")
    languages = LANGUAGES
    language_setting = "BLUESKY_POST_LANGUAGES"
    idempotent = True
    send_endpoint = "createRecord"

    @staticmethod
    def count(text: str) -> int:
        return graphemes(text)

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self._base = settings.bluesky_api_base_url
        password = settings.bluesky_app_password
        self._password = password.get_secret_value() if password else ""
        self._timeout = settings.notifier_request_timeout
        self._client: Client | None = None
        self._lock = threading.Lock()
        self._cids: dict[str, str] = {}  # uri -> cid of the posts seen, for reply references

    @staticmethod
    def account_of(settings: Settings) -> str:
        return settings.bluesky_handle or "default"

    @staticmethod
    def new_key() -> str:
        return new_tid()

    @staticmethod
    def part_key(key: str, seq: int) -> str:
        return tid_after(key, seq)

    def _session(self, *, fresh: bool = False) -> Client:
        from atproto import Client
        from atproto_client.request import Request

        with self._lock:
            if self._client is None or fresh:
                if self._client is not None:
                    self._client.request.close()
                    self._client = None
                client = Client(base_url=self._base, request=Request(timeout=self._timeout))
                try:
                    client.login(self.platform_account, self._password, fetch_bsky_profile=False)
                except BaseException:
                    client.request.close()
                    raise
                self._client = client
            return self._client

    @staticmethod
    def _did(client: Client) -> str:
        # The SDK keeps the logged-in session (with the account's DID) only on a private attribute.
        return str(client._session.did)

    async def send(self, out: Outgoing) -> Published:
        async def post(step: ThreadStep) -> Published:
            result: Published = await in_thread(self._guarded, self._send, step)
            return result

        return await publish_thread(self, out, post)

    def _guarded(self, func: Any, *args: Any) -> Any:
        """Run a call; when the PDS refused the session (401, or 400 ExpiredToken / InvalidToken),
        renew it and run the call once more."""
        from atproto_client import exceptions as atx

        try:
            client = self._session()
            try:
                return func(client, *args)
            except atx.UnauthorizedError:
                return func(self._session(fresh=True), *args)
            except atx.BadRequestError as exc:
                if _xrpc_error(exc) not in SESSION_ENDED:
                    raise
                return func(self._renewed(client), *args)
        except atx.AtProtocolError as exc:
            raise _error(exc) from None

    def _renewed(self, stale: Client) -> Client:
        """A live session after the PDS ended `stale`: refreshed with its refresh token, or else a new
        login (the refresh token was revoked or has expired too)."""
        from atproto_client import exceptions as atx

        with self._lock:
            if self._client is not None and self._client is not stale:
                return self._client  # another call renewed it meanwhile
            try:
                # the SDK's own refresh (private): refreshSession with the refresh token, then keep it
                stale._refresh_and_set_session()
                return stale
            except atx.AtProtocolError:
                pass
        return self._session(fresh=True)

    def _send(self, client: Client, step: ThreadStep) -> Published:
        from atproto import models

        repo = self._did(client)
        if step.maybe_sent:
            existing = self._get(client, repo, step.key)
            if existing is not None:
                return Published(platform_id=existing, note="found by record key")
        record: dict[str, Any] = {
            "$type": POST,
            "text": step.text,
            "createdAt": dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "langs": [language_tag(step.language)],
        }
        if facets := link_facets(step.text):
            record["facets"] = facets
        if step.root is not None and step.parent is not None:
            record["reply"] = {
                "root": self._ref(client, repo, step.root),
                "parent": self._ref(client, repo, step.parent),
            }
        data = models.ComAtprotoRepoCreateRecord.Data(
            repo=repo, collection=POST, rkey=step.key, record=record
        )
        response = client.com.atproto.repo.create_record(data)
        self._remember(str(response.uri), str(response.cid))
        return Published(platform_id=str(response.uri), http_status=200)

    def _ref(self, client: Client, repo: str, uri: str) -> dict[str, str]:
        """A strong reference (uri and cid) to one of the account's posts; the cid is read back with
        `getRecord` when this process did not publish the post itself."""
        if uri not in self._cids and self._get(client, repo, uri.rsplit("/", 1)[-1]) is None:
            raise Rejected(f"Bluesky: the post {uri} to reply to is gone")
        return {"uri": uri, "cid": self._cids[uri]}

    def _get(self, client: Client, repo: str, rkey: str) -> str | None:
        from atproto import models
        from atproto_client import exceptions as atx

        params = models.ComAtprotoRepoGetRecord.Params(repo=repo, collection=POST, rkey=rkey)
        try:
            found = client.com.atproto.repo.get_record(params)
        except atx.BadRequestError as exc:
            if _xrpc_error(exc) == "RecordNotFound":
                return None
            raise
        if found.cid:
            self._remember(str(found.uri), str(found.cid))
        return str(found.uri)

    def _remember(self, uri: str, cid: str) -> None:
        if len(self._cids) >= MAX_CIDS:  # a long-running worker: keep the recent ones only
            self._cids.clear()
        self._cids[uri] = cid

    async def find_sent(self, out: Outgoing, since: dt.datetime) -> str | None:
        async def find_one(step: ThreadStep) -> str | None:
            def find(client: Client) -> str | None:
                return self._get(client, self._did(client), step.key)

            result: str | None = await in_thread(self._guarded, find)
            return result

        return await find_thread(self, out, find_one)

    async def follower_count(self, date: dt.date) -> FollowerCount:
        def profile(client: Client) -> object:
            return client.get_profile(actor=self.platform_account).followers_count

        try:
            followers = await in_thread(self._guarded, profile)
        except ChannelError as exc:
            return FollowerCount("error", reason=exc.reason)
        return FollowerCount.reading(followers, "Bluesky getProfile")

    async def aclose(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.request.close()
                self._client = None


def _xrpc_error(exc: atx.RequestErrorBase) -> str | None:
    content = exc.response.content if exc.response is not None else None
    return getattr(content, "error", None)


def _error(exc: atx.AtProtocolError) -> ChannelError:
    from atproto_client import exceptions as atx

    response = getattr(exc, "response", None)
    status = response.status_code if response is not None else None
    reason = short(f"Bluesky {status or ''}: {exc}")
    if isinstance(exc, atx.RateLimitExceededError):
        info = rate_info(response.headers if response else {}, "ratelimit-remaining", "ratelimit-reset")
        return RateLimited(reason, retry_at=info.reset_at if info else None, http_status=status)
    if response is None:  # transport failure: was anything sent?
        cause = exc.__cause__
        return from_httpx(cause, "Bluesky") if isinstance(cause, httpx.HTTPError) else Ambiguous(reason)
    if status is not None and status >= 500:
        return ServerError(reason, http_status=status)
    return Rejected(reason, http_status=status)
