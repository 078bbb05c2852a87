"""Each platform's own way of counting, table-driven."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from platforms.counting import graphemes, mastodon_length, utf8_bytes, utf16_units, x_weighted_length

LONG_URL = "https://www.city.suita.osaka.jp/kurashi/bosai/" + "a" * 80


@pytest.mark.parametrize(
    ("count", "text", "expected"),
    [
        (x_weighted_length, "あ" * 140, 280),
        (x_weighted_length, "あ" * 141, 282),
        (x_weighted_length, "a" * 280, 280),
        (x_weighted_length, LONG_URL, 23),
        (x_weighted_length, "ｱｲｳ", 6),  # half-width katakana count 2
        (x_weighted_length, "😀" * 140, 280),
        (x_weighted_length, "①", 2),
        (x_weighted_length, "か\u3099", 2),  # NFC first: が
        (graphemes, "👨‍👩‍👧‍👦", 1),
        (graphemes, "吹田市", 3),
        (graphemes, "e\u0301", 1),
        (mastodon_length, f"see {LONG_URL}", 4 + 23),
        (mastodon_length, "hi @suita@mastodon.example", len("hi @suita")),
        (mastodon_length, "あ" * 500, 500),
        (utf16_units, "あ", 1),
        (utf16_units, "😀", 2),
        (utf16_units, "a😀b", 4),
        (utf8_bytes, "あ", 3),
    ],
)
def test_counts(count: Callable[[str], int], text: str, expected: int) -> None:
    assert count(text) == expected
