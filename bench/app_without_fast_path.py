"""The service with its webhook fast path switched off: `POST /line/webhook` goes through the FastAPI
middleware stack and router like every other route (for `bench/line_webhook.py --compare-fast-path`).

.venv/bin/python -m uvicorn --factory bench.app_without_fast_path:create --port 9101
"""

from __future__ import annotations

from typing import Any

from app.main import ServiceApp, create_app


def create() -> Any:
    app = create_app()
    assert isinstance(app, ServiceApp)
    app.fast_routes.clear()
    return app
