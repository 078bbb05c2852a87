"""Per-client rate limits of the public endpoints (`GET /api/v1/faq/search`, the public simulator):
a token bucket per client address, kept in this process's memory (`ClientLimiter`).

Why in memory and not `storage.rate_budgets`' buckets in the database: the limit protects the process
from being flooded, so checking it must cost far less than the request it refuses. A database bucket is
a write per request (on SQLite, through the single writer that residents' webhooks also need): a flood
would turn into a flood of writes. In memory a check is a dictionary look-up. The cost is that each
process counts alone: with N app processes behind a load balancer a client gets at most N times the
limit, still bounded (set the limits with the number of processes in mind). The table of clients is
bounded too (`max_clients`, least recently seen forgotten first); IPv6 clients count per /64 network,
since one host can hold a whole /64.
"""

from __future__ import annotations

import ipaddress
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from fastapi import HTTPException, Request

from app.client_address import TrustedProxies

MAX_CLIENTS = 10_000


class ClientLimiter:
    """`per_minute` requests per client, in bursts of up to `per_minute`."""

    def __init__(
        self, per_minute: int, *, max_clients: int = MAX_CLIENTS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self.max_clients = max_clients
        self.clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # key -> (tokens, at)
        self._lock = threading.Lock()

    def take(self, client: str) -> float:
        """Take one request for `client`: 0.0 when allowed, else the seconds until it would be."""
        key = client_key(client)
        now = self.clock()
        with self._lock:
            tokens, at = self._buckets.pop(key, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - at) * self.rate)
            wait = 0.0 if tokens >= 1.0 else (1.0 - tokens) / self.rate
            self._buckets[key] = (tokens - 1.0 if wait == 0.0 else tokens, now)
            while len(self._buckets) > self.max_clients:
                self._buckets.popitem(last=False)
        return wait


def client_key(address: str) -> str:
    """What one client is: its IPv4 address, or its IPv6 /64 network."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is None:
        return str(ipaddress.IPv6Network((int(ip) >> 64 << 64, 64)))
    return str(ip.ipv4_mapped or ip) if isinstance(ip, ipaddress.IPv6Address) else str(ip)


def client_of(request: Request) -> str:
    """The request's client address (behind `TRUSTED_PROXIES`, from `X-Forwarded-For`)."""
    proxies: TrustedProxies = request.app.state.trusted_proxies
    return proxies.client(request.scope)


def enforce(request: Request, name: str) -> None:
    """Raise 429 with `Retry-After` when the client has used up limit `name` of `app.state.limits`."""
    limiter: ClientLimiter = request.app.state.limits[name]
    wait = limiter.take(client_of(request))
    if wait > 0:
        raise HTTPException(
            429,
            "リクエストが多すぎます。しばらく待ってから再度お試しください / "
            "Too many requests: try again later",
            headers={"Retry-After": str(max(1, math.ceil(wait)))},
        )
