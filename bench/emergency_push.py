"""A 100,000-resident emergency in seven languages: one evacuation order made from an emergency template,
a LINE topic push (multicast in chunks of 500, each chunk in its residents' language) by a real
`python -m notifier worker` process against the fake LINE server (its own process) holding every
multicast call `--latency` seconds. Measured: time from the due moment ("send") to the last multicast
call answered (the last resident), and, in the same run against the same fake, the platform's limit:
the same calls fired straight at the fake at LINE's 200 multicast calls per second (no service).

    .venv/bin/python bench/emergency_push.py --residents 100000 --latency 0.15
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import datetime as dt
import os
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from notifier_bench import database, insert_subscribers, run_workers, start_fake
from sqlalchemy import select

from app.languages import LANGUAGES
from app.settings import Settings
from notifier import post_ledger
from notifier.compose import prepare
from notifier.ledger_tables import Delivery
from storage.db import make_engine, make_sessionmaker, session_scope

# Residents by language (per mille): most read Japanese; the rest follow Suita's foreign population.
SHARES = {"ja": 760, "ja-easy": 60, "en": 50, "zh-Hans": 60, "ko": 35, "vi": 25, "pt": 10}
LIMIT_PER_S = 200  # LINE: multicast calls per second
# seconds from creating the post to its due time: the worker process must be up by then (its start-up
# takes several seconds on a loaded machine and must not count as sending time)
START_MARGIN = 15
ORDER = {
    "id": "evacuation-level4-instruction",
    "slots": {
        "area": {"name": "吹田市全域", "kana": "すいたしぜんいき"},
        "shelters": [{"name": "千里第二小学校", "kana": "せんりだいにしょうがっこう"}, "市民体育館"],
        "time": "2026-12-06T15:00",
    },
}


def add_residents(url: str, count: int) -> dict[str, int]:
    cycle = [lang for lang, share in SHARES.items() for _ in range(share)]
    langs = [cycle[i % len(cycle)] for i in range(count)]
    insert_subscribers(url, list(langs))
    return dict(collections.Counter(langs))


def create_order(settings: Settings, url: str, due: dt.datetime) -> dict[str, str]:
    """The evacuation order from its template, due at `due`; returns each language's first line."""
    sessions = make_sessionmaker(make_engine(url))
    data = {"link": None, "topic": "bousai", "urgency": "emergency", "channels": ["line"],
            "scheduled_at": due.isoformat(), "template": ORDER, "title": "", "body": ""}  # fmt: skip
    prepared = prepare(data, settings, dt.datetime.now(dt.UTC))
    with session_scope(sessions) as session:
        post_ledger.create_post(session, prepared, author="bench")
    return {lang: msgs[0].split("\n")[0] for lang, msgs in prepared.texts["line"].items()}


def at_the_limit(url: str, calls: list[dict[str, Any]]) -> float:
    """Fire the same multicast bodies straight at the fake, at most 200 calls per second: seconds from
    the first call to the last answer (the floor the platform's limit and latency allow)."""

    async def run() -> float:
        limits = httpx.Limits(max_connections=400, max_keepalive_connections=400)
        async with httpx.AsyncClient(base_url=url, limits=limits, timeout=60) as client:
            start = time.monotonic()

            async def one(i: int, body: dict[str, Any]) -> None:
                await asyncio.sleep(max(0.0, start + i / LIMIT_PER_S - time.monotonic()))
                headers = {
                    "Authorization": "Bearer bench",
                    "X-Line-Retry-Key": str(uuid.uuid4()),
                }
                r = await client.post("/v2/bot/message/multicast", json=body, headers=headers)
                r.raise_for_status()

            await asyncio.gather(*(one(i, c) for i, c in enumerate(calls)))
            return time.monotonic() - start

    return asyncio.run(run())


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--residents", type=int, default=100_000)
    parser.add_argument("--latency", type=float, default=0.15, help="seconds each multicast call takes")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url, backend = database("auto", Path(tmp))
        proc, fake = start_fake("line", args.latency)
        try:
            values: dict[str, Any] = {"line_api_base_url": fake, "line_channel_access_token": "bench"}
            settings = Settings(_env_file=None, database_url=url, **values)
            residents = add_residents(url, args.residents)
            due = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=START_MARGIN)
            first_lines = create_order(settings, url, due)
            env = {k: v for k, v in os.environ.items() if k.lower() not in Settings.model_fields}
            env |= {k.upper(): str(v) for k, v in values.items()}
            env |= {"DATABASE_URL": url, "LOG_LEVEL": "WARNING"}
            run_workers(env, 1, url, 1, timeout=900)
            engine = make_engine(url)
            with engine.connect() as conn:
                state, sent_at = conn.execute(select(Delivery.state, Delivery.sent_at)).one()
            engine.dispose()
            calls = httpx.get(f"{fake}/__fake__/calls", params={"path": "/v2/bot/message/multicast$"}).json()
            httpx.post(f"{fake}/__fake__/reset")
            httpx.post(f"{fake}/__fake__/faults", json={"kind": "delay", "seconds": args.latency,
                       "path": "/v2/bot/message/multicast", "method": "POST", "times": -1})  # fmt: skip
            floor = at_the_limit(fake, [c["json"] for c in calls])
        finally:
            proc.terminate()
            proc.wait()
    reached: collections.Counter[str] = collections.Counter()
    for call in calls:
        text = call["json"]["messages"][0]["text"]
        lang = next(lang for lang, line in first_lines.items() if text.startswith(line))
        reached[lang] += len(call["json"]["to"])
    last = max(c["at"] for c in calls) + args.latency - due.timestamp()
    ideal = (len(calls) - 1) / LIMIT_PER_S + args.latency
    print(f"backend {backend}; delivery {state}; {len(calls)} multicast calls; latency {args.latency:.2f} s")
    print("| language | residents | reached |")
    print("|---|---:|---:|")
    for lang in LANGUAGES:
        print(f"| {lang} | {residents.get(lang, 0):,} | {reached.get(lang, 0):,} |")
    took = (sent_at - due).total_seconds() if sent_at is not None else float("nan")
    print(f"| send → last resident (service) | {last:.2f} s | due→sent {took:.2f} s |")
    print(f"| platform limit, measured (200 calls/s, same fake) | {floor:.2f} s | ideal {ideal:.2f} s |")
    assert all(reached[lang] == residents[lang] for lang in residents), "a language was not reached in full"


if __name__ == "__main__":
    main()
