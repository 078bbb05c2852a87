"""The service under the issue 12 attacks, over real HTTP against a live app (uvicorn in a thread, a
fresh SQLite database in a temporary folder):

1. `GET /api/v1/faq/search?q=` + 県市×3,500 (63 KB URL-encoded) while another client polls `/healthz`:
   latency of the big search and of `/healthz` meanwhile, against a short search and an idle `/healthz`
   measured in the same run.
2. 24 parallel `POST /simulator/api/send` by one signed-in viewer (live bot against a local fake LINE)
   while a resident's signed webhook and `/readyz` are sent: their statuses and latencies, against the
   same webhook and `/readyz` with nothing else running.

    .venv/bin/python bench/exposed_service.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import platform
import re
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from app.auth import create_staff_user
from app.main import create_app
from app.settings import Settings
from fakes import fake_line_events as ev
from fakes.fake_line import FakeLine
from fakes.fake_server import FakeServer, ThreadedServer
from storage import migrate
from storage.db import make_engine, make_sessionmaker, session_scope

BIG = "県市" * 3_500
PASSWORD = "correct horse battery"
SECRET = "bench-channel-secret-0123456789"
TIMEOUT = 60.0  # seconds; a request not answered by then counts as status 0


def timed(fn: Callable[[], int]) -> tuple[int, float]:
    """The status (0: no answer within the timeout) and milliseconds of one request."""
    start = time.perf_counter()
    try:
        status = fn()
    except httpx.HTTPError:
        status = 0
    return status, (time.perf_counter() - start) * 1000


def ms(values: list[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return f"median {statistics.median(ordered):7.1f} ms, p95 {p95:7.1f} ms (n={len(ordered)})"


def poll_health(url: str, stop: threading.Event, polling: threading.Event, times: list[float]) -> None:
    """Poll `/healthz` until `stop`, adding each latency to `times`; `polling` is set once connected."""
    with httpx.Client(base_url=url, timeout=60) as poller:
        poller.get("/healthz")  # connected: the polls below all overlap the search
        polling.set()
        while not stop.is_set():
            times.append(timed(lambda: poller.get("/healthz").status_code)[1])


def search_under_attack(url: str, rounds: int) -> None:
    client = httpx.Client(base_url=url, timeout=60)
    idle = [timed(lambda: client.get("/healthz").status_code)[1] for _ in range(50)]
    short = [
        timed(lambda: client.get("/api/v1/faq/search", params={"q": "住民票"}).status_code)[1]
        for _ in range(rounds)
    ]
    big: list[float] = []
    during: list[float] = []
    for _ in range(rounds):
        stop, polling = threading.Event(), threading.Event()
        poller = threading.Thread(target=poll_health, args=(url, stop, polling, during))
        poller.start()
        polling.wait()
        status, took = timed(lambda: client.get("/api/v1/faq/search", params={"q": BIG}).status_code)
        stop.set()
        poller.join()
        assert status == 200, status
        big.append(took)
    print(f"/healthz idle                      {ms(idle)}")
    print(f"search 'q=住民票' (baseline)         {ms(short)}")
    print(f"search 63 KB ('県市'×3,500)          {ms(big)}")
    print(f"/healthz during the 63 KB searches {ms(during)}")


def simulator_flood(url: str, rounds: int, line: FakeLine) -> None:
    viewer = httpx.Client(base_url=url, timeout=TIMEOUT)
    token = re.search(r'name="csrf_token" value="([^"]+)"', viewer.get("/login").text)
    form = {"username": "viewer1", "password": PASSWORD} | ({"csrf_token": token.group(1)} if token else {})
    assert viewer.post("/login", data=form).status_code in (200, 303)
    session = viewer.get("/api/v1/session")  # absent before issue 12 (no CSRF token then)
    if session.status_code == 200:
        viewer.headers["X-CSRF-Token"] = session.json()["csrf_token"]
    counter = iter(range(1_000_000))

    def webhook() -> int:
        user = f"U{next(counter):032x}"
        raw = ev.body([ev.text_event(user, "住民票", line.issue_reply_token(user))])
        return httpx.post(
            f"{url}/line/webhook", content=raw, headers=ev.signed(raw, SECRET), timeout=TIMEOUT
        ).status_code

    def ready() -> int:
        return httpx.get(f"{url}/readyz", timeout=TIMEOUT).status_code

    def send(client: httpx.Client) -> int:
        return client.post("/simulator/api/send", json={"kind": "text", "text": "住民票"}).status_code

    quiet_hook = [timed(webhook)[1] for _ in range(20)]
    quiet_ready = [timed(ready)[1] for _ in range(20)]
    hooks: list[tuple[int, float]] = []
    readies: list[tuple[int, float]] = []
    sends: list[int] = []
    for _ in range(rounds):
        with ThreadPoolExecutor(max_workers=32) as pool:
            flood = [pool.submit(timed, lambda: send(viewer)) for _ in range(24)]
            hooks += [f.result() for f in [pool.submit(timed, webhook) for _ in range(4)]]
            readies += [f.result() for f in [pool.submit(timed, ready) for _ in range(2)]]
            sends += [f.result()[0] for f in flood]
    print(f"webhook, nothing else running      {ms(quiet_hook)}")
    hook_statuses = sorted({s for s, _ in hooks})
    print(f"webhook during 24 parallel sends   {ms([t for _, t in hooks])}, statuses {hook_statuses}")
    print(f"/readyz, nothing else running      {ms(quiet_ready)}")
    ready_statuses = sorted({s for s, _ in readies})
    print(f"/readyz during 24 parallel sends   {ms([t for _, t in readies])}, statuses {ready_statuses}")
    late = f"0: no answer in {TIMEOUT:.0f} s"
    print(f"simulator sends                    statuses {sorted(set(sends))} (n={len(sends)}; {late})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    print(f"# {platform.machine()} {platform.python_version()}, rounds={args.rounds}")
    fake = FakeLine("bench-token")
    with tempfile.TemporaryDirectory() as folder, FakeServer(fake) as line:
        url = f"sqlite:///{Path(folder) / 'bench.db'}"
        migrate.upgrade(url)
        engine = make_engine(url)
        with session_scope(make_sessionmaker(engine)) as s:
            create_staff_user(s, username="viewer1", password=PASSWORD, role="viewer")
        engine.dispose()
        settings = Settings(
            _env_file=None,
            app_env="test",
            database_url=url,
            run_worker_in_app=False,
            line_channel_secret=SECRET,
            line_channel_access_token="bench-token",
            line_api_base_url=line.url,
            line_data_api_base_url=line.url,
            search_rate_per_minute=100_000,
        )
        with ThreadedServer(create_app(settings), name="bench-app") as server:
            search_under_attack(server.url, args.rounds)
            simulator_flood(server.url, args.rounds, fake)


if __name__ == "__main__":
    main()
