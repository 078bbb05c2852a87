"""Who the client is: its address, taken from `X-Forwarded-For` only when the connection comes from a
trusted reverse proxy (setting `TRUSTED_PROXIES`), and that address masked for records and logs.

Behind proxies, `X-Forwarded-For` lists the client, then every proxy that passed the request on; each
proxy appends the address it received the request from. Only the entries added by trusted proxies can
be believed, so the list is read from the right, skipping trusted addresses: the first untrusted one is
the client (anything left of it could have been written by the client itself).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from functools import lru_cache

from starlette.types import Scope

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
MAX_FORWARDED_ENTRIES = 32  # a longer header is cut (bounded work); its leftmost entries are never used


class TrustedProxies:
    """The networks whose `X-Forwarded-For` is believed."""

    def __init__(self, networks: Iterable[str]) -> None:
        self.networks: tuple[Network, ...] = tuple(ipaddress.ip_network(n, strict=False) for n in networks)

    def trusts(self, address: str) -> bool:
        if not self.networks:
            return False
        ip = _ip(address)
        return ip is not None and any(ip in network for network in self.networks)

    def client(self, scope: Scope) -> str:
        """The client's address for this request ("" when the server does not know it)."""
        peer = scope.get("client")
        address = str(peer[0]) if peer else ""
        if not self.trusts(address):
            return address
        forwarded = _forwarded_for(scope.get("headers", []))
        for hop in reversed(forwarded):
            if not self.trusts(hop):
                return hop if _ip(hop) is not None else address
            address = hop
        return address


def _forwarded_for(headers: Iterable[tuple[bytes, bytes]]) -> list[str]:
    """The entries of every `X-Forwarded-For` header, in order, at most the last `MAX_FORWARDED_ENTRIES`."""
    entries: list[str] = []
    for name, value in headers:
        if name == b"x-forwarded-for":
            entries.extend(part.strip() for part in value.decode("latin-1").split(","))
    return [e for e in entries[-MAX_FORWARDED_ENTRIES:] if e]


@lru_cache(maxsize=4096)
def _ip(address: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        ip = ipaddress.ip_address(address.strip("[]"))
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def masked_address(address: str) -> str:
    """The address without its host part (IPv4: the last byte, IPv6: the last 80 bits), as records
    and logs keep it: `203.0.113.x`, `2001:db8:1::/48`. Anything else: `unknown`."""
    ip = _ip(address)
    if ip is None:
        return "unknown"
    if isinstance(ip, ipaddress.IPv4Address):
        return ".".join(str(ip).split(".")[:3]) + ".x"
    return str(ipaddress.IPv6Network((int(ip) >> 80 << 80, 48)))
