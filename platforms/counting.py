"""How each platform counts the length of a post (pure functions).

- X: twitter-text v3 weighted length (CJK and emoji 2, any URL 23, NFC first), at most 280.
- Bluesky: grapheme clusters (`regex` `\\X`), at most 300, and at most 3,000 UTF-8 bytes.
- Mastodon: graphemes with every URL counted as 23 (the instance's `characters_reserved_per_url`) and
  `@user@domain` as `@user`, at most 500 unless the instance says otherwise.
- LINE: UTF-16 code units per text message, at most 5,000.
- Facebook: characters, at most 63,206.
"""

from __future__ import annotations

import re
import unicodedata

import regex

MASTODON_URL_LENGTH = 23
_GRAPHEME = regex.compile(r"\X")
_MASTODON_MENTION = re.compile(r"(^|[^/\w])@(([a-z0-9_]+)@[a-z0-9\.\-]+[a-z0-9]+)", re.IGNORECASE)


def x_weighted_length(text: str) -> int:
    """twitter-text v3 weighted length."""
    import twitter_text  # ~11 MB with pkg_resources: loaded when a post for X is measured, not at start-up

    result = twitter_text.parse_tweet(unicodedata.normalize("NFC", text))
    return int(result.weightedLength)


def graphemes(text: str) -> int:
    """Number of user-perceived characters (extended grapheme clusters)."""
    return len(_GRAPHEME.findall(text))


def utf8_bytes(text: str) -> int:
    return len(text.encode("utf-8"))


def mastodon_length(text: str, url_length: int = MASTODON_URL_LENGTH) -> int:
    """Mastodon's count: each URL is `url_length` characters, remote mentions count only the local part."""
    from mastodon._url_regex import url_regex  # Mastodon.py's own URL pattern (imported on first use)

    countable = url_regex.sub(lambda m: m.group(2) + "x" * url_length, text)
    countable = _MASTODON_MENTION.sub(r"\1@\3", countable)
    return graphemes(countable)


def utf16_units(text: str) -> int:
    """Length in UTF-16 code units (a character outside the BMP, such as most emoji, counts 2)."""
    return len(text.encode("utf-16-le")) // 2


def characters(text: str) -> int:
    return len(text)
