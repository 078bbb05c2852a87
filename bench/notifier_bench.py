"""Delivery engine benchmark: real worker processes against the fakes (each in its own process).

Scenarios (one per run; results as a Markdown table row on stdout):

- `burst`:  POSTS posts x 4 channels (X, Facebook, Mastodon, Bluesky) all due at the same moment.
- `steady`: POSTS posts x 4 channels due RATE posts per second (within the platforms' limits).
- `line`:   one topic push to SUBSCRIBERS LINE subscribers (multicast in chunks of 500).

Measured: due-to-sent lag p50/p99 (`sent_at - due_at`), deliveries per second from the due time to the
last `sent_at`, and the latency-bound ideal (workers x concurrency / fake latency) for comparison.

    .venv/bin/python bench/notifier_bench.py burst --posts 1000 --workers 1            # SQLite
    .venv/bin/python scripts/pg_leg.py -- \
        .venv/bin/python bench/notifier_bench.py burst --posts 1000 --workers 3         # PostgreSQL
    .venv/bin/python bench/notifier_bench.py line --subscribers 100000
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, func, insert, select, text, update
from sqlalchemy.engine import make_url

from app.settings import Settings
from bot.bot_tables import LineUser, TopicSubscription
from notifier import post_ledger
from notifier.compose import prepare
from notifier.ledger_tables import Delivery, Post
from storage import migrate
from storage.db import make_engine, make_sessionmaker, session_scope

ROOT = Path(__file__).resolve().parent.parent

SNS = ("x", "facebook", "mastodon", "bluesky")
PUBLISH = {
    "line": "/v2/bot/message/multicast",
    "x": "/2/tweets",
    "facebook": "/feed",
    "mastodon": "/api/v1/statuses",
    "bluesky": "createRecord",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_fake(name: str, latency: float) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "fakes", name, "--port", str(port)], cwd=ROOT)
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            httpx.get(f"{url}/__fake__/state", timeout=1)
            break
        except httpx.HTTPError:
            time.sleep(0.05)
    if latency:
        fault = {"kind": "delay", "seconds": latency, "path": PUBLISH[name], "method": "POST", "times": -1}
        httpx.post(f"{url}/__fake__/faults", json=fault)
    return proc, url


def channel_settings(urls: dict[str, str]) -> dict[str, Any]:
    from fakes.fake_bluesky import HANDLE, PASSWORD
    from fakes.fake_facebook import PAGE_ID, TOKEN
    from fakes.fake_mastodon import TOKEN as MASTODON_TOKEN

    values: dict[str, Any] = {}
    if "line" in urls:
        values |= {"line_api_base_url": urls["line"], "line_channel_access_token": "bench"}
    if "x" in urls:
        values |= {"x_api_base_url": urls["x"], "x_api_key": "k", "x_api_secret": "s"}
        values |= {"x_access_token": "1500000000000000001-t", "x_access_token_secret": "ts"}
    if "facebook" in urls:
        values |= {"facebook_api_base_url": urls["facebook"], "facebook_page_id": PAGE_ID}
        values |= {"facebook_page_access_token": TOKEN}
    if "mastodon" in urls:
        values |= {"mastodon_api_base_url": urls["mastodon"], "mastodon_access_token": MASTODON_TOKEN}
    if "bluesky" in urls:
        values |= {"bluesky_api_base_url": urls["bluesky"], "bluesky_handle": HANDLE}
        values |= {"bluesky_app_password": PASSWORD}
    return values


def database(kind: str, tmp: Path) -> tuple[str, str]:
    """A fresh migrated database: (url, backend name)."""
    pg = os.environ.get("TEST_DATABASE_URL", "")
    if pg.startswith("postgresql"):
        name = f"bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(pg, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        url = make_url(pg).set(database=name).render_as_string(hide_password=False)
    else:
        url = f"sqlite:///{tmp / 'bench.db'}"
    migrate.upgrade(url)
    return url, make_url(url).get_backend_name()


def create_posts(settings: Settings, url: str, posts: int, channels: list[str], topic: str | None) -> None:
    sessions = make_sessionmaker(make_engine(url))
    far = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).isoformat()
    with session_scope(sessions) as session:
        for i in range(posts):
            data = {"title": f"ベンチマーク {i:05d}", "body": "配信エンジンの計測です。", "link": None,
                    "topic": topic, "channels": channels, "scheduled_at": far}  # fmt: skip
            post_ledger.create_post(session, prepare(data, settings, dt.datetime.now(dt.UTC)), author="bench")


def set_due(url: str, start: dt.datetime, rate: float | None) -> None:
    """Every post due at `start`, or one after another at `rate` posts per second."""
    engine = make_engine(url)
    with engine.begin() as conn:
        ids = list(conn.scalars(select(Post.id).order_by(Post.id)))
        for n, post_id in enumerate(ids):
            due = start + dt.timedelta(seconds=n / rate) if rate else start
            conn.execute(update(Delivery).where(Delivery.post_id == post_id).values(due_at=due, run_at=due))
    engine.dispose()


def add_subscribers(url: str, count: int) -> None:
    insert_subscribers(url, ["en" if i % 5 == 0 else None for i in range(count)])


def insert_subscribers(url: str, languages: list[str | None]) -> None:
    """One `bousai` subscriber per entry, with that chosen language (IDs `U000…0`, `U000…1`, …)."""
    engine = make_engine(url)
    now = dt.datetime.now(dt.UTC)
    users = [{"user_id": f"U{i:032x}", "language": lang, "profile_language": "ja",
              "created_at": now, "updated_at": now} for i, lang in enumerate(languages)]  # fmt: skip
    subs = [{"user_id": u["user_id"], "topic": "bousai", "created_at": now} for u in users]
    with engine.begin() as conn:
        for i in range(0, len(users), 10_000):
            conn.execute(insert(LineUser), users[i : i + 10_000])
            conn.execute(insert(TopicSubscription), subs[i : i + 10_000])
    engine.dispose()


def run_workers(env: dict[str, str], n: int, url: str, expected: int, timeout: float) -> None:
    procs = [subprocess.Popen([sys.executable, "-m", "notifier", "worker"], cwd=ROOT, env=env,
                              stderr=subprocess.DEVNULL) for _ in range(n)]  # fmt: skip
    engine = make_engine(url)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            with engine.connect() as conn:
                done = conn.scalar(
                    select(func.count()).where(Delivery.state.in_(("sent", "failed", "unknown")))
                )
            if done == expected:
                return
            time.sleep(0.25)
        raise SystemExit(f"timed out: {done}/{expected} deliveries final")
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            proc.wait(timeout=60)
        engine.dispose()


def results(url: str) -> dict[str, Any]:
    engine = make_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(select(Delivery.due_at, Delivery.sent_at, Delivery.state)).all()
    engine.dispose()
    lags = sorted((r.sent_at - r.due_at).total_seconds() for r in rows if r.sent_at)
    first_due, last_sent = min(r.due_at for r in rows), max(r.sent_at for r in rows if r.sent_at)
    span = max((last_sent - first_due).total_seconds(), 1e-3)
    states = {s: sum(1 for r in rows if r.state == s) for s in {r.state for r in rows}}
    p99 = lags[min(len(lags) - 1, int(len(lags) * 0.99))]
    return {"n": len(rows), "states": states, "p50": statistics.median(lags), "p99": p99,
            "per_s": len(lags) / span, "span": span}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("scenario", choices=["burst", "steady", "line"])
    parser.add_argument("--posts", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=5.0, help="steady: posts due per second")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--latency", type=float, default=0.05, help="seconds each publish call takes")
    parser.add_argument("--subscribers", type=int, default=100_000)
    args = parser.parse_args()
    names = ["line"] if args.scenario == "line" else list(SNS)
    with tempfile.TemporaryDirectory() as tmp:
        url, backend = database("auto", Path(tmp))
        fakes = {name: start_fake(name, args.latency) for name in names}
        try:
            values = channel_settings({name: u for name, (_, u) in fakes.items()})
            settings = Settings(_env_file=None, database_url=url, **values)
            if args.scenario == "line":
                add_subscribers(url, args.subscribers)
                args.posts = 1
            create_posts(settings, url, args.posts, names, "bousai" if args.scenario == "line" else None)
            start = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=4)
            set_due(url, start, args.rate if args.scenario == "steady" else None)
            env = {k: v for k, v in os.environ.items() if k.lower() not in Settings.model_fields}
            env |= {k.upper(): str(v) for k, v in values.items()}
            env |= {
                "DATABASE_URL": url,
                "NOTIFIER_CONCURRENCY": str(args.concurrency),
                "LOG_LEVEL": "WARNING",
            }
            wall = time.monotonic()
            run_workers(env, args.workers, url, args.posts * len(names), timeout=900)
            r = results(url)
            calls = len(
                httpx.get(f"{fakes[names[0]][1]}/__fake__/calls", params={"path": PUBLISH[names[0]]}).json()
            )
        finally:
            for proc, _ in fakes.values():
                proc.terminate()
                proc.wait()
    if args.scenario == "line":
        rate, took = calls / r["span"], time.monotonic() - wall
        print(f"| line topic push | {backend} | {args.subscribers:,} subscribers | {calls} multicast calls | "
              f"{r['p50']:.2f} s due→sent | {rate:.0f} calls/s | {took:.0f} s wall |")  # fmt: skip
        return
    ideal = args.workers * args.concurrency / args.latency if args.latency else float("inf")
    print(f"| {args.scenario} | {backend} | {args.workers} | {r['n']:,} | {r['states']} | {r['p50']:.2f} s | "
          f"{r['p99']:.2f} s | {r['per_s']:.0f} | {ideal:.0f} | {r['span']:.1f} s | {calls} calls | "
          f"{time.monotonic() - wall:.0f} s wall |")  # fmt: skip


if __name__ == "__main__":
    main()
