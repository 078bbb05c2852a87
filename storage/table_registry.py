"""Every module that defines tables. Alembic and the test fixtures import them all from here.

An area adds its models module to this tuple and its migration under `storage/migrations/versions/`
with its own branch label (see the README's architecture section).
"""

from __future__ import annotations

import importlib

MODEL_MODULES: tuple[str, ...] = (
    "app.staff_tables",
    "app.audit_tables",
    "storage.budget_tables",
    "bot.bot_tables",
    "faq.faq_tables",
    "kpi.kpi_tables",
    "notifier.ledger_tables",
    "reports.reports_tables",
)


def import_all_models() -> None:
    for name in MODEL_MODULES:
        importlib.import_module(name)
