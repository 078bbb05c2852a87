from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import SecretStr

from app.settings import ROOT, ConfigError, Settings, check_database_url, load_settings


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("not a url", "DATABASE_URL"),
        ("mysql://u:p@h/db", "unsupported driver"),
        ("postgresql+psycopg://u:p@localhost", "names no database"),
        ("sqlite+aiosqlite:///x.db", "unsupported driver"),
    ],
)
def test_bad_database_url_names_the_setting(url: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as err:
        check_database_url(url)
    assert "DATABASE_URL" in str(err.value)
    assert fragment in str(err.value)


@pytest.mark.parametrize(
    "url", ["sqlite:///var/x.db", "sqlite:////tmp/x.db", "postgresql+psycopg://u:p@localhost:5432/suita"]
)
def test_good_database_urls(url: str) -> None:
    check_database_url(url)


def test_load_settings_reports_one_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "://nope")
    with pytest.raises(ConfigError, match="^DATABASE_URL"):
        load_settings(_env_file=None)


def test_defaults_need_no_accounts() -> None:
    s = Settings(_env_file=None)
    assert s.database_url.startswith("sqlite:///") and s.database_url.endswith("var/suita.db")
    assert s.line_api_base_url == "https://api.line.me"


def test_secrets_never_show_in_repr_or_dump() -> None:
    s = Settings(_env_file=None, line_channel_secret="topsecret-value", x_api_secret="xsecret")
    assert isinstance(s.line_channel_secret, SecretStr)
    text = repr(s) + str(s.model_dump()) + s.model_dump_json()
    assert "topsecret-value" not in text and "xsecret" not in text


def _env_example_names() -> list[str]:
    lines = (ROOT / ".env.example").read_text(encoding="utf-8").splitlines()
    return [m.group(1) for line in lines if (m := re.match(r"^#?\s*([A-Z][A-Z0-9_]+)=", line))]


def test_env_example_lists_every_setting_once() -> None:
    names = _env_example_names()
    assert len(names) == len(set(names)), "duplicate names in .env.example"
    assert set(names) == {f.upper() for f in Settings.model_fields}


def test_env_example_documents_each_setting() -> None:
    lines = (ROOT / ".env.example").read_text(encoding="utf-8").splitlines()
    for i, line in enumerate(lines):
        if re.match(r"^#?\s*[A-Z][A-Z0-9_]+=", line):
            assert i > 0 and lines[i - 1].startswith("#"), f"no comment above {line!r}"


def test_dotenv_file_is_read(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text("LINE_API_BASE_URL=http://127.0.0.1:9\nAPP_ENV=test\n")
    s = Settings(_env_file=env)
    assert s.line_api_base_url == "http://127.0.0.1:9"


def test_default_topics_and_lookup() -> None:
    s = Settings(_env_file=None)
    assert [t.id for t in s.topics] == ["bousai", "kosodate", "fukushi", "event", "shisei"]
    topic = s.topic("bousai")
    assert (
        topic is not None and topic.label("ja") == "防災・防犯" and topic.label("en") == "Disaster & safety"
    )
    assert s.topic("nope") is None


def test_topics_from_json_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOPICS", '[{"id": "gomi", "ja": "ごみ・リサイクル", "en": "Waste"}]')
    assert [t.id for t in load_settings(_env_file=None).topics] == ["gomi"]
    monkeypatch.setenv("TOPICS", '[{"id": "a", "ja": "A", "en": "A"}, {"id": "a", "ja": "B", "en": "B"}]')
    with pytest.raises(ConfigError, match="TOPICS"):
        load_settings(_env_file=None)
