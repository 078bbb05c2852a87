"""Shared parts of the KPI commands: the date option type and a migrated database."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

import click
from sqlalchemy.orm import Session, sessionmaker

from app.cli import ready_settings
from app.settings import ConfigError, Settings
from kpi.jst_dates import jst_date, parse_date
from storage import migrate
from storage.base import utcnow
from storage.db import make_engine, make_sessionmaker


class DateType(click.ParamType[dt.date, object]):
    """A JST date option: YYYY-MM-DD (also YYYY/MM/DD, YYYYMMDD)."""

    name = "YYYY-MM-DD"

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> dt.date:
        if isinstance(value, dt.date):
            return value
        try:
            return parse_date(str(value))
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


DATE = DateType()


@contextmanager
def database() -> Iterator[tuple[Settings, sessionmaker[Session]]]:
    """Settings and sessions on a reachable, migrated database (ConfigError otherwise)."""
    settings = ready_settings()
    engine = make_engine(settings.database_url, pool_size=2)
    try:
        if migrate.pending(engine):
            raise ConfigError("the database needs migrating: run `python -m app migrate` first")
        yield settings, make_sessionmaker(engine)
    finally:
        engine.dispose()


def today() -> dt.date:
    return jst_date(utcnow())
