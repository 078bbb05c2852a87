"""The channel interface. `FollowerCount`/`FollowerSource` are what the KPI collector relies on."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal, Protocol

FollowerStatus = Literal["ok", "unready", "error"]


@dataclass(frozen=True)
class FollowerCount:
    """One reading of an account's audience.

    `followers` is None unless `status == "ok"`. `unready` (LINE insight not computed yet) is retried
    later and never stored as a number; `error` carries the reason. `details` holds the extra figures a
    platform gives (LINE: targeted_reaches, blocks, friends; Facebook: fan_count).
    """

    status: FollowerStatus
    followers: int | None = None
    details: dict[str, int | None] = field(default_factory=dict)
    reason: str | None = None


class FollowerSource(Protocol):
    """Anything that can report an account's followers for a (JST) date."""

    name: str  # channel: "line", "x", "facebook", "mastodon", "bluesky"
    account: str  # the account on that channel (page id, handle, ...)

    async def follower_count(self, date: dt.date) -> FollowerCount: ...
