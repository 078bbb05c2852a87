"""Damage reports end to end: residents file reports on LINE (keyword, category, a photo, next, a
location, a note, send: 7 events in one signed webhook body each) against ONE uvicorn worker with the
fake LINE server in another process; measured until every event is answered AND every photo has been
fetched from the fake's content endpoint, checked, stripped of EXIF and stored with its thumbnail.

Baseline in the same run, same app, same number of residents and events: 7 ordinary messages each
(menu and FAQ questions), measured until every event is answered.

    .venv/bin/python bench/report_flow.py --residents 200 --rounds 3
"""

from __future__ import annotations

import argparse
import asyncio
import io
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
from PIL import Image
from sqlalchemy import create_engine, text
from webhook_procs import Procs, memory_mb

from fakes import fake_line_events as ev

SECRET = "bench-channel-secret"
PLAIN = ("メニュー", "住民票をコンビニで取れますか", "設定", "ごみの出し方", "言語", "English", "日本語")


def photo() -> bytes:
    """A 1024×768 JPEG with EXIF, about the size of a phone's shared photo after LINE's compression."""
    img = Image.new("RGB", (1024, 768))
    img.putdata([((x * 7) % 256, (y * 5) % 256, (x * y) % 256) for y in range(768) for x in range(1024)])
    exif = Image.Exif()
    exif[0x010F] = "BenchCam"
    out = io.BytesIO()
    img.save(out, format="JPEG", quality=85, exif=exif)
    return out.getvalue()


async def token(session: aiohttp.ClientSession, fake: str, user: str) -> str:
    async with session.post(f"{fake}/__fake__/line/reply-tokens", json={"userId": user}) as r:
        return str((await r.json())["replyToken"])


async def report_body(session: aiohttp.ClientSession, fake: str, user: str, image: bytes, t0: int) -> bytes:
    """The seven events of one report, in order (timestamps one millisecond apart)."""
    picture = ev.image_event(user, await token(session, fake, user), ts=t0 + 2)
    async with session.post(
        f"{fake}/__fake__/line/content/{picture['message']['id']}",
        data=image,
        headers={"content-type": "image/jpeg"},
    ) as r:
        await r.read()
    events = [
        ev.text_event(user, "被害を報告", await token(session, fake, user), ts=t0),
        ev.postback_event(user, "a=rp&s=cat&c=road", await token(session, fake, user), ts=t0 + 1),
        picture,
        ev.postback_event(user, "a=rp&s=next", await token(session, fake, user), ts=t0 + 3),
        ev.location_event(user, await token(session, fake, user), ts=t0 + 4),
        ev.text_event(user, "倒木で通行止め", await token(session, fake, user), ts=t0 + 5),
        ev.postback_event(user, "a=rp&s=send", await token(session, fake, user), ts=t0 + 6),
    ]
    return ev.body(events)


async def plain_body(session: aiohttp.ClientSession, fake: str, user: str, t0: int) -> bytes:
    events = [
        ev.text_event(user, q, await token(session, fake, user), ts=t0 + i) for i, q in enumerate(PLAIN)
    ]
    return ev.body(events)


def counts(database: str) -> tuple[int, int, int]:
    """(events answered, reports, photos stored)."""
    engine = create_engine(database)
    with engine.connect() as conn:
        done = conn.execute(
            text("SELECT count(*) FROM line_inbox WHERE status IN ('done','failed')")
        ).scalar()
        reports = conn.execute(text("SELECT count(*) FROM reports")).scalar()
        stored = conn.execute(text("SELECT count(*) FROM report_photos WHERE state = 'stored'")).scalar()
    engine.dispose()
    return int(done or 0), int(reports or 0), int(stored or 0)


async def run(
    procs: Procs, bodies: list[bytes], *, events: int, photos: int, concurrency: int
) -> dict[str, Any]:
    """Post the bodies (`concurrency` in flight); seconds until every event of the run is answered and
    `photos` more photos are stored."""
    before = counts(procs.database)
    statuses: list[int] = []
    queue = list(reversed(bodies))
    start = time.perf_counter()
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as session:

        async def worker() -> None:
            while queue:
                raw = queue.pop()
                async with session.post(
                    f"{procs.app_url}/line/webhook", data=raw, headers=ev.signed(raw, SECRET)
                ) as r:
                    await r.read()
                    statuses.append(r.status)

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    acked = time.perf_counter() - start
    while True:
        done, reports, stored = counts(procs.database)
        if done - before[0] >= events and stored - before[2] >= photos:
            break
        if time.perf_counter() - start > 600:
            raise RuntimeError(
                f"timed out: {done - before[0]}/{events} events, {stored - before[2]}/{photos} photos"
            )
        await asyncio.sleep(0.05)
    total = time.perf_counter() - start
    return {"acked": acked, "total": total, "errors": sum(s >= 500 for s in statuses),
            "reports": reports - before[1]}  # fmt: skip


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--residents", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=20)
    args = parser.parse_args()
    image = photo()
    with tempfile.TemporaryDirectory() as tmp, Procs(Path(tmp), SECRET) as procs:
        fake = procs.fake_url
        rows: dict[str, list[dict[str, Any]]] = {"baseline": [], "reports": []}
        async with aiohttp.ClientSession() as session:
            for r in range(args.rounds):
                t0 = int(time.time() * 1000)
                users = [f"U{(r * 100_000 + i):032x}" for i in range(args.residents)]
                plain = [await plain_body(session, fake, u, t0) for u in users]
                rows["baseline"].append(await run(procs, plain, events=7 * len(users), photos=0,
                                                  concurrency=args.concurrency))  # fmt: skip
                users = [f"U{(r * 100_000 + 50_000 + i):032x}" for i in range(args.residents)]
                flows = [await report_body(session, fake, u, image, t0) for u in users]
                rows["reports"].append(await run(procs, flows, events=7 * len(users), photos=len(users),
                                                 concurrency=args.concurrency))  # fmt: skip
        peak = memory_mb(procs.app.pid)["VmHWM"]
    print(
        f"photo: {len(image):,} bytes; residents per round: {args.residents}; 7 events each; "
        f"rounds: {args.rounds}"
    )
    print("| run | conversations/s (median, range) | events/s | seconds (median) | 5xx | reports made |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, results in rows.items():
        rates = [args.residents / x["total"] for x in results]
        med = statistics.median(rates)
        print(
            f"| {name} | {med:.1f} ({min(rates):.1f}–{max(rates):.1f}) | {med * 7:.0f} | "
            f"{statistics.median(x['total'] for x in results):.2f} | {sum(x['errors'] for x in results)} | "
            f"{sum(x['reports'] for x in results)} |"
        )
    print(f"peak RSS of the app: {peak:.0f} MB")


if __name__ == "__main__":
    asyncio.run(main())
