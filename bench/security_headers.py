"""Cost of `app.security_headers.SecurityHeaders` per request: the same Starlette endpoint called in
process (ASGI, no network) bare and wrapped, alternating rounds so both see the same machine state.

.venv/bin/python bench/security_headers.py [--requests 20000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Message

from app.security_headers import SecurityHeaders


async def ok(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


def scope(path: str) -> dict[str, object]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"bench")],
        "client": ("127.0.0.1", 1),
        "server": ("bench", 80),
    }


async def run(app: ASGIApp, path: str, n: int) -> float:
    """Microseconds per request for `n` sequential requests."""
    request_scope = scope(path)

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        return None

    start = time.perf_counter()
    for _ in range(n):
        await app(dict(request_scope), receive, send)
    return (time.perf_counter() - start) / n * 1e6


async def main(requests: int, rounds: int) -> None:
    routes = [Route("/healthz", ok), Route("/api/v1/x", ok)]
    bare = Starlette(routes=routes)
    wrapped = SecurityHeaders(Starlette(routes=routes), production=True)
    for path in ("/healthz", "/api/v1/x"):
        await run(bare, path, 1000)  # warm up
        await run(wrapped, path, 1000)
        results: dict[str, list[float]] = {"bare": [], "wrapped": []}
        for _ in range(rounds):
            results["bare"].append(await run(bare, path, requests))
            results["wrapped"].append(await run(wrapped, path, requests))
        b, w = (statistics.median(results[k]) for k in ("bare", "wrapped"))
        print(f"{path}: bare {b:.1f} µs/request, with SecurityHeaders {w:.1f} µs/request (+{w - b:.1f} µs)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    asyncio.run(main(args.requests, args.rounds))
