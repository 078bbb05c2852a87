"""`suita notifier` (also `python -m notifier`), in process: post create, show --json, worker --once;
exit code 2 on bad input."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from sqlalchemy import Engine, func, select

from notifier.ledger_tables import Post
from tests.cli_runner import suita
from tests.notifier.conftest import FAST, Fakes, post_data


def env_for(db_url: str, fakes: Fakes | None, **extra: Any) -> dict[str, str]:
    values: dict[str, Any] = {
        "database_url": db_url,
        "app_env": "test",
        "approval_required": False,
        **FAST,
        **extra,
    }
    if fakes is not None:
        values.update(fakes.settings())
    return {k.upper(): str(v) for k, v in values.items()}


def notifier(*args: str, env: dict[str, str]) -> Result:
    return suita("notifier", *args, env=env)


def write(tmp_path: Path, data: Any, name: str = "POST.json") -> str:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return str(path)


def test_create_show_and_deliver(db_url: str, fakes: Fakes, tmp_path: Path) -> None:
    env = env_for(db_url, fakes)
    created = notifier("post", "create", "--json-file", write(tmp_path, post_data()), env=env)
    assert created.exit_code == 0, created.stderr
    post_id = int(created.stdout.strip())
    shown = json.loads(notifier("post", "show", str(post_id), "--json", env=env).stdout)
    assert set(shown) == {"id", "state", "deliveries"} and shown["id"] == post_id
    assert shown["state"] == "scheduled"
    assert [set(d) for d in shown["deliveries"]] == [{"channel", "state", "platform_id", "error"}] * 4
    worked = notifier("worker", "--once", env=env)
    assert worked.exit_code == 0 and "processed 4 deliveries" in worked.stdout, worked.stderr
    done = json.loads(notifier("post", "show", str(post_id), "--json", env=env).stdout)
    assert done["state"] == "done"
    assert all(d["state"] == "sent" and d["platform_id"] and d["error"] is None for d in done["deliveries"])
    assert [len(fakes.published(n)) for n in ("x", "facebook", "mastodon", "bluesky")] == [1, 1, 1, 1]


@pytest.mark.parametrize(
    ("data", "needs", "fragments"),
    [
        (post_data(channels=["x", "myspace"]), "fakes", ["channels[1]", "unknown channel 'myspace'"]),
        (post_data(scheduled_at="2021-04-01T09:00:00+09:00"), "fakes", ["scheduled_at", "in the past"]),
        (post_data(body="あ" * 200), "fakes", ["body", "too long for X", "the limit is 280"]),
        (post_data(channels=["x"]), "nothing", ["channels[0]", "X_API_KEY"]),
        ('{"title": "unterminated', "fakes", ["--json-file", "not valid JSON"]),
    ],
)
def test_bad_input_exits_2_naming_the_field(
    db_url: str, engine: Engine, fakes: Fakes, tmp_path: Path, data: Any, needs: str, fragments: list[str]
) -> None:
    env = env_for(db_url, fakes if needs == "fakes" else None)
    r = notifier("post", "create", "--json-file", write(tmp_path, data), env=env)
    assert r.exit_code == 2, r.stdout + r.stderr
    assert r.stdout == ""
    for fragment in fragments:
        assert fragment in r.stderr
    assert all(line.startswith("error: ") for line in r.stderr.strip().splitlines())
    with engine.connect() as conn:  # nothing was stored
        assert conn.execute(select(func.count()).select_from(Post)).scalar() == 0


def test_missing_file_and_unknown_post(db_url: str, tmp_path: Path) -> None:
    env = env_for(db_url, None)
    r = notifier("post", "create", "--json-file", str(tmp_path / "nope.json"), env=env)
    assert r.exit_code == 2 and "--json-file" in r.stderr
    r = notifier("post", "show", "4242", "--json", env=env)
    assert r.exit_code == 2 and "no post with id 4242" in r.stderr


def test_status_exit_code(db_url: str, fakes: Fakes, tmp_path: Path) -> None:
    env = env_for(db_url, fakes)
    assert notifier("status", env=env).exit_code == 0
    notifier("post", "create", "--json-file", write(tmp_path, post_data(channels=["x"])), env=env)
    r = notifier("status", "--json", env=env)
    assert r.exit_code == 1 and "no worker is running" in json.loads(r.stdout)["problems"][0]


def test_with_approval_required_a_post_from_the_command_line_waits_too(
    db_url: str, fakes: Fakes, tmp_path: Path, engine: Engine
) -> None:
    env = env_for(db_url, fakes, approval_required=True)
    created = notifier("post", "create", "--json-file", write(tmp_path, post_data()), env=env)
    assert created.exit_code == 0, created.stderr
    shown = json.loads(notifier("post", "show", created.stdout.strip(), "--json", env=env).stdout)
    assert shown["state"] == "awaiting_approval" and shown["deliveries"] == []
    assert notifier("worker", "--once", env=env).exit_code == 0
    assert fakes.published("x") == []
    with engine.connect() as conn:
        actions = conn.exec_driver_sql("SELECT action, actor_role FROM audit_events").all()
    assert [tuple(a) for a in actions] == [("post.create", "cli")]
