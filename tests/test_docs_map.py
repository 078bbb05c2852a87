"""Docs as tests: the module map of docs/architecture.md lists every package and module of the service
(and nothing that is gone), the README stays short and links every docs page, links between the docs
resolve, and every HTTP path, CLI command and setting is documented somewhere in README.md or docs/."""

from __future__ import annotations

import ast
import importlib
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import click
import pytest
from fastapi import APIRouter
from starlette.routing import Mount

from app.cli import cli
from app.main import AREAS, create_app
from app.settings import ROOT, Settings
from tests.conftest import make_settings

PACKAGES = ("app", "storage", "platforms", "fakes", "faq", "bot", "reports", "notifier", "kpi")
DOCS = ROOT / "docs"
ARCHITECTURE = DOCS / "architecture.md"
README = ROOT / "README.md"
README_MAX_BYTES = 12_000
MAP_ROW = re.compile(r"^\|\s*`([^`]+)`\s*\|(.*)\|\s*$")


def code_entries() -> list[str]:
    """Every package (as `pkg/sub/`) and module (as `pkg/sub/name.py`) of the service."""
    entries: set[str] = set()
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "__pycache__" in path.parts:
                continue
            rel = path.relative_to(ROOT).as_posix()
            entries.add(rel.removesuffix("__init__.py") if path.name == "__init__.py" else rel)
    return sorted(entries)


def section(text: str, heading: str) -> str:
    """The text under the `## heading` up to the next `## ` heading."""
    start = text.index(f"\n## {heading}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


def map_rows() -> dict[str, str]:
    """Module map rows: entry → what it holds."""
    rows: dict[str, str] = {}
    for line in section(ARCHITECTURE.read_text(encoding="utf-8"), "Module map").splitlines():
        match = MAP_ROW.match(line)
        if match and match.group(1) != "Module":
            assert match.group(1) not in rows, f"module map lists {match.group(1)} twice"
            rows[match.group(1)] = match.group(2).strip()
    return rows


def suggested_row(entry: str) -> str:
    """A row to paste into the map: the entry and the first line of its docstring."""
    path = ROOT / entry / "__init__.py" if entry.endswith("/") else ROOT / entry
    doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) if path.exists() else None
    first = (doc or "").strip().split("\n\n")[0].replace("\n", " ")
    return f"| `{entry}` | {first or '<what it holds, one line>'} |"


def test_module_map_lists_every_module() -> None:
    rows = map_rows()
    missing = [entry for entry in code_entries() if entry not in rows]
    lines = [f"  under '### {entry.split('/')[0]}': {suggested_row(entry)}" for entry in missing]
    assert not missing, (
        f"docs/architecture.md's module map lacks {len(missing)} package(s)/module(s). Add these rows "
        "(one line saying what it holds; the docstring's first paragraph is suggested):\n" + "\n".join(lines)
    )


def test_module_map_names_only_existing_modules() -> None:
    stale = sorted(set(map_rows()) - set(code_entries()))
    assert not stale, (
        "docs/architecture.md's module map names what no longer exists; remove or rename these rows:\n"
        + "\n".join(f"  | `{entry}` |" for entry in stale)
    )


def test_every_map_row_says_what_it_holds() -> None:
    empty = [entry for entry, text in map_rows().items() if len(text) < 10]
    assert not empty, f"module map rows without a description: {empty}"


@pytest.mark.parametrize(
    ("entry", "words"),
    [
        ("bot/reply_sender.py", "LINE reply is sent"),
        ("notifier/channels/x_channel.py", "post to X is sent"),
        ("kpi/snapshot_store.py", "follower count is stored"),
    ],
)
def test_the_map_answers_where_things_happen_in_one_hop(entry: str, words: str) -> None:
    assert words in map_rows()[entry]


def test_architecture_has_the_two_flows_as_mermaid_diagrams() -> None:
    text = ARCHITECTURE.read_text(encoding="utf-8")
    blocks = re.findall(r"```mermaid\n(.*?)```", text, re.DOTALL)
    assert len(blocks) >= 2
    assert all(b.lstrip().startswith(("flowchart", "sequenceDiagram")) for b in blocks)
    for heading in ("The layer rule", "Module map", "Glossary"):
        assert f"\n## {heading}\n" in text


def test_readme_is_short() -> None:
    size = len(README.read_bytes())
    assert size <= README_MAX_BYTES, f"README.md is {size} bytes; keep it ≤ {README_MAX_BYTES}"


def test_readme_links_every_docs_page() -> None:
    text = README.read_text(encoding="utf-8")
    unlinked = [p.name for p in sorted(DOCS.glob("*.md")) if f"(docs/{p.name}" not in text]
    assert not unlinked, f"README.md does not link these docs pages: {unlinked}"


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    text = re.sub(r"```.*?```", "", path.read_text(encoding="utf-8"), flags=re.DOTALL)
    return {slug(h) for h in re.findall(r"^#+ (.+)$", text, re.MULTILINE)}


MARKDOWN = [README, *sorted(DOCS.glob("*.md"))]


@pytest.mark.parametrize("page", MARKDOWN, ids=lambda p: p.name)
def test_relative_links_resolve(page: Path) -> None:
    text = re.sub(r"```.*?```", "", page.read_text(encoding="utf-8"), flags=re.DOTALL)
    broken = []
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"[a-z]+:", target):
            continue
        file, _, anchor = target.partition("#")
        dest = (page.parent / file).resolve() if file else page
        if not dest.exists() or (anchor and dest.suffix == ".md" and anchor not in anchors(dest)):
            broken.append(target)
    assert not broken, f"{page.name}: broken links {broken}"


def documentation() -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in MARKDOWN)


def route_paths(routes: Iterable[Any]) -> set[str]:
    """Paths of routes, looking inside routers and included routers (which recent FastAPI wraps)."""
    paths: set[str] = set()
    for route in routes:
        if isinstance(route, Mount):
            continue
        if isinstance(getattr(route, "path", None), str):
            paths.add(route.path)
        router = route if isinstance(route, APIRouter) else getattr(route, "original_router", None)
        if router is not None:
            paths |= route_paths(router.routes)
    return paths


def http_paths() -> list[str]:
    """Every path the app serves: the app's own routes and every area's router."""
    app = create_app(make_settings("sqlite://"))
    areas = [importlib.import_module(name).router for name in AREAS]
    return sorted(route_paths(app.routes) | route_paths(areas))


def test_every_http_path_is_documented() -> None:
    text = documentation()
    missing = [p for p in http_paths() if not re.search(rf"[`\s]{re.escape(p)}(?![\w/.{{-])", text)]
    assert not missing, (
        f"HTTP paths named nowhere in README.md or docs/ (add them to the area page): {missing}"
    )


def cli_commands(group: click.Group, prefix: str) -> list[str]:
    ctx = click.Context(group, info_name=prefix)
    found = []
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        if isinstance(command, click.Group):
            found += cli_commands(command, f"{prefix} {name}")
        elif command is not None:
            found.append(f"{prefix} {name}")
    return found


def test_every_cli_command_is_documented() -> None:
    text = documentation()
    missing = [command for command in cli_commands(cli, "suita") if command not in text]
    assert not missing, f"commands named nowhere in README.md or docs/ (add them to the area page): {missing}"


def test_every_setting_is_documented() -> None:
    text = documentation()
    missing = [name.upper() for name in Settings.model_fields if name.upper() not in text]
    assert not missing, f"settings named nowhere in README.md or docs/ (add them to the area page): {missing}"
