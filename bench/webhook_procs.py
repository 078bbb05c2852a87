"""The processes of the webhook benchmark: the fake LINE server, the app (one uvicorn worker) and the
bare endpoint, each on a free loopback port; logs go to files in the run's temporary folder."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import IO, Any, Self

import httpx

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def memory_mb(pid: int) -> dict[str, float]:
    """Peak resident set size (VmHWM) and the current anonymous and file-backed parts, in MB."""
    fields = ("VmHWM", "RssAnon", "RssFile")
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, rest = line.partition(":")
        if name in fields:
            values[name] = int(rest.split()[0]) / 1024
    return values


class Procs:
    """Start the three servers; stop them on exit."""

    def __init__(self, tmp: Path, secret: str, database_url: str = "", *, plain_app: bool = False) -> None:
        self.tmp = tmp
        self.secret = secret
        self.database = database_url or f"sqlite:///{tmp / 'bench.db'}"
        self.plain_database = f"sqlite:///{tmp / 'bench-plain.db'}"
        self.plain_app = plain_app  # also the app without the webhook fast path, on its own database
        self.plain_url = ""
        self._logs: list[IO[Any]] = []
        self._procs: list[subprocess.Popen[bytes]] = []

    def _start(
        self, name: str, command: list[str], env: dict[str, str], health: str
    ) -> subprocess.Popen[bytes]:
        log = open(self.tmp / f"{name}.log", "wb")  # noqa: SIM115 (closed in __exit__)
        self._logs.append(log)
        proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        self._procs.append(proc)
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(health, timeout=1).status_code < 500:
                    return proc
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{name} did not start; see {self.tmp / (name + '.log')}")
            time.sleep(0.1)

    def __enter__(self) -> Self:
        base = {k: v for k, v in os.environ.items() if not k.startswith(("LINE_", "DATABASE_"))}
        fake_port, app_port, bare_port = free_port(), free_port(), free_port()
        self.fake_url = f"http://127.0.0.1:{fake_port}"
        self.app_url = f"http://127.0.0.1:{app_port}"
        self.bare_url = f"http://127.0.0.1:{bare_port}"
        py = sys.executable
        fake = [py, "-m", "fakes", "line", "--port", str(fake_port)]
        self._start("fake", fake, base, f"{self.fake_url}/__fake__/state")
        migrate_env = {**base, "DATABASE_URL": self.database}
        subprocess.run([py, "-m", "app", "migrate"], cwd=ROOT, env=migrate_env, check=True)
        uvicorn = [py, "-m", "uvicorn", "--factory", "--log-level", "warning", "--no-access-log"]
        app = [*uvicorn, "app.main:create_app_from_env", "--port", str(app_port)]
        self.app = self._start("app", app, self._app_env(base), f"{self.app_url}/healthz")
        bare = [*uvicorn, "bench.bare_app:create", "--port", str(bare_port)]
        self._start("bare", bare, base, f"{self.bare_url}/healthz")
        if self.plain_app:
            plain_port = free_port()
            self.plain_url = f"http://127.0.0.1:{plain_port}"
            subprocess.run(
                [py, "-m", "app", "migrate"],
                cwd=ROOT,
                env={**base, "DATABASE_URL": self.plain_database},
                check=True,
            )
            plain = [*uvicorn, "bench.app_without_fast_path:create", "--port", str(plain_port)]
            env = {**self._app_env(base), "DATABASE_URL": self.plain_database}
            self._start("plain", plain, env, f"{self.plain_url}/healthz")
        return self

    def _app_env(self, base: dict[str, str]) -> dict[str, str]:
        """A production-like app: JSON logs at INFO (to a file), LINE calls to the fake."""
        return {
            **base,
            "APP_ENV": "production",
            "SECRET_KEY": "bench-secret-key-0123456789-abcdefghijkl",
            "DATABASE_URL": self.database,
            "RUN_WORKER_IN_APP": "false",
            "LOG_LEVEL": "INFO",
            "LINE_CHANNEL_SECRET": self.secret,
            "LINE_CHANNEL_ACCESS_TOKEN": "bench-token",
            "LINE_API_BASE_URL": self.fake_url,
            "LINE_DATA_API_BASE_URL": self.fake_url,
        }

    def faq_loaded(self) -> bool:
        """Whether the app answered a known question from the FAQ (not its fallback)."""
        calls = httpx.get(f"{self.fake_url}/__fake__/calls", params={"path": "/reply"}, timeout=60).json()
        return any("役に立ちましたか" in str(c.get("json")) for c in calls)

    def __exit__(self, *exc: object) -> None:
        for proc in self._procs:
            proc.terminate()
        for proc in self._procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
        for log in self._logs:
            log.close()
