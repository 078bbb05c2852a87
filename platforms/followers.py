"""What every follower source reports: `FollowerCount`, and the `FollowerSource` interface the KPI
collector reads (each notifier channel is one)."""

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
    counted: int | None = None  # the audience the KPI counts, when it is not `followers` (LINE: friends)

    @classmethod
    def reading(cls, value: object, source: str, **details: int | None) -> FollowerCount:
        """`ok` with the platform's figure, or `error` when the answer lacks a usable one (absent,
        null or negative): a count is never guessed, and a missing one is never zero."""
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            return cls("error", reason=f"{source}: no follower count in the answer ({value!r})")
        return cls("ok", followers=value, details=dict(details))


@dataclass(frozen=True)
class CountingRules:
    """How a platform reports followers: only today's count (most), or past dates too (`historical`:
    LINE insight, from `history_start`), and a rolling-hour budget of such calls (`calls_per_hour`)."""

    historical: bool = False
    history_start: dt.date | None = None
    calls_per_hour: int | None = None


class FollowerSource(Protocol):
    """Anything that can report an account's followers for a (JST) date."""

    @property
    def name(self) -> str:
        """The channel: "line", "x", "facebook", "mastodon", "bluesky"."""
        ...

    @property
    def account(self) -> str:
        """The account on that channel (page id, handle, ...)."""
        ...

    @property
    def counting(self) -> CountingRules:
        """How this platform reports followers."""
        ...

    async def follower_count(self, date: dt.date) -> FollowerCount: ...
