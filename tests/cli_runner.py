"""`suita ARGS` run in process with click's runner: the CLI tests call the command line as operators do,
without a Python start-up per command (one subprocess smoke test per group is in `tests/test_cli.py`)."""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import chdir, contextmanager

from click.testing import CliRunner, Result

from app.cli import cli


def suita(*args: str, env: Mapping[str, str] | None = None, input: str | bytes | None = None) -> Result:
    """Run `suita ARGS` in process and return its exit code, stdout and stderr.

    Settings come only from `env` (the autouse `clean_environ` fixture removed the shell's) and no `.env`
    is read (the command runs in an empty folder: pass absolute paths). Unexpected exceptions propagate
    (an exit code 1 is never a crash in disguise), and logging set up by a command (the worker's) is
    undone afterwards."""
    with _logging_restored(), tempfile.TemporaryDirectory() as folder, chdir(folder):
        return CliRunner().invoke(
            cli, list(args), env=dict(env or {}), input=input, catch_exceptions=False, prog_name="suita"
        )


@contextmanager
def _logging_restored() -> Iterator[None]:
    loggers = [logging.getLogger(), *logging.root.manager.loggerDict.values()]
    saved = [
        (lg, lg.handlers[:], lg.level, lg.propagate, lg.disabled)
        for lg in loggers
        if isinstance(lg, logging.Logger)
    ]
    try:
        yield
    finally:
        for lg, handlers, level, propagate, disabled in saved:
            lg.handlers[:] = handlers
            lg.setLevel(level)
            lg.propagate, lg.disabled = propagate, disabled
