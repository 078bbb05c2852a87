from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from app.settings import ROOT


def run_cli(*args: str, env: dict[str, str], input: str | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("LINE_", "X_", "DATABASE_"))}
    full_env.update(env)
    return subprocess.run(
        [sys.executable, "-m", "app", *args],
        cwd=ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        input=input,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("this is not a url", "DATABASE_URL is not a valid database URL"),
        ("postgresql+psycopg://u:secretpw@127.0.0.1:1/suita", "DATABASE_URL: cannot reach the database"),
    ],
)
def test_bad_database_gives_one_clear_line(url: str, fragment: str) -> None:
    r = run_cli("migrate", env={"DATABASE_URL": url})
    assert r.returncode == 1
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and fragment in lines[0]
    assert "secretpw" not in r.stderr


def test_migrate_then_check_then_create_staff(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite'}"}
    r = run_cli("migrate", env=env)
    assert r.returncode == 0, r.stderr
    assert run_cli("migrate", env=env).returncode == 0  # idempotent
    check = run_cli("check", env=env)
    assert "current" in check.stdout and "line: demo" in check.stdout  # development: demo mode
    r = run_cli(
        "create-staff", "kouhou", "--role", "admin", env={**env, "STAFF_PASSWORD": "long enough password"}
    )
    assert r.returncode == 0 and "created admin kouhou" in r.stdout
    dup = run_cli("create-staff", "kouhou", env={**env, "STAFF_PASSWORD": "long enough password"})
    assert dup.returncode == 2 and "already exists" in dup.stderr


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def test_serve_migrates_and_answers_health(tmp_path: Path) -> None:
    """What `make run` does: a fresh SQLite file, migrations applied, /healthz and /readyz answer."""
    port = _free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("LINE_", "X_", "DATABASE_"))},
        "DATABASE_URL": f"sqlite:///{tmp_path / 'run.db'}",
        "PORT": str(port),
        "APP_ENV": "test",
    }
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "app", "serve"], cwd=ROOT, env=env, stdout=out, stderr=out
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except httpx.TransportError:
                assert proc.poll() is None, log.read_text()
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.2)
        assert r.json() == {"status": "ok"}
        ready = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=5)
        assert ready.status_code == 200 and ready.json()["status"] == "ready"
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_serve_points_printed_links_at_where_it_listens(monkeypatch: pytest.MonkeyPatch, db_url: str) -> None:
    """Without PUBLIC_BASE_URL, the first-run link names the address `serve` listens on."""
    import uvicorn
    from click.testing import CliRunner

    from app.cli import cli

    calls: list[dict[str, object]] = []
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: calls.append(kwargs))
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("PUBLIC_BASE_URL", "")  # registered, so the test restores it
    monkeypatch.delenv("PUBLIC_BASE_URL")
    result = CliRunner().invoke(cli, ["serve", "--host", "0.0.0.0", "--port", "9123"])
    assert result.exit_code == 0, result.output
    assert calls and calls[0]["port"] == 9123
    assert os.environ["PUBLIC_BASE_URL"] == "http://127.0.0.1:9123"
