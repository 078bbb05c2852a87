"""`suita notifier` (`python -m notifier`): `post create|show|list|cancel|resolve`, `worker [--once]`
and `status`.

Bad input (unknown channel, past time, over-limit text, missing credentials, malformed JSON) exits
with code 2 and one `error: FIELD: problem` line per problem on stderr; an unreachable or unmigrated
database exits with code 1.
"""

from __future__ import annotations

import asyncio
import getpass
import json
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

import click
from sqlalchemy.orm import Session

from app import audit
from app.cli import config_errors_exit, open_database
from app.tokyo_time import to_jst
from notifier import delivery_health, post_ledger, template_revisions
from notifier.compose import ComposeError, prepare, templates_filled_from
from notifier.post_views import post_view, show_json
from storage.base import utcnow
from storage.db import session_scope


@click.group()
def cli() -> None:
    """お知らせの予約配信 / Scheduled posts to LINE and the SNS."""


def fail(message: str, code: int = 2) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


@contextmanager
def db_session() -> Iterator[Session]:
    """A committed-on-success session on a migrated database (`ConfigError` otherwise)."""
    with open_database(pool_size=1) as (_settings, sessions), session_scope(sessions) as session:
        yield session


def _read_json(path: str) -> Any:
    try:
        with click.open_file(path, encoding="utf-8") as fh:
            return json.load(fh)
    except OSError as exc:
        fail(f"--json-file: cannot read {path}: {exc.strerror}")
    except (ValueError, UnicodeDecodeError) as exc:
        fail(f"--json-file: {path} is not valid JSON ({exc})")


@cli.group()
def post() -> None:
    """お知らせの作成・確認・取消 / Create, show and cancel posts."""


def cli_audited(session: Session, action: str, post_id: int, note: str | None = None) -> None:
    """Record a post action taken from the command line in the audit log (same transaction)."""
    summary = {"note": audit.masked(note)} if note else {}
    audit.record(session, audit.cli_actor(), audit.CLI, action, "post", post_id, summary)


@post.command("create")
@click.option("--json-file", "path", required=True, help="POST.json (`-` for stdin)")
@click.option("--author", default=getpass.getuser, show_default="current user", help="Who wrote it")
@click.option("--draft", is_flag=True, help="Save without scheduling")
@config_errors_exit
def create(path: str, author: str, draft: bool) -> None:
    """Create a post from POST.json and print its id (with APPROVAL_REQUIRED it waits for approval
    on /posts, as any post does)."""
    data = _read_json(path)
    with open_database(pool_size=1) as (settings, sessions):
        with sessions() as session:  # a template is filled from its approved edits
            texts = template_revisions.effective_texts(session)
        try:
            with templates_filled_from(texts):
                prepared = prepare(data, settings, utcnow())
        except ComposeError as exc:
            for problem in exc.problems:
                click.echo(f"error: {problem}", err=True)
            sys.exit(2)
        with session_scope(sessions) as session:
            new = post_ledger.create_post(
                session,
                prepared,
                author=author[:64],
                draft=draft,
                approval_required=settings.approval_required,
                now=utcnow(),
            )
            cli_audited(session, "post.create", new.id, f"state {new.state}, author {author[:64]}")
            post_id = new.id
    click.echo(post_id)


@post.command("show")
@click.argument("post_id", type=int)
@click.option("--json", "as_json", is_flag=True, help='{"id", "state", "deliveries": [...]}')
@config_errors_exit
def show(post_id: int, as_json: bool) -> None:
    """Show a post and the outcome on each channel."""
    with db_session() as session:
        try:
            found = post_ledger.load(session, post_id)
        except post_ledger.LedgerError as exc:
            fail(str(exc))
        if as_json:
            click.echo(json.dumps(show_json(found), ensure_ascii=False))
            return
        view = post_view(found, utcnow())
    click.echo(f"#{view['id']} {view['state']} {view['scheduled_at']} {view['title']}")
    for d in view["deliveries"]:
        extra = d["platform_id"] or d["error"] or ""
        click.echo(f"  {d['channel']:<9} {d['state']:<9} {extra}")


@post.command("list")
@click.option("--limit", type=click.IntRange(1, 200), default=20, show_default=True)
@config_errors_exit
def list_(limit: int) -> None:
    """The newest posts and their state."""
    with db_session() as session:
        for p in post_ledger.list_posts(session, limit=limit):
            states = ",".join(f"{d.channel}:{d.state}" for d in p.deliveries)
            click.echo(f"#{p.id} {p.state:<9} {to_jst(p.scheduled_at)} {p.title}  [{states}]")


@post.command("cancel")
@click.argument("post_id", type=int)
@config_errors_exit
def cancel(post_id: int) -> None:
    """Cancel a post none of whose deliveries has started."""
    with db_session() as session:
        try:
            post_ledger.cancel_post(session, post_id)
            cli_audited(session, "post.cancel", post_id)
        except post_ledger.LedgerError as exc:
            fail(str(exc))
    click.echo(f"cancelled {post_id}")


@post.command("resolve")
@click.argument("delivery_id", type=int)
@click.argument("outcome", type=click.Choice(post_ledger.RESOLUTIONS))
@click.option("--platform-id", default=None, help="The post's id on the platform (outcome sent)")
@config_errors_exit
def resolve(delivery_id: int, outcome: str, platform_id: str | None) -> None:
    """Record a person's check of an unknown delivery: sent, resend or failed."""
    with db_session() as session:
        try:
            delivery = post_ledger.resolve_delivery(
                session, delivery_id, outcome, by=getpass.getuser(), now=utcnow(), platform_id=platform_id
            )
            cli_audited(session, "post.resolve", delivery.post_id, f"delivery {delivery_id}: {outcome}")
        except post_ledger.LedgerError as exc:
            fail(str(exc))
    click.echo(f"delivery {delivery_id}: {outcome}")


@cli.command()
@click.option("--once", is_flag=True, help="Process what is due now, then exit")
@click.option(
    "--concurrency", type=click.IntRange(1, 64), default=None, help="Overrides NOTIFIER_CONCURRENCY"
)
@config_errors_exit
def worker(once: bool, concurrency: int | None) -> None:
    """Deliver due posts until stopped (SIGTERM/SIGINT finish what is in flight)."""
    from app.logs import configure_logging
    from notifier.delivery.delivery_worker import DeliveryWorker

    with open_database(pool_size=1) as (settings, _sessions):  # fails clearly when not migrated
        pass
    if concurrency is not None:
        settings = settings.model_copy(update={"notifier_concurrency": concurrency})
    configure_logging(settings.log_level, settings.log_format)
    processed = asyncio.run(
        _run_worker(DeliveryWorker(settings, mode="once" if once else "standalone"), once)
    )
    if once:
        click.echo(f"processed {processed} deliveries")


async def _run_worker(w: Any, once: bool) -> int:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, w.stop)
    result: int = await w.run(once=once)
    return result


@cli.command("status")
@click.option("--json", "as_json", is_flag=True)
@config_errors_exit
def status_cmd(as_json: bool) -> None:
    """Workers alive, overdue deliveries and rate limits; exit code 1 when something is stuck."""
    with db_session() as session:
        data = delivery_health.full(session, utcnow())
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, default=str))
    else:
        click.echo(f"workers alive: {data['workers_alive']}; deliveries: {data['deliveries']}")
        for problem in data["problems"]:
            click.echo(f"problem: {problem}")
    sys.exit(0 if data["ok"] else 1)
