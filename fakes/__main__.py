"""Run fake platform servers in the foreground for demos and benchmarks.

python -m fakes line --port 9001
"""

from __future__ import annotations

import importlib

import click
import uvicorn

from fakes.fake_server import FakePlatform, FaultMiddleware

# name -> "module:Class" of each platform fake
PLATFORMS: dict[str, str] = {
    "line": "fakes.fake_line:FakeLine",
    "x": "fakes.fake_x:FakeX",
    "facebook": "fakes.fake_facebook:FakeFacebook",
    "mastodon": "fakes.fake_mastodon:FakeMastodon",
    "bluesky": "fakes.fake_bluesky:FakeBluesky",
}


def load_platform(name: str) -> FakePlatform:
    module, _, cls = PLATFORMS[name].partition(":")
    platform: FakePlatform = getattr(importlib.import_module(module), cls)()
    return platform


@click.command()
@click.argument("name", type=click.Choice(sorted(PLATFORMS)) if PLATFORMS else str)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, required=True)
def main(name: str, host: str, port: int) -> None:
    """Serve the fake NAME platform API on HOST:PORT until interrupted."""
    platform = load_platform(name)
    uvicorn.run(FaultMiddleware(platform.app(), platform.state), host=host, port=port, log_level="warning")


if __name__ == "__main__":
    main()
