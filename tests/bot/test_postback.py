from __future__ import annotations

import pytest

from bot.conversation import postback_data as pb


@pytest.mark.parametrize(
    ("action", "params", "data"),
    [
        ("menu", {}, "a=menu"),
        ("sub", {"t": "bousai"}, "a=sub&t=bousai"),
        ("unsub", {"t": "*"}, "a=unsub&t=%2A"),
        ("fb", {"e": "conv", "v": "1", "n": "abc"}, "a=fb&e=conv&v=1&n=abc"),
        ("faq", {"e": "日本語のID"}, "a=faq&e=%E6%97%A5%E6%9C%AC%E8%AA%9E%E3%81%AEID"),
    ],
)
def test_round_trip(action: str, params: dict[str, str], data: str) -> None:
    assert pb.encode(action, **params) == data
    assert pb.decode(data) == pb.Postback(action, params)


@pytest.mark.parametrize(
    "data",
    ["", "zzz", "a=unknown", "t=bousai", "a=menu&a=topics", "a=menu&" + "x" * 300, "a=sub&t=a&t=b", "%%%"],
)
def test_foreign_or_broken_data_is_none(data: str) -> None:
    assert pb.decode(data) is None


def test_encode_refuses_what_line_would() -> None:
    with pytest.raises(ValueError, match="unknown postback action"):
        pb.encode("explode")
    with pytest.raises(ValueError, match="300"):
        pb.encode("faq", e="x" * 300)
