"""Facebook's Graph API version (issue 17): the current one by default, a setting, and a `/readyz`
warning 90 days before Meta ends the configured one (or when it is not a known version)."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from notifier import notifier_area
from notifier.channels.facebook_channel import CURRENT_VERSION, GRAPH_VERSIONS, version_warning
from tests.conftest import make_settings

TODAY = dt.date(2026, 12, 6)
FACEBOOK = {"facebook_page_id": "100", "facebook_page_access_token": "p"}


def test_the_default_is_the_newest_known_version() -> None:
    assert make_settings("sqlite://").facebook_api_version == CURRENT_VERSION == "v27.0"
    newest = max(GRAPH_VERSIONS, key=lambda v: tuple(int(n) for n in v[1:].split(".")))
    assert newest == CURRENT_VERSION and GRAPH_VERSIONS[CURRENT_VERSION] is None


@pytest.mark.parametrize(
    ("version", "fragments"),
    [
        ("v27.0", None),
        ("v25.0", None),  # ends 2028-07-29
        ("v22.0", None),  # ends 2027-05-20: 165 days
        ("v21.0", ["2027-01-21", "あと 46 日", "in 46 days", "v27.0"]),
        ("v20.0", ["2026-09-24", "提供終了しました", "ended on 2026-09-24"]),
        ("v99.0", ["既知の Graph API バージョンではなく", "not a known Graph API version"]),
    ],
)
def test_version_warning(version: str, fragments: list[str] | None) -> None:
    warning = version_warning(version, TODAY)
    if fragments is None:
        assert warning is None
    else:
        assert warning is not None and all(f in warning for f in fragments), warning
        assert warning.index(" / ") > 0  # Japanese first, then English


def test_exactly_90_days_ahead_warns() -> None:
    assert version_warning("v21.0", dt.date(2026, 10, 23)) is not None
    assert version_warning("v21.0", dt.date(2026, 10, 22)) is None


def test_the_version_is_a_setting_and_checked() -> None:
    assert make_settings("sqlite://", facebook_api_version="v23.0").facebook_api_version == "v23.0"
    with pytest.raises(ValidationError):
        make_settings("sqlite://", facebook_api_version="v21.0/../me")


def test_readyz_warns_about_an_ending_version(monkeypatch: pytest.MonkeyPatch, db_url: str) -> None:
    from app.main import create_app

    monkeypatch.setattr(notifier_area, "utcnow", lambda: dt.datetime(2026, 12, 6, 3, 0, tzinfo=dt.UTC))
    settings = make_settings(db_url, **FACEBOOK, facebook_api_version="v21.0")
    with TestClient(create_app(settings)) as client:
        body = client.get("/readyz").json()
    note = body["notes"]["facebook"]
    assert (note["ok"], note["api_version"], note["available_until"]) == (False, "v21.0", "2027-01-21")
    assert "あと 46 日" in note["warning"] and body["status"] == "ready"


def test_readyz_says_nothing_to_fix_for_the_current_version(db_url: str) -> None:
    from app.main import create_app

    with TestClient(create_app(make_settings(db_url, **FACEBOOK))) as client:
        note = client.get("/readyz").json()["notes"]["facebook"]
    assert note == {"ok": True, "api_version": "v27.0", "available_until": None, "warning": None}
    with TestClient(create_app(make_settings(db_url))) as client:  # not configured: no note
        assert "facebook" not in client.get("/readyz").json()["notes"]
