"""LINE webhook benchmark: signed webhooks against ONE uvicorn worker (a real process) with the fake LINE
server (another process), and a bare FastAPI endpoint that only answers 200 as the floor.

Measured in one run:
- floor: closed-loop throughput of the bare endpoint at concurrency C;
- webhook: closed-loop throughput of `POST /line/webhook` at concurrency C (acks), and how long the
  worker took to answer all of those events; the two alternate for `--rounds` rounds (median, range);
- paced: RATE requests/s for DURATION seconds (open loop, at most C in flight): ack latency p50/p99 and
  end-to-end latency until the fake LINE server receives the reply (p50/p99);
- 5xx count, peak RSS of the app process (VmHWM; the FAQ is loaded when the FAQ area is installed).

    .venv/bin/python bench/line_webhook.py --n 2000 --concurrency 50 --rounds 3 --rate 200 --duration 10
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
import httpx
from webhook_procs import Procs, memory_mb

from fakes import fake_line_events as ev

ROOT = Path(__file__).resolve().parent.parent

SECRET = "bench-channel-secret"
QUESTIONS = (
    "住民票をコンビニで取れますか",
    "マイナンバーカードで何ができますか",
    "市のWi-Fiはどこで使えますか",
    "メニュー",
    "電子申請はどうやって使うの",
    "ごみの出し方",
    "How can I get a residence certificate?",
    "窓口の混雑状況を知りたい",
    "設定",
    "オープンデータはありますか",
)


def user(i: int) -> str:
    return f"U{i % 500:032x}"


def q(values: list[float], pct: int) -> float:
    return statistics.quantiles(values, n=100)[pct - 1] * 1000 if len(values) > 1 else float("nan")


async def closed_loop(url: str, bodies: list[bytes], concurrency: int, sign: bool) -> tuple[float, list[int]]:
    """Send every body with `concurrency` in flight; (seconds, statuses)."""
    statuses: list[int] = []
    queue = list(reversed(bodies))
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as session:

        async def worker() -> None:
            while queue:
                raw = queue.pop()
                headers = ev.signed(raw, SECRET) if sign else {"content-type": "application/json"}
                async with session.post(f"{url}/line/webhook", data=raw, headers=headers) as resp:
                    await resp.read()
                    statuses.append(resp.status)

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return time.perf_counter() - start, statuses


async def paced(
    url: str, bodies: list[tuple[str, bytes]], rate: float, concurrency: int
) -> tuple[list[float], dict[str, float], list[int]]:
    """Open loop: body i leaves at start + i/rate (waiting for a free slot if C are in flight)."""
    acks: list[float] = []
    sent_at: dict[str, float] = {}
    statuses: list[int] = []
    gate = asyncio.Semaphore(concurrency)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as session:

        async def one(i: int, token: str, raw: bytes, start: float) -> None:
            await asyncio.sleep(max(0.0, start + i / rate - time.perf_counter()))
            async with gate:
                sent_at[token] = time.time()
                began = time.perf_counter()
                async with session.post(
                    f"{url}/line/webhook", data=raw, headers=ev.signed(raw, SECRET)
                ) as resp:
                    await resp.read()
                    acks.append(time.perf_counter() - began)
                    statuses.append(resp.status)

        start = time.perf_counter()
        await asyncio.gather(*(one(i, t, raw, start) for i, (t, raw) in enumerate(bodies)))
    return acks, sent_at, statuses


def tokened_bodies(fake_url: str, n: int, offset: int) -> list[tuple[str, bytes]]:
    """`n` text events from 500 residents, each with a reply token issued by the fake."""
    out = []
    with httpx.Client(base_url=fake_url) as client:
        for i in range(offset, offset + n):
            token = client.post("/__fake__/line/reply-tokens", json={"userId": user(i)}).json()["replyToken"]
            out.append((token, ev.body([ev.text_event(user(i), QUESTIONS[i % len(QUESTIONS)], token)])))
    return out


def replies(fake_url: str) -> dict[str, float]:
    calls = httpx.get(
        f"{fake_url}/__fake__/calls", params={"path": "/v2/bot/message/reply"}, timeout=60
    ).json()
    return {c["json"]["replyToken"]: c["at"] for c in calls if isinstance(c.get("json"), dict)}


def wait_replies(fake_url: str, tokens: list[str], timeout: float) -> tuple[dict[str, float], float]:
    start = time.perf_counter()
    while True:
        got = replies(fake_url)
        if all(t in got for t in tokens) or time.perf_counter() - start > timeout:
            return got, time.perf_counter() - start
        time.sleep(0.25)


async def closed_rounds(args: argparse.Namespace, procs: Procs) -> dict[str, Any]:
    """Bare and webhook closed loops, alternating for `--rounds` rounds (the machine's noise hits both)."""
    bare = [ev.body([ev.text_event(user(i), "x")]) for i in range(args.n)]
    await closed_loop(procs.bare_url, bare[:200], args.concurrency, sign=False)  # warm-up
    warm = tokened_bodies(procs.fake_url, 200, 10**6)
    await closed_loop(procs.app_url, [b for _, b in warm], args.concurrency, sign=True)
    wait_replies(procs.fake_url, [t for t, _ in warm], 60)
    if procs.plain_url:
        plain_warm = tokened_bodies(procs.fake_url, 200, 5 * 10**6)
        await closed_loop(procs.plain_url, [b for _, b in plain_warm], args.concurrency, sign=True)
    bare_rps, hook_rps, drain_rps, plain_rps, statuses, bare_statuses = [], [], [], [], [], []
    for r in range(args.rounds):
        seconds, got = await closed_loop(procs.bare_url, bare, args.concurrency, sign=False)
        bare_rps.append(args.n / seconds)
        bare_statuses += got
        load = tokened_bodies(procs.fake_url, args.n, r * args.n)
        seconds, got = await closed_loop(procs.app_url, [b for _, b in load], args.concurrency, sign=True)
        _, drain = wait_replies(procs.fake_url, [t for t, _ in load], 300)
        hook_rps.append(args.n / seconds)
        drain_rps.append(args.n / (seconds + drain))
        statuses += got
        if procs.plain_url:  # the same webhooks through the FastAPI stack, same round
            load = tokened_bodies(procs.fake_url, args.n, (r + 7) * 10**6)
            seconds, got = await closed_loop(
                procs.plain_url, [b for _, b in load], args.concurrency, sign=True
            )
            wait_replies(procs.fake_url, [t for t, _ in load], 300)
            plain_rps.append(args.n / seconds)
            statuses += got
    shares = [h / b for h, b in zip(hook_rps, bare_rps, strict=True)]
    return {
        "bare_rps": bare_rps,
        "hook_rps": hook_rps,
        "share": shares,
        "plain_rps": plain_rps,
        "plain_share": [p / b for p, b in zip(plain_rps, bare_rps, strict=False)],
        "drain_rps": drain_rps,
        "5xx": sum(s >= 500 for s in statuses),
        "bare_5xx": sum(s >= 500 for s in bare_statuses),
    }


async def run(args: argparse.Namespace, procs: Procs) -> dict[str, Any]:
    result = await closed_rounds(args, procs)
    steady = tokened_bodies(procs.fake_url, int(args.rate * args.duration), 2 * 10**6)
    acks, sent_at, paced_status = await paced(procs.app_url, steady, args.rate, args.concurrency)
    got, _ = wait_replies(procs.fake_url, list(sent_at), 120)
    e2e = [got[t] - sent_at[t] for t in sent_at if t in got]
    return result | {
        "ack_p50": q(acks, 50),
        "ack_p99": q(acks, 99),
        "e2e_p50": q(e2e, 50),
        "e2e_p99": q(e2e, 99),
        "answered": f"{len(e2e)}/{len(sent_at)}",
        "5xx": result["5xx"] + sum(s >= 500 for s in paced_status),
        "memory": memory_mb(procs.app.pid),
    }


def spread(values: list[float], fmt: str = "{:,.0f}") -> str:
    """The median, with the range over the rounds."""
    low, mid, high = min(values), statistics.median(values), max(values)
    return f"{fmt.format(mid)} ({fmt.format(low)}–{fmt.format(high)})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000, help="webhooks in the closed-loop runs")
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3, help="alternating bare/webhook closed-loop rounds")
    parser.add_argument("--rate", type=float, default=200.0, help="requests/s of the paced run")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds of the paced run")
    parser.add_argument("--database-url", default="", help="default: a fresh SQLite file")
    parser.add_argument(
        "--compare-fast-path",
        action="store_true",
        help="also measure the app with the webhook fast path off (through the FastAPI stack)",
    )
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory() as tmp,
        Procs(Path(tmp), SECRET, args.database_url, plain_app=args.compare_fast_path) as procs,
    ):
        result = asyncio.run(run(args, procs))
        faq = procs.faq_loaded()
    report(args, result, faq, procs.database)


def report(args: argparse.Namespace, r: dict[str, Any], faq: bool, database: str) -> None:
    """The results as the Markdown table kept in docs/benchmarks.md."""
    rows = [
        ("bare FastAPI endpoint, closed loop (floor), req/s", spread(r["bare_rps"])),
        ("webhook acknowledgements, closed loop, req/s", spread(r["hook_rps"])),
        ("… as a share of the floor (same round)", spread(r["share"], "{:.0%}")),
        *(
            [
                ("webhook acks without the fast path, closed loop, req/s", spread(r["plain_rps"])),
                ("… as a share of the floor (same round)", spread(r["plain_share"], "{:.0%}")),
            ]
            if r["plain_rps"]
            else []
        ),
        (
            "events answered in the closed loop (until the last reply reached LINE), /s",
            spread(r["drain_rps"]),
        ),
        (f"ack latency at {args.rate:.0f} req/s, p50 / p99", f"{r['ack_p50']:.1f} / {r['ack_p99']:.1f} ms"),
        (f"end-to-end at {args.rate:.0f} req/s, p50 / p99", f"{r['e2e_p50']:.0f} / {r['e2e_p99']:.0f} ms"),
        ("answered in the paced run", r["answered"]),
        ("5xx (webhook / bare)", f"{r['5xx']} / {r['bare_5xx']}"),
        ("peak RSS of the app process (VmHWM)", f"{r['memory']['VmHWM']:.0f} MB"),
        (
            "… of which now anonymous / file-backed",
            f"{r['memory']['RssAnon']:.0f} / {r['memory']['RssFile']:.0f} MB",
        ),
    ]
    print(f"FAQ loaded in the app: {'yes' if faq else 'no'}; database: {database.split(':')[0]}")
    print("| Measure | Result |\n|---|---:|")
    for name, value in rows:
        print(f"| {name} | {value} |")


if __name__ == "__main__":
    main()
