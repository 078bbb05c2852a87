"""FAQ fixtures: the shipped corpus's service is built once per session (the index is immutable)."""

from __future__ import annotations

from pathlib import Path

import pytest

from faq.service import FaqIndexService

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared"


def shared_file(*parts: str) -> Path:
    """A file under ../shared, or skip the test when the shared folder is absent."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} not available")
    return path


@pytest.fixture(scope="session")
def suita() -> FaqIndexService:
    return FaqIndexService.from_file()
