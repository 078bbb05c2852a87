"""Cost of the LINE adapter: N pushes at concurrency C against the fake LINE server (a separate process).

Three ways, in the same run:
- `raw aiohttp`  one aiohttp session posting the JSON directly (the floor: no SDK);
- `bare SDK`     one reused SDK client called directly (what the adapter wraps);
- `LineApi`      the adapter: one reused SDK client, validation, retry wrapper, logging;
- `client/call`  a new SDK `AsyncApiClient` per call (the pitfall the adapter avoids; ≤ 300 calls).

    .venv/bin/python bench/line_api.py --n 2000 --concurrency 20
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp
import httpx
from linebot.v3 import messaging as lm

from app.logs import configure_logging
from app.settings import Settings
from platforms.line_api import LineApi

ROOT = Path(__file__).resolve().parent.parent

USER = "U" + "0" * 31 + "1"
TOKEN = "bench-token"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def measure(n: int, concurrency: int, one: Callable[[], Awaitable[None]]) -> tuple[float, list[float]]:
    gate = asyncio.Semaphore(concurrency)
    latencies: list[float] = []

    async def timed() -> None:
        async with gate:
            start = time.perf_counter()
            await one()
            latencies.append(time.perf_counter() - start)

    start = time.perf_counter()
    await asyncio.gather(*(timed() for _ in range(n)))
    return time.perf_counter() - start, latencies


def report(name: str, n: int, elapsed: float, latencies: list[float], floor: float | None) -> float:
    rate = n / elapsed
    q = statistics.quantiles(latencies, n=100)
    share = f"{rate / floor:6.0%} of raw" if floor else "  (floor)"
    print(f"{name:12s} {rate:8.0f} calls/s  p50 {q[49] * 1000:6.1f} ms  p99 {q[98] * 1000:6.1f} ms  {share}")
    return rate


async def run(url: str, n: int, concurrency: int) -> None:
    body = {"to": USER, "messages": [{"type": "text", "text": "こんにちは"}]}
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with aiohttp.ClientSession() as session:

        async def raw() -> None:
            h = {**headers, "X-Line-Retry-Key": str(uuid.uuid4())}
            async with session.post(f"{url}/v2/bot/message/push", json=body, headers=h) as resp:
                assert resp.status == 200, resp.status

        floor = report("raw aiohttp", n, *await measure(n, concurrency, raw), None)
    settings = Settings(
        _env_file=None,
        line_api_base_url=url,
        line_data_api_base_url=url,
        line_channel_access_token=TOKEN,
    )
    message = [lm.TextMessage(text="こんにちは")]
    async with lm.AsyncApiClient(lm.Configuration(host=url, access_token=TOKEN)) as client:
        sdk = lm.AsyncMessagingApi(client)

        async def bare_sdk() -> None:
            request = lm.PushMessageRequest(to=USER, messages=message)
            await sdk.push_message(request, x_line_retry_key=str(uuid.uuid4()), _request_timeout=10)

        report("bare SDK", n, *await measure(n, concurrency, bare_sdk), floor)
    async with LineApi.open(settings) as api:

        async def adapter() -> None:
            await api.push(USER, message, uuid.uuid4())

        report("LineApi", n, *await measure(n, concurrency, adapter), floor)

    async def per_call() -> None:
        config = lm.Configuration(host=url, access_token=TOKEN)
        async with lm.AsyncApiClient(config) as client:
            request = lm.PushMessageRequest(to=USER, messages=message)
            await lm.AsyncMessagingApi(client).push_message(request, x_line_retry_key=str(uuid.uuid4()))

    slow_n = min(n, 300)  # about 50 calls/s: a smaller sample is enough
    report("client/call", slow_n, *await measure(slow_n, concurrency, per_call), floor)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=20)
    args = parser.parse_args()
    # The adapter logs one JSON line per call in production: pay for it, but write it nowhere.
    configure_logging("INFO", "json")
    handler = logging.getLogger().handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(open(os.devnull, "w"))  # noqa: SIM115
    port = free_port()
    fake = subprocess.Popen([sys.executable, "-m", "fakes", "line", "--port", str(port)], cwd=ROOT)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                httpx.get(f"{url}/__fake__/state", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        asyncio.run(run(url, args.n, args.concurrency))
        httpx.post(f"{url}/__fake__/reset")
    finally:
        fake.terminate()
        fake.wait(timeout=10)


if __name__ == "__main__":
    main()
