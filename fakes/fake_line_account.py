"""The account side of the fake LINE server: friends and their profiles, insight follower
statistics, the message quota, and the endpoints that read them (`FakeLine` mixes this in)."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from fakes import fake_line_rules as rules
from fakes.fake_line_http import Ctx, answer, bad_request, not_found
from fakes.fake_line_rules import detail

INSIGHT_START = "20161101"  # earlier dates are "out_of_service"
JST = dt.timezone(dt.timedelta(hours=9))


class LineAccount:
    """Friends, profiles, insight and quota. State is guarded by `_lock` (set up by `reset_account`)."""

    _lock: threading.Lock

    def reset_account(self) -> None:
        self.profiles: dict[str, dict[str, str]] = {}
        self.followers: list[str] = []
        self.insight: dict[str, dict[str, Any]] = {}
        self.quota_limit: int | None = None  # None: unlimited, as on the local-government plan
        self.usage = 0

    def dump_account(self) -> dict[str, Any]:
        return {
            "profiles": dict(self.profiles),
            "followers": list(self.followers),
            "insight": dict(self.insight),
            "usage": self.usage,
        }

    # ---- test and simulator API ----

    def set_profile(self, user_id: str, display_name: str, language: str | None = "ja", **extra: str) -> None:
        """Set a profile (`picture_url=`, `status_message=` optional)."""
        profile = {"userId": user_id, "displayName": display_name}
        if language:
            profile["language"] = language
        keys = {"picture_url": "pictureUrl", "status_message": "statusMessage"}
        profile.update({keys[k]: v for k, v in extra.items()})
        with self._lock:
            self.profiles[user_id] = profile

    def add_follower(
        self, user_id: str, display_name: str = "LINEユーザー", language: str | None = "ja"
    ) -> None:
        """A friend of the account: has a profile and receives broadcasts."""
        self.set_profile(user_id, display_name, language)
        with self._lock:
            if user_id not in self.followers:
                self.followers.append(user_id)

    def set_insight(self, date: dt.date | str, status: str = "ready", **counts: int | None) -> None:
        """Follower statistics for a date: `followers=`, `targeted_reaches=`, `blocks=` when ready (LINE
        sends the counts only then; a count given as None is left out too)."""
        key = date.strftime("%Y%m%d") if isinstance(date, dt.date) else date
        names = {"followers": "followers", "targeted_reaches": "targetedReaches", "blocks": "blocks"}
        answer: dict[str, Any] = {"status": status}
        if status == "ready":
            answer |= {names.get(k, k): v for k, v in counts.items() if v is not None}
        with self._lock:
            self.insight[key] = answer

    # ---- endpoints ----

    def _quota(self, ctx: Ctx) -> Response:
        limit = self.quota_limit
        return answer({"type": "none"} if limit is None else {"type": "limited", "value": limit})

    def _consumption(self, ctx: Ctx) -> Response:
        return answer({"totalUsage": self.usage})

    def _profile(self, ctx: Ctx) -> Response:
        with self._lock:
            profile = self.profiles.get(ctx.param("id"))
        return answer(profile) if profile else not_found("Not found")

    def _follower_ids(self, ctx: Ctx) -> Response:
        query = ctx.request.query_params
        limit, start = query.get("limit", "300"), query.get("start", "0")
        if not limit.isdigit() or not 1 <= int(limit) <= 1000 or not start.isdigit():
            return bad_request([detail("Must be between 1 and 1000", "limit")], "Invalid parameter")
        begin, end = int(start), int(start) + int(limit)
        with self._lock:
            page, more = self.followers[begin:end], len(self.followers) > end
        return answer({"userIds": page, "next": str(end)} if more else {"userIds": page})

    def _insight(self, ctx: Ctx) -> Response:
        """`date` is optional (the reference: `required: false`); without it the fake answers for
        yesterday in Japan, the latest day LINE has figures for."""
        date = ctx.request.query_params.get("date")
        if date is None:
            date = (dt.datetime.now(JST).date() - dt.timedelta(days=1)).strftime("%Y%m%d")
        if len(date) != 8 or not date.isdigit():
            return bad_request([detail("Must be yyyyMMdd", "date")], "Invalid parameter")
        with self._lock:
            known = self.insight.get(date)
        return answer(known or {"status": "out_of_service" if date < INSIGHT_START else "unready"})

    def _loading(self, ctx: Ctx) -> Response:
        seconds = ctx.json.get("loadingSeconds", 20)
        errors = [] if rules.USER_ID.match(str(ctx.json.get("chatId"))) else [detail("Invalid", "chatId")]
        if not isinstance(seconds, int) or seconds % 5 or not 5 <= seconds <= 60:
            errors.append(detail("Must be a multiple of 5 between 5 and 60", "loadingSeconds"))
        return bad_request(errors) if errors else answer({}, 202)

    # ---- control API for other processes ----

    async def _control_follower(self, request: Request) -> Response:
        body = await request.json()
        self.add_follower(
            str(body["userId"]), body.get("displayName", "LINEユーザー"), body.get("language", "ja")
        )
        return answer({"ok": True})

    async def _control_insight(self, request: Request) -> Response:
        body = await request.json()
        counts = {"followers": body.get("followers"), "blocks": body.get("blocks")}
        status = body.get("status", "ready")
        self.set_insight(str(body["date"]), status, targeted_reaches=body.get("targetedReaches"), **counts)
        return answer({"ok": True})
