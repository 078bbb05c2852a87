"""Per-client limits of the public endpoints (search, simulator), the client address behind trusted
proxies, and the bounded in-process limiter."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.client_address import TrustedProxies, masked_address
from app.client_limiter import ClientLimiter, client_key
from faq.faq_tables import UnansweredQuestion
from tests.conftest import make_settings, sign_in

FALLBACK = "/api/v1/faq/search?q=火星の土地を買う方法"


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_limiter_refills_and_says_how_long_to_wait() -> None:
    clock = Clock()
    limiter = ClientLimiter(60, clock=clock)  # one a second, bursts of 60
    assert [limiter.take("192.0.2.1") for _ in range(60)] == [0.0] * 60
    assert limiter.take("192.0.2.1") == pytest.approx(1.0)
    assert limiter.take("192.0.2.2") == 0.0  # another client
    clock.now += 1.0
    assert limiter.take("192.0.2.1") == 0.0


def test_the_limiter_keeps_a_bounded_number_of_clients() -> None:
    limiter = ClientLimiter(1, max_clients=100)
    for n in range(1000):
        limiter.take(f"10.0.{n // 256}.{n % 256}")
    assert len(limiter._buckets) == 100


@pytest.mark.parametrize(
    ("address", "key"),
    [
        ("192.0.2.7", "192.0.2.7"),
        ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),  # one host can hold a whole /64
        ("2001:db8:1:2:bbbb::9", "2001:db8:1:2::/64"),
        ("::ffff:192.0.2.7", "192.0.2.7"),
        ("testclient", "testclient"),
    ],
)
def test_client_keys(address: str, key: str) -> None:
    assert client_key(address) == key


@pytest.mark.parametrize(
    ("trusted", "peer", "forwarded", "client"),
    [
        ([], "203.0.113.5", "198.51.100.1", "203.0.113.5"),  # no trusted proxy: the header is ignored
        (["10.0.0.0/8"], "203.0.113.5", "198.51.100.1", "203.0.113.5"),  # not from the proxy
        (["10.0.0.0/8"], "10.0.0.2", "198.51.100.1", "198.51.100.1"),
        (["10.0.0.0/8"], "10.0.0.2", "1.2.3.4, 198.51.100.1", "198.51.100.1"),  # the left is the client's
        (["10.0.0.0/8"], "10.0.0.2", "198.51.100.1, 10.0.0.7", "198.51.100.1"),  # two proxies
        (["10.0.0.0/8"], "10.0.0.2", "garbage", "10.0.0.2"),
        (["10.0.0.0/8"], "10.0.0.2", "", "10.0.0.2"),
        (["127.0.0.1"], "127.0.0.1", "2001:db8::1", "2001:db8::1"),
    ],
)
def test_the_client_behind_trusted_proxies(
    trusted: list[str], peer: str, forwarded: str, client: str
) -> None:
    headers = [(b"x-forwarded-for", forwarded.encode())] if forwarded else []
    scope = {"client": (peer, 1234), "headers": headers}
    assert TrustedProxies(trusted).client(scope) == client


@pytest.mark.parametrize(
    ("address", "masked"),
    [
        ("198.51.100.23", "198.51.100.x"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1::/48"),
        ("::ffff:198.51.100.23", "198.51.100.x"),
        ("testclient", "unknown"),
        ("", "unknown"),
    ],
)
def test_masked_addresses(address: str, masked: str) -> None:
    assert masked_address(address) == masked


@pytest.fixture
def limited_app(db_url: str) -> FastAPI:
    from app.main import create_app

    settings = make_settings(
        db_url, search_rate_per_minute=3, simulator_rate_per_minute=2, trusted_proxies=["10.0.0.0/8"]
    )
    return create_app(settings)


@pytest.fixture
def proxy(limited_app: FastAPI) -> Iterator[TestClient]:
    """Requests arriving through the trusted reverse proxy."""
    with TestClient(limited_app, client=("10.0.0.2", 5000)) as c:
        yield c


def _search(client: TestClient, forwarded: str) -> int:
    return client.get(FALLBACK, headers={"X-Forwarded-For": forwarded}).status_code


def test_anonymous_searches_are_limited_per_client(proxy: TestClient) -> None:
    assert [_search(proxy, "198.51.100.1") for _ in range(3)] == [200, 200, 200]
    limited = proxy.get(FALLBACK, headers={"X-Forwarded-For": "198.51.100.1"})
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
    assert "しばらく待って" in limited.json()["detail"]
    assert _search(proxy, "198.51.100.2") == 200  # another resident
    assert _search(proxy, "9.9.9.9, 198.51.100.1") == 429  # what the client wrote itself is not believed


def test_a_forged_forwarded_header_does_not_escape_the_limit(limited_app: FastAPI) -> None:
    with TestClient(limited_app, client=("203.0.113.50", 1)) as direct:  # not through the proxy
        statuses = [_search(direct, f"198.51.100.{n}") for n in range(5)]
    assert statuses == [200, 200, 200, 429, 429]


def test_staff_are_not_limited(limited_app: FastAPI, staff_user: str) -> None:
    with TestClient(limited_app) as client:
        sign_in(client, staff_user)
        assert {client.get(FALLBACK + "&log=false").status_code for _ in range(6)} == {200}


def test_the_public_simulator_is_limited_per_client(proxy: TestClient) -> None:
    def send() -> int:
        r = proxy.post(
            "/simulator/api/send",
            json={"kind": "text", "text": "こんにちは"},
            headers={"X-Forwarded-For": "198.51.100.3"},
        )
        return r.status_code

    assert [send(), send(), send()] == [200, 200, 429]
    assert (
        proxy.get("/simulator/api/messages", headers={"X-Forwarded-For": "198.51.100.3"}).status_code == 200
    )


def test_2000_identical_anonymous_fallbacks_make_one_row(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    """With the default limit most are refused; those let through are counted on one row."""
    client.app.state.limits["search"].clock = lambda: 0.0  # type: ignore[attr-defined]  # no refill meanwhile
    statuses = [client.get(FALLBACK).status_code for _ in range(2000)]
    assert statuses.count(200) == 60 and statuses.count(429) == 1940
    with sessions() as s:
        (row,) = s.scalars(select(UnansweredQuestion)).all()
    assert row.count == 60


def test_without_the_limit_identical_fallbacks_still_make_one_row(
    db_url: str, sessions: sessionmaker[Session]
) -> None:
    from app.main import create_app

    app = create_app(make_settings(db_url, search_rate_per_minute=100_000))
    with TestClient(app) as client:
        assert {client.get(FALLBACK).status_code for _ in range(200)} == {200}
    with sessions() as s:
        (row,) = s.scalars(select(UnansweredQuestion)).all()
    assert row.count == 200


def test_by_default_only_a_proxy_on_this_machine_is_trusted(db_url: str) -> None:
    settings = make_settings(db_url)
    assert settings.trusted_proxies == ["127.0.0.1", "::1"]
    proxies = TrustedProxies(settings.trusted_proxies)
    forwarded = [(b"x-forwarded-for", b"198.51.100.1")]
    assert proxies.client({"client": ("127.0.0.1", 1), "headers": forwarded}) == "198.51.100.1"
    assert proxies.client({"client": ("203.0.113.5", 1), "headers": forwarded}) == "203.0.113.5"
