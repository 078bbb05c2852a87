"""Schemathesis against the app's own OpenAPI document, over real HTTP: every operation with generated
(valid and invalid) input, anonymously and as a signed-in editor. No answer may be a 5xx, and every
answer whose status the document describes must match its schema.

Bounded for CI: `EXAMPLES` inputs per operation and identity (a couple of thousand requests in all).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode, checks

from app.auth import create_staff_user
from fakes.fake_server import ThreadedServer
from storage.db import make_engine, make_sessionmaker, session_scope
from tests.conftest import STAFF_PASSWORD, fresh_database, make_settings

EXAMPLES = 12
CHECKS = [checks.not_a_server_error, checks.response_schema_conformance]


@pytest.fixture(scope="module")
def fuzz_server(template_db: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadedServer]:
    """One app with one editor account for every operation of this module (a fresh database)."""
    from app.main import create_app

    for url in fresh_database(template_db, Path(tmp_path_factory.mktemp("fuzz"))):
        engine = make_engine(url)
        with session_scope(make_sessionmaker(engine)) as s:
            create_staff_user(s, username="fuzz-editor", password=STAFF_PASSWORD, role="editor")
        engine.dispose()
        # generous public limits: the fuzzer is one client sending far more than a resident would
        app = create_app(
            make_settings(url, search_rate_per_minute=100_000, simulator_rate_per_minute=100_000)
        )
        with ThreadedServer(app, name="fuzz-app") as server:
            yield server


@pytest.fixture(scope="module")
def editor(fuzz_server: ThreadedServer) -> Iterator[requests.Session]:
    """A signed-in editor's browser session (cookie and CSRF header)."""
    with requests.Session() as session:
        page = session.get(f"{fuzz_server.url}/login").text
        token = re.search(r'name="csrf_token" value="([^"]+)"', page)
        assert token is not None
        form = {"username": "fuzz-editor", "password": STAFF_PASSWORD, "csrf_token": token.group(1)}
        assert session.post(f"{fuzz_server.url}/login", data=form, allow_redirects=False).status_code == 303
        session.headers["X-CSRF-Token"] = session.get(f"{fuzz_server.url}/api/v1/session").json()[
            "csrf_token"
        ]
        yield session


def _operations() -> list[Any]:
    """The operations of the app's OpenAPI document (built without a database: nothing starts)."""
    from app.main import create_app

    document = create_app(make_settings("sqlite://")).openapi()
    operations = schemathesis.openapi.from_dict(document).get_all_operations()
    return [result.ok() for result in operations]  # type: ignore[union-attr]


OPERATIONS = _operations()
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,  # the same inputs on every run: a failure in CI reproduces locally
    suppress_health_check=list(HealthCheck),
    database=None,
)


def _fuzz(operation: Any, base_url: str, session: requests.Session | None) -> None:
    """`EXAMPLES` valid and invalid requests to one operation, each answer checked."""
    cases = st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE)
    )

    @FUZZ
    @given(case=cases)
    def run(case: Any) -> None:
        case.call_and_validate(base_url=base_url, session=session, checks=CHECKS, timeout=30)

    run()


@pytest.mark.parametrize("operation", OPERATIONS, ids=[op.label for op in OPERATIONS])
def test_anonymous_callers_get_no_5xx(operation: Any, fuzz_server: ThreadedServer) -> None:
    _fuzz(operation, fuzz_server.url, None)


@pytest.mark.parametrize("operation", OPERATIONS, ids=[op.label for op in OPERATIONS])
def test_a_signed_in_editor_gets_no_5xx(
    operation: Any, fuzz_server: ThreadedServer, editor: requests.Session
) -> None:
    _fuzz(operation, fuzz_server.url, editor)
