"""`python -m faq ask | rank | bench | build | import | export`."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

import click
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from faq import retrieval_metrics as benchmark
from faq.answer_types import Decision
from faq.corpus import CorpusError, Entry, dump_jsonl, parse_file
from faq.match import Matcher
from faq.normalize import MAX_QUESTION_CHARS
from faq.service import SEED_CORPUS, FaqIndexService
from faq.tokenize import terms

CORPUS = click.Path(exists=True, dir_okay=False, path_type=Path)


def _load(path: Path, encoding: str | None = None) -> list[Entry]:
    try:
        return parse_file(path, encoding=encoding)
    except CorpusError as exc:
        click.echo(f"error: {exc}", err=True)
    except LookupError:
        click.echo(f"error: unknown encoding {encoding!r}", err=True)
    sys.exit(1)


def _print_decision(decision: Decision, as_json: bool) -> None:
    if decision.truncated:
        click.echo(f"note: the question was cut to {MAX_QUESTION_CHARS} characters", err=True)
    if as_json:
        click.echo(json.dumps(decision.to_json(), ensure_ascii=False))
        return
    click.echo(f"[{decision.decision} {decision.score:.2f}]")
    if decision.answer:
        click.echo(decision.answer)
    for s in decision.suggestions:
        click.echo(f"- {s.question} ({s.entry_id}, {s.score:.2f})")


@click.group()
def cli() -> None:
    """吹田市 FAQ: 質問への回答・ランキング・ベンチマーク / the Suita FAQ engine."""


@cli.command()
@click.argument("question", required=False)
@click.option("--json", "as_json", is_flag=True, help="print the JSON shape other tools use")
@click.option("--lang", type=click.Choice(["ja", "en"]), default="ja", show_default=True)
@click.option("--corpus", type=CORPUS, default=SEED_CORPUS, help="corpus file (default: the shipped FAQ)")
def ask(question: str | None, as_json: bool, lang: str, corpus: Path) -> None:
    """Answer QUESTION; without it, answer each line of stdin with one JSON line."""
    service = FaqIndexService(_load(corpus))
    if question is not None:
        _print_decision(service.ask(question, lang=lang), as_json)
        return
    for line in sys.stdin:
        _print_decision(service.ask(line.rstrip("\n"), lang=lang), True)


def _rank_line(matcher: Matcher, line: str, k: int) -> dict[str, Any]:
    try:
        query = json.loads(line)
        qid, text = query["id"], query["text"]
        if not isinstance(text, str):
            raise TypeError("text must be a string")
    except (ValueError, KeyError, TypeError) as exc:
        return {"id": None, "ranked": [], "scores": [], "error": f"bad query line: {exc}"}
    ranking = matcher.rank(text, k)
    ranked = [(matcher.entries[c.index].id, round(c.score, 4)) for c in ranking.candidates]
    return {"id": qid, "ranked": [r[0] for r in ranked], "scores": [r[1] for r in ranked]}


@cli.command()
@click.option("--corpus", type=CORPUS, required=True, help="JSONL or CSV in the import format")
@click.option("--k", type=click.IntRange(1, 1000), default=10, show_default=True)
def rank(corpus: Path, k: int) -> None:
    """Read JSONL {"id", "text"} queries on stdin; print {"id", "ranked", "scores"} per query."""
    matcher = Matcher(_load(corpus))
    failed = False
    for line in sys.stdin:
        if not line.strip():
            continue
        result = _rank_line(matcher, line, k)
        failed = failed or "error" in result
        click.echo(json.dumps(result, ensure_ascii=False))
    sys.exit(1 if failed else 0)


@cli.command()
@click.option("--corpus", type=CORPUS, required=True)
@click.option("--queries", type=CORPUS, required=True, help='JSONL {"id", "text"}')
@click.option("--qrels", type=CORPUS, required=True, help='JSON {"query id": {"entry id": grade}}')
@click.option("--k", type=click.IntRange(5, 1000), default=10, show_default=True)
@click.option("--json", "as_json", is_flag=True)
def bench(corpus: Path, queries: Path, qrels: Path, k: int, as_json: bool) -> None:
    """SR@1, SR@5, MRR, P@5, latency per query, index build time and memory."""
    entries = _load(corpus)
    terms("辞書の読み込み")  # load the Sudachi dictionary first: it is not part of the index
    matcher, build_s, index_mb = benchmark.timed_build(lambda: Matcher(entries))

    def ranked(text: str) -> list[str]:
        return [matcher.entries[c.index].id for c in matcher.rank(text, k).candidates]

    result = benchmark.run(ranked, benchmark.read_queries(queries), benchmark.read_qrels(qrels))
    result |= {"entries": len(entries), "build_s": round(build_s, 3), "index_mb": round(index_mb, 1)}
    result["peak_rss_mb"] = round(benchmark.peak_rss_mb(), 1)
    _report(result, as_json, sys.stdout)


def _report(result: dict[str, Any], as_json: bool, out: TextIO) -> None:
    if as_json:
        out.write(json.dumps(result) + "\n")
        return
    for key, value in result.items():
        out.write(f"{key:>12}: {value}\n")


@cli.command()
@click.argument("plan", type=CORPUS)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="default: stdout")
def build(plan: Path, output: Path | None) -> None:
    """Extract every action plan of PLAN (the plan's text) into draft FAQ entries (JSONL)."""
    from faq.plan_extract import drafts, extract

    plans = extract(plan.read_text(encoding="utf-8"))
    if not plans:
        click.echo(
            f"error: {plan}: no action plans found (expected a '(5)各アクションプラン' section)", err=True
        )
        sys.exit(1)
    text = dump_jsonl(drafts(plans))
    if output:
        output.write_text(text, encoding="utf-8")
    else:
        click.echo(text, nl=False)
    click.echo(f"{len(plans)} action plans: {', '.join(str(p.number) for p in plans)}", err=True)


@contextmanager
def _database() -> Iterator[Session]:
    """A committed session on a migrated DATABASE_URL; configuration and database errors end the
    command cleanly (exit 1)."""
    from app.cli import open_database
    from app.settings import ConfigError
    from storage.db import session_scope

    try:
        with open_database(pool_size=1) as (_settings, sessions), session_scope(sessions) as session:
            yield session
    except ConfigError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    except SQLAlchemyError as exc:
        click.echo(f"error: database: {type(exc).__name__}", err=True)
        sys.exit(1)


@cli.command("import")
@click.argument("file", type=CORPUS)
@click.option("--encoding", help="force an encoding (default: UTF-8, else Shift_JIS/cp932 for CSV)")
@click.option("--dry-run", is_flag=True, help="check the file only")
def import_(file: Path, encoding: str | None, dry_run: bool) -> None:
    """Import a JSONL or CSV file into the database (all or nothing; entries upserted by id+lang)."""
    from app import audit
    from faq.faq_api import imported_entries

    entries = _load(file, encoding)
    if dry_run:
        click.echo(f"{file}: {len(entries)} entries, no errors")
        return
    with _database() as session:
        imported_entries(session, entries, audit.cli_actor(), audit.CLI, file.name)
    click.echo(f"imported {len(entries)} entries from {file}")


@cli.command()
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="default: stdout")
def export(output: Path | None) -> None:
    """Write the database's FAQ entries as JSONL (the import format)."""
    from faq import entry_store

    with _database() as session:
        text = dump_jsonl(entry_store.load_entries(session))
    if output:
        output.write_text(text, encoding="utf-8")
    else:
        click.echo(text, nl=False)
