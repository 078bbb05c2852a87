"""The command line: `suita` itself in process (click's runner, `tests.cli_runner`), one subprocess smoke
test per command group through the installed `suita` script and the `python -m` aliases, and `serve`
as `make run` starts it (a real server process)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import click
import httpx
import pytest

from app.cli import AREA_COMMANDS, cli, load_command
from app.settings import ROOT
from tests.cli_runner import suita

SUITA = Path(sys.executable).with_name("suita")  # the console script `make install` puts beside python


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("this is not a url", "DATABASE_URL is not a valid database URL"),
        ("postgresql+psycopg://u:secretpw@127.0.0.1:1/suita", "DATABASE_URL: cannot reach the database"),
    ],
)
def test_bad_database_gives_one_clear_line(url: str, fragment: str) -> None:
    r = suita("migrate", env={"DATABASE_URL": url})
    assert r.exit_code == 1
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and fragment in lines[0]
    assert "secretpw" not in r.stderr


def test_migrate_then_check_then_create_staff(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite'}"}
    r = suita("migrate", env=env)
    assert r.exit_code == 0, r.stderr
    assert suita("migrate", env=env).exit_code == 0  # idempotent
    check = suita("check", env=env)
    assert "current" in check.stdout and "line: demo" in check.stdout  # development: demo mode
    r = suita(
        "create-staff", "kouhou", "--role", "admin", env={**env, "STAFF_PASSWORD": "long enough password"}
    )
    assert r.exit_code == 0 and "created admin kouhou" in r.stdout
    dup = suita("create-staff", "kouhou", env={**env, "STAFF_PASSWORD": "long enough password"})
    assert dup.exit_code == 2 and "already exists" in dup.stderr


# ---- one subprocess per command group: the installed script and the `python -m` aliases -------------


def listed_commands(help_text: str) -> set[str]:
    """The command names in the "Commands:" section of a click help text."""
    _, _, section = help_text.partition("\nCommands:\n")
    return {line.split()[0] for line in section.splitlines() if line.startswith("  ") and line.strip()}


def group_commands(group: str) -> set[str]:
    command = cli if not group else load_command(AREA_COMMANDS[group])
    assert isinstance(command, click.Group)
    return set(command.list_commands(click.Context(command)))


@pytest.mark.parametrize(
    ("group", "aliases"),
    [
        ("", [["app"]]),
        ("faq", [["faq"]]),
        ("bot", [["bot"]]),
        ("notifier", [["notifier"]]),
        ("kpi", [["kpi"], ["notifier", "kpi"]]),
        ("reports", [["reports"]]),
    ],
)
def test_every_command_group_starts_as_a_process(group: str, aliases: list[list[str]]) -> None:
    """`suita [GROUP] --help` and `python -m ALIAS --help` exit 0 and list every command of the group."""
    assert SUITA.exists(), f"{SUITA} is missing: run `make install`"
    expected = group_commands(group)
    assert group or set(AREA_COMMANDS) <= expected  # `suita --help` lists every area
    runs = [[str(SUITA), *filter(None, [group])]] + [[sys.executable, "-m", *alias] for alias in aliases]
    for command in runs:
        done = subprocess.run([*command, "--help"], cwd=ROOT, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        assert expected <= listed_commands(done.stdout), (command, done.stdout)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def test_serve_migrates_and_answers_health(tmp_path: Path) -> None:
    """What `make run` does: a fresh SQLite file, migrations applied, /healthz and /readyz answer."""
    port = _free_port()
    env = {
        **os.environ,  # without settings: the autouse `clean_environ` fixture removed them
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
