"""Japan time for what staff read: the API's timestamps (`to_jst`)."""

from __future__ import annotations

import datetime as dt

JST = dt.timezone(dt.timedelta(hours=9), "JST")


def to_jst(value: dt.datetime | None) -> str | None:
    """ISO 8601 in Japan time, whole seconds (what the API answers)."""
    return value.astimezone(JST).replace(microsecond=0).isoformat() if value else None
