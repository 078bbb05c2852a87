"""Small in-repo `FollowerSource`s and a settable clock for the collector tests."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, TypeVar

from kpi.jst_dates import JST
from notifier.channels.line_channel import LineChannel
from platforms.followers import CountingRules, FollowerCount

Result = FollowerCount | BaseException
T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion (browser tests, which leave a loop behind, are ordered last)."""
    return asyncio.run(coro)


@dataclass
class ScriptedSource:
    """Answers from `script` (the last entry repeats) or from `by_date`; records every call."""

    name: str
    account: str
    script: list[Result] = field(default_factory=list)
    by_date: Callable[[dt.date], Result] | None = None
    delay: float = 0.0
    calls: list[dt.date] = field(default_factory=list)
    counting: CountingRules = field(default_factory=CountingRules)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        if self.name == "line":  # as the LINE channel declares it
            self.counting = LineChannel.counting

    async def follower_count(self, date: dt.date) -> FollowerCount:
        with self._lock:
            self.calls.append(date)
            result = (
                self.by_date(date)
                if self.by_date
                else (self.script.pop(0) if len(self.script) > 1 else self.script[0])
            )
        if self.delay:
            await asyncio.sleep(self.delay)
        if isinstance(result, BaseException):
            raise result
        return result


def ok(followers: int, **details: int | None) -> FollowerCount:
    """A count as the channels give it; with `blocks`, the LINE adapter's friends are counted."""
    blocks = details.get("blocks")
    counted = followers - blocks if blocks is not None else None
    return FollowerCount("ok", followers, dict(details), counted=counted)


def line_ready(date: dt.date) -> FollowerCount:
    """LINE insight as the fake platform would answer it: grows 10 a day, 1 block per 10 followers."""
    followers = 20_000 + (date - dt.date(2020, 1, 1)).days * 10
    return ok(followers, targeted_reaches=followers // 2, blocks=followers // 10)


class Clock:
    """A settable UTC clock; `Clock.jst(2026, 4, 2, 9)` starts at that JST moment."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    @classmethod
    def jst(cls, year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> Clock:
        return cls(dt.datetime(year, month, day, hour, minute, tzinfo=JST).astimezone(dt.UTC))

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)
