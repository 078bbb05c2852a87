"""Japan Standard Time dates. Japan has no daylight saving time, so a fixed +09:00 offset is exact."""

from __future__ import annotations

import datetime as dt
import re

JST = dt.timezone(dt.timedelta(hours=9), "JST")

_FULL = re.compile(r"^(\d{4})[-/](\d{1,2})[-/](\d{1,2})$")
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_MONTH = re.compile(r"^(\d{4})[-/](\d{1,2})$")


def jst_date(moment: dt.datetime) -> dt.date:
    """The JST calendar date of an aware moment."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime: give an aware moment")
    return moment.astimezone(JST).date()


def month_end(year: int, month: int) -> dt.date:
    """The last day of a month."""
    first_next = dt.date(year + (month == 12), month % 12 + 1, 1)
    return first_next - dt.timedelta(days=1)


def parse_date(text: str, *, allow_month: bool = False) -> dt.date:
    """Parse YYYY-MM-DD, YYYY/MM/DD or YYYYMMDD; with `allow_month`, YYYY-MM means the month's last day
    (the plan's figures are "as of the end of March"). Raises ValueError with a readable message."""
    value = text.strip()
    for pattern in (_FULL, _COMPACT):
        if m := pattern.match(value):
            try:
                return dt.date(int(m[1]), int(m[2]), int(m[3]))
            except ValueError:
                break
    if allow_month and (m := _MONTH.match(value)) and 1 <= int(m[2]) <= 12:
        return month_end(int(m[1]), int(m[2]))
    expected = "YYYY-MM-DD or YYYY-MM" if allow_month else "YYYY-MM-DD"
    raise ValueError(f"not a valid date {text!r} (expected {expected})")


def days(start: dt.date, end: dt.date) -> list[dt.date]:
    """Every date from `start` to `end`, inclusive."""
    return [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]
