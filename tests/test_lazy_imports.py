"""The web process only loads what its requests need: matplotlib (KPI charts), twitter-text (with
pkg_resources) and the X/Mastodon/Bluesky SDKs are imported on first use, so a process serving LINE's
webhook never holds them in memory. Checked in a fresh interpreter (this one has imported everything;
the program does not import the tests' helpers, which load the fakes)."""

from __future__ import annotations

import json
import subprocess
import sys

from app.settings import ROOT

HEAVY = ("matplotlib", "tweepy", "mastodon", "atproto", "atproto_client", "twitter_text", "pkg_resources")

PROGRAM = """
import json, sys
from fastapi.testclient import TestClient
from app.main import create_app
from app.settings import Settings
settings = Settings(
    _env_file=None, app_env="test", database_url=sys.argv[1], run_worker_in_app=False,
    x_api_key="k", x_api_secret="s", x_access_token="t", x_access_token_secret="ts",
    mastodon_api_base_url="http://127.0.0.1:9", mastodon_access_token="t",
    bluesky_handle="city.example", bluesky_app_password="p",
    line_channel_secret="s", line_channel_access_token="t", line_api_base_url="http://127.0.0.1:9",
)
with TestClient(create_app(settings)) as client:
    assert client.get("/healthz").status_code == 200
    assert client.post("/line/webhook", content=b"{}").status_code == 400
print(json.dumps(sorted({name.partition(".")[0] for name in sys.modules})))
"""


def test_the_app_does_not_import_charting_or_social_sdks(db_url: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROGRAM, db_url], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    loaded = set(json.loads(done.stdout.strip().splitlines()[-1]))
    assert "fastapi" in loaded and "linebot" in loaded  # the check sees real imports
    assert loaded.isdisjoint(HEAVY), sorted(loaded & set(HEAVY))
