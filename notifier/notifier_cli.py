"""`python -m notifier`: posts, workers and follower KPIs. Subcommand groups register in `__main__`."""

from __future__ import annotations

import click


@click.group()
def cli() -> None:
    """お知らせの予約配信とフォロワー数の記録 / Scheduled posts and follower KPIs."""
