"""The floor of the webhook benchmark: a FastAPI endpoint that only answers 200, served the same way.

.venv/bin/python -m uvicorn --factory bench.bare_app:create --port 9100
"""

from __future__ import annotations

from fastapi import FastAPI, Response


def create() -> FastAPI:
    app = FastAPI()

    @app.post("/line/webhook")
    async def webhook() -> Response:
        return Response(status_code=200)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
