"""Postback data of the bot's buttons (quick replies and the rich menu): `a=<action>&k=v...`, at most
300 characters (LINE's limit). Pure functions; anything unreadable decodes to None."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode

MAX_DATA = 300
ACTIONS = frozenset(
    {
        "menu",
        "topics",
        "settings",
        "lang",
        "sub",
        "unsub",
        "faq",
        "fb",
        "contact",
        "none",
        "help",
        "emergency",
        "rp",  # the damage-report flow's buttons (`reports.line_flow`, through its flow hook)
    }
)
ALL_TOPICS = "*"


@dataclass(frozen=True)
class Postback:
    """A decoded button: the action and its parameters (`t` topic, `l` language, `e` FAQ entry,
    `v` vote 1/0, `n` the answer's feedback nonce)."""

    action: str
    params: dict[str, str] = field(default_factory=dict)

    def get(self, key: str) -> str:
        return self.params.get(key, "")


def encode(action: str, **params: str) -> str:
    """The data string of a button; raises ValueError for an unknown action or data over 300 chars."""
    if action not in ACTIONS:
        raise ValueError(f"unknown postback action {action!r}")
    data = urlencode({"a": action, **params})
    if len(data) > MAX_DATA:
        raise ValueError(f"postback data is {len(data)} characters; LINE allows {MAX_DATA}")
    return data


def decode(data: str) -> Postback | None:
    """The postback in `data`, or None when it is not one of ours (old buttons, tampering)."""
    if not data or len(data) > MAX_DATA:
        return None
    try:
        pairs = parse_qsl(data, strict_parsing=True, max_num_fields=8)
    except ValueError:
        return None
    params = dict(pairs)
    action = params.pop("a", "")
    if action not in ACTIONS or len(pairs) != len(params) + 1:
        return None
    return Postback(action, params)
