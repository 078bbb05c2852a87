"""One typed settings object, read from the environment and `.env`.

Every external API has a base URL setting so tests and demos can point it at a local fake server.
Secrets are `SecretStr` and never appear in logs or `repr`.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, PrivateAttr, SecretStr, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from app.languages import LANGUAGES
from app.topics import DEFAULT_TOPICS, Topic

ROOT = Path(__file__).resolve().parent.parent
MIN_SECRET_KEY_BYTES = 32
SUPPORTED_DRIVERS = ("sqlite", "sqlite+pysqlite", "postgresql", "postgresql+psycopg")


class ConfigError(ValueError):
    """A setting has a value the service cannot run with; the message names the setting."""


class Settings(BaseSettings):
    """All settings of the service. Field names map to upper-case environment variables."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    # --- core ---
    app_env: Literal["development", "production", "test"] = "development"
    database_url: str = f"sqlite:///{ROOT / 'var' / 'suita.db'}"
    secret_key: SecretStr | None = None
    log_level: str = "INFO"
    log_format: Literal["json", "text"] = "json"
    public_base_url: str = "http://127.0.0.1:8000"
    run_worker_in_app: bool = True
    topics: list[Topic] = Field(default_factory=lambda: list(DEFAULT_TOPICS), min_length=1)
    # /docs, /redoc and /openapi.json; None: on except when APP_ENV=production (resolved below)
    docs_enabled: bool | None = None
    # channels without credentials run against the app's own fakes; None: on when APP_ENV=development
    # (resolved below); never in production
    demo_mode: bool | None = None
    # addresses (or networks) of reverse proxies whose X-Forwarded-For is believed; by default a proxy on
    # the same machine (what uvicorn itself trusts by default)
    trusted_proxies: Annotated[list[str], NoDecode] = Field(default_factory=lambda: ["127.0.0.1", "::1"])
    # seconds a request waits for a pooled database connection before it answers 503
    db_pool_timeout: float = Field(default=3.0, gt=0, le=60.0)

    # --- staff sign-in ---
    session_idle_minutes: int = Field(default=30, ge=1, le=24 * 60)
    session_lifetime_hours: float = Field(default=8.0, gt=0, le=24 * 30)
    login_failure_limit: int = Field(default=5, ge=1, le=1000)
    login_client_failure_limit: int = Field(default=20, ge=1, le=100_000)
    login_lockout_minutes: float = Field(default=15.0, gt=0, le=24 * 60)

    # --- governance (docs/governance.md) ---
    # a post goes out only after a second person (approver or admin) approved it; on by default
    # because the city's PR rules require it: an install that forgot the setting stays safe
    approval_required: bool = True
    # the posts page warns when a post has waited for approval longer than this
    approval_wait_warning_minutes: int = Field(default=60, ge=1, le=7 * 24 * 60)
    # hours a one-time set-password link made on /staff works
    password_link_hours: int = Field(default=48, ge=1, le=14 * 24)
    # days the audit log keeps its rows in the database; older ones are archived to files daily
    # (`app.audit_archive`). 0 (the default): keep every row: the city's records rules decide how long
    # the trail is kept, so the software never removes any of it unless told to
    audit_retention_days: int = Field(default=0, ge=0, le=36_500)
    # where archive files of the audit log are written (a private directory; keep the files)
    audit_archive_dir: Path = ROOT / "var" / "audit-archive"

    # --- public endpoints (per client address, per process) ---
    search_rate_per_minute: int = Field(default=60, ge=1, le=100_000)
    simulator_rate_per_minute: int = Field(default=30, ge=1, le=100_000)

    # --- FAQ ---
    faq_refresh_seconds: float = Field(default=2.0, ge=0, le=3600)
    faq_semantic: bool = False
    faq_log_days: int = Field(default=180, ge=1, le=3650)
    faq_log_max_rows: int = Field(default=10_000, ge=100, le=1_000_000)

    # --- LINE Messaging API ---
    line_channel_secret: SecretStr | None = None
    line_channel_access_token: SecretStr | None = None
    line_api_base_url: str = "https://api.line.me"
    line_data_api_base_url: str = "https://api-data.line.me"
    line_request_timeout: float = Field(default=10.0, gt=0, le=10.0)
    # a LINE post without a topic: one broadcast (every follower, Japanese then English) or a multicast
    # to every follower the bot knows, each in their own language (docs/notifier.md)
    line_everyone: Literal["broadcast", "by_language"] = "broadcast"

    # --- X (Twitter) ---
    x_api_base_url: str = "https://api.twitter.com"
    x_api_key: SecretStr | None = None
    x_api_secret: SecretStr | None = None
    x_access_token: SecretStr | None = None
    x_access_token_secret: SecretStr | None = None

    # --- Facebook Page (Graph API) ---
    facebook_api_base_url: str = "https://graph.facebook.com"
    facebook_api_version: str = Field(default="v27.0", pattern=r"^v\d{1,3}\.\d{1,2}$")
    facebook_page_id: str | None = None
    facebook_page_access_token: SecretStr | None = None

    # --- Mastodon ---
    mastodon_api_base_url: str | None = None
    mastodon_access_token: SecretStr | None = None

    # --- Bluesky (AT Protocol) ---
    bluesky_api_base_url: str = "https://bsky.social"
    bluesky_handle: str | None = None
    bluesky_app_password: SecretStr | None = None

    # --- languages each social network publishes (ids of `app.languages`, comma-separated) ---
    # Japanese is the post; each other listed language the post has becomes a reply in a thread (X,
    # Mastodon, Bluesky) or a section of the one post (Facebook)
    x_post_languages: Annotated[tuple[str, ...], NoDecode] = ("ja", "en")
    mastodon_post_languages: Annotated[tuple[str, ...], NoDecode] = ("ja", "en")
    bluesky_post_languages: Annotated[tuple[str, ...], NoDecode] = ("ja", "en")
    facebook_post_languages: Annotated[tuple[str, ...], NoDecode] = ("ja", "en")

    # --- follower KPI ---
    kpi_carry_days: int = Field(default=7, ge=0, le=62)
    kpi_projection_window_days: int = Field(default=90, ge=7, le=3650)

    # --- notifier (delivery workers) ---
    notifier_request_timeout: float = Field(default=10.0, gt=0, le=60.0)
    notifier_concurrency: int = Field(default=8, ge=1, le=64)
    notifier_lease_seconds: float = Field(default=60.0, ge=1.0)
    notifier_poll_seconds: float = Field(default=1.0, gt=0, le=60.0)
    notifier_max_attempts: int = Field(default=8, ge=1, le=50)
    notifier_backoff_seconds: float = Field(default=2.0, gt=0)

    # --- damage reports (reports area) ---
    # where report photos and their thumbnails are stored (a private directory)
    report_media_dir: Path = ROOT / "var" / "report_media"
    report_photo_max_bytes: int = Field(default=10 * 1024 * 1024, ge=1024, le=50 * 1024 * 1024)
    # days notes and photos are kept after a report is handled (then removed; the report stays)
    report_retention_days: int = Field(default=365, ge=1, le=3650)
    report_map_tile_url: str = "https://cyberjapandata.gsi.go.jp/xyz/std/{z}/{x}/{y}.png"
    report_map_attribution: str = "地理院タイル / GSI Tiles (https://maps.gsi.go.jp/development/ichiran.html)"
    # hashtags (without #) whose public posts on Mastodon and Bluesky become reports to confirm
    report_hashtags: Annotated[list[str], NoDecode] = Field(default_factory=lambda: ["吹田市災害"])
    # where Bluesky posts are searched for REPORT_HASHTAGS, e.g. the public AppView
    # https://public.api.bsky.app (no account needed); unset: Bluesky is not searched
    bluesky_search_base_url: str | None = None
    # also search X's recent posts for REPORT_HASHTAGS (GET /2/tweets/search/recent with the X_API_*
    # keys); only where the account's API tier includes search
    x_search_enabled: bool = False

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str) -> str:
        check_database_url(value)
        return value

    @field_validator("topics")
    @classmethod
    def _unique_topics(cls, value: list[Topic]) -> list[Topic]:
        ids = [t.id for t in value]
        if len(ids) != len(set(ids)):
            raise ValueError("TOPICS: topic ids must be unique")
        return value

    @field_validator("report_hashtags", mode="before")
    @classmethod
    def _split_hashtags(cls, value: object) -> list[str]:
        """A comma-separated list (environment) or a list; a leading # is dropped."""
        items = value.split(",") if isinstance(value, str) else value
        if not isinstance(items, list):
            raise ValueError("REPORT_HASHTAGS: a comma-separated list of hashtags")
        tags = [str(item).strip().lstrip("#") for item in items]
        return [tag[:100] for tag in tags if tag][:10]

    @field_validator(
        "x_post_languages",
        "mastodon_post_languages",
        "bluesky_post_languages",
        "facebook_post_languages",
        mode="before",
    )
    @classmethod
    def _check_post_languages(cls, value: object, info: ValidationInfo) -> tuple[str, ...]:
        """A comma-separated list (environment) or a list of language ids; Japanese first."""
        return post_languages(str(info.field_name).upper(), value)

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _check_proxies(cls, value: object) -> list[str]:
        """A comma-separated list (environment) or a list of addresses or networks."""
        if isinstance(value, str):
            value = [item for item in value.split(",") if item.strip()]
        if not isinstance(value, list):
            raise ValueError("TRUSTED_PROXIES: a comma-separated list of addresses")
        for item in value:
            try:
                ipaddress.ip_network(str(item).strip(), strict=False)
            except ValueError:
                raise ValueError(f"TRUSTED_PROXIES: {item!r} is not an IP address or network") from None
        return [str(item).strip() for item in value]

    # Channels bound to the app's in-process fakes (demo mode): set by the notifier when it starts them
    # (`with_demo_channels`), never read from the environment.
    _demo_bound: frozenset[str] = PrivateAttr(default_factory=frozenset)

    @model_validator(mode="after")
    def _resolve_docs_enabled(self) -> Settings:
        if self.docs_enabled is None:
            self.docs_enabled = self.app_env != "production"
        return self

    @model_validator(mode="after")
    def _production_secret_key(self) -> Settings:
        if self.app_env == "production":
            key = self.secret_key.get_secret_value() if self.secret_key is not None else ""
            if len(key.encode("utf-8")) < MIN_SECRET_KEY_BYTES:
                raise ValueError(
                    f"SECRET_KEY must be at least {MIN_SECRET_KEY_BYTES} bytes when APP_ENV=production "
                    '(generate one: python -c "import secrets; print(secrets.token_urlsafe(48))")'
                )
        return self

    def __repr_args__(self) -> Any:
        """`repr` without the database password (SecretStr fields hide themselves)."""
        from storage.db import describe

        for name, value in super().__repr_args__():
            yield name, describe(value) if name == "database_url" else value

    @model_validator(mode="after")
    def _resolve_demo_mode(self) -> Settings:
        if self.demo_mode and self.app_env == "production":
            raise ValueError(
                "DEMO_MODE cannot be true when APP_ENV=production (nothing real would be posted)"
            )
        if self.demo_mode is None:
            self.demo_mode = self.app_env == "development"
        return self

    def topic(self, topic_id: str) -> Topic | None:
        return next((t for t in self.topics if t.id == topic_id), None)

    def demo_bound(self, channel: str) -> bool:
        """Whether `channel` runs against the app's own fake of its platform (demo mode)."""
        return channel in self._demo_bound

    def with_demo_channels(self, channels: dict[str, dict[str, object]]) -> Settings:
        """A copy in which each channel of `channels` is bound to a fake: its settings (base URL,
        credentials) replaced by the given ones. Refused in production, where nothing is ever faked."""
        if channels and (self.app_env == "production" or not self.demo_mode):
            raise ConfigError("demo channels need DEMO_MODE (never with APP_ENV=production)")
        updates = {key: value for overrides in channels.values() for key, value in overrides.items()}
        copy = self.model_copy(update=updates)
        copy._demo_bound = self._demo_bound | frozenset(channels)
        return copy

    @property
    def is_sqlite(self) -> bool:
        return make_url(self.database_url).get_backend_name() == "sqlite"


def check_database_url(value: str) -> None:
    """Raise `ConfigError` naming DATABASE_URL when the URL cannot be used."""
    try:
        url = make_url(value)
    except ArgumentError:  # its message quotes the URL, password included
        raise ConfigError(
            "DATABASE_URL is not a valid database URL (sqlite:///path or postgresql+psycopg://user:pass@host/db)"
        ) from None
    if url.drivername not in SUPPORTED_DRIVERS:
        raise ConfigError(
            f"DATABASE_URL uses unsupported driver {url.drivername!r}; "
            "use sqlite:///path or postgresql+psycopg://user:pass@host/db"
        )
    if url.get_backend_name() == "postgresql" and not url.database:
        raise ConfigError("DATABASE_URL names no database (postgresql+psycopg://user:pass@host/DBNAME)")


def require_database(url: str) -> None:
    """Raise `ConfigError` naming DATABASE_URL (password hidden) when the database does not answer."""
    from sqlalchemy.exc import SQLAlchemyError

    from storage.db import describe, make_engine, ping

    engine = make_engine(url, pool_size=1)
    try:
        ping(engine)
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise ConfigError(
            f"DATABASE_URL: cannot reach the database at {describe(url)} ({type(exc).__name__}: {reason})"
        ) from None
    finally:
        engine.dispose()


def load_settings(**overrides: object) -> Settings:
    """Build settings from the environment, turning validation errors into one clear `ConfigError`."""
    from pydantic import ValidationError

    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        name = str(first["loc"][0]).upper() if first["loc"] else "settings"
        msg = str(first.get("ctx", {}).get("error", first["msg"]))
        raise ConfigError(msg if name in msg else f"{name}: {msg}") from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (tests build their own with `load_settings`)."""
    return load_settings()


def post_languages(name: str, value: object) -> tuple[str, ...]:
    """The languages a `<CHANNEL>_POST_LANGUAGES` setting lists, Japanese first (added when not
    listed); a clear error naming the setting for an unknown id or a repeat."""
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list | tuple):
        raise ValueError(f"{name}: a comma-separated list of language ids ({', '.join(LANGUAGES)})")
    ids = [str(item).strip() for item in items if str(item).strip()]
    for lang in ids:
        if lang not in LANGUAGES:
            raise ValueError(f"{name}: {lang!r} is not a language id; use {', '.join(LANGUAGES)}")
    if len(ids) != len(set(ids)):
        raise ValueError(f"{name}: a language is listed twice ({', '.join(ids)})")
    return ("ja", *(lang for lang in ids if lang != "ja"))
