"""Settings from environment variables only (12-factor), validated once at start (spec §6.1).

A missing or malformed required value raises :class:`ConfigError` naming the variable; bad numbers
fall back to their defaults with a warning, as the contract says. Secrets are never logged.
"""

from __future__ import annotations

import contextvars
import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from aiohttp import web

from req1_server.webhooks.settings import WebhookSettings, parse_delays

log = logging.getLogger("req1.config")

DEFAULT_JWT_SECRET = "dev-secret-change-in-production"
DEFAULT_ADMIN_PASSWORD = "admin"
SPA_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
    "font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'"
)
TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off"}


class ConfigError(ValueError):
    """A setting is missing or malformed; the message names the variable."""


@dataclass(frozen=True)
class Settings:
    """Every runtime setting; build it with :func:`load_settings` or :meth:`from_env`."""

    database_url: str
    app_env: str = "development"
    app_env_explicit: bool = False  # APP_ENV was set: the built-in secrets need it (builtin_secrets_allowed)
    database_replica_url: str | None = None
    database_pool_size: int = 20
    run_migrations: bool = True
    web_workers: int = 0  # worker processes of `serve`; 0 = one per CPU of the cgroup quota (workers.py)
    event_loop: str = "asyncio"  # or "uvloop" (no measurable gain on the 2-core machine: docs/benchmarks/http.md)
    redis_url: str | None = None
    s3_endpoint: str | None = None
    s3_bucket: str | None = None
    s3_access_key: str | None = None
    s3_secret_key: str | None = None
    s3_region: str = "us-east-1"
    jwt_secret: str = DEFAULT_JWT_SECRET
    jwt_expiration_hours: int = 24
    refresh_token_ttl_hours: int = 168
    session_max_age_hours: int = 720  # absolute lifetime of a login session, however often it is refreshed
    password_hash_concurrency: int = 2  # argon2id hashes at once (64 MiB each); see auth/passwords.py
    listen_host: str = "0.0.0.0"
    listen_port: int = 8080
    cors_origins: tuple[str, ...] | None = None  # None = "*"
    static_dir: Path | None = None
    build_sha: str | None = None
    log_format: str = "json"
    log_level: str = "info"
    rate_limit_enabled: bool = True
    rate_limit_per_minute: int = 600
    rate_limit_auth_per_minute: int = 10
    trust_proxy: bool = False
    admin_email: str = "admin@localhost"
    admin_password: str | None = None
    registration_enabled: bool = False
    access_model: str = "workspace"  # "global": every user sees every workspace with their global role (#13)
    max_upload_bytes: int = 52_428_800
    max_json_bytes: int = 2 * 1024 * 1024
    download_url_ttl_seconds: int = 300
    hsts_max_age: int = 31_536_000
    content_security_policy: str = SPA_CSP
    shutdown_timeout_seconds: float = 25.0
    seed_demo_data: bool = False
    test_routes: bool = False
    webhooks: WebhookSettings = field(default_factory=WebhookSettings)
    warnings: tuple[str, ...] = field(default=(), compare=False)

    @property
    def production(self) -> bool:
        return self.app_env == "production"

    @property
    def builtin_secrets_allowed(self) -> bool:
        """The built-in JWT secret and admin password: only with APP_ENV=development or test set explicitly."""
        return self.app_env_explicit and self.app_env in ("development", "test")

    def startup_refusal(self) -> str | None:
        """Why ``serve`` must not start with these settings (a bare container must not sign with a known key)."""
        if self.jwt_secret == DEFAULT_JWT_SECRET and not self.builtin_secrets_allowed:
            return ("JWT_SECRET is unset: set it to a secret of at least 32 bytes "
                    "(the built-in development secret needs APP_ENV=development)")
        return None

    @property
    def s3_enabled(self) -> bool:
        return bool(self.s3_bucket)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        return _parse(env)

    def replace(self, **changes: object) -> Settings:
        """A copy with some fields changed (tests and the CLI use it)."""
        from dataclasses import replace

        return replace(self, **changes)  # type: ignore[arg-type]


def read_dotenv(path: Path) -> dict[str, str]:
    """KEY=VALUE lines of a .env file (comments, blank lines, `export ` and quotes tolerated)."""
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.removeprefix("export ").partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key.strip()] = value
    return values


def load_settings(environ: Mapping[str, str] | None = None, dotenv: Path | None = None) -> Settings:
    """Settings from ``.env`` in the working directory overlaid by the real environment."""
    env = read_dotenv(dotenv if dotenv is not None else Path(".env"))
    env.update(os.environ if environ is None else environ)
    return Settings.from_env(env)


class _Reader:
    """Typed access to the variables; collects fallback warnings."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = env
        self.warnings: list[str] = []

    def text(self, name: str, default: str | None = None) -> str | None:
        value = self.env.get(name)
        if value is None or value.strip() == "":
            return default
        return value.strip()

    def integer(self, name: str, default: int, minimum: int = 0) -> int:
        return int(self._bounded(name, default, int, minimum, f"an integer >= {minimum}"))

    def number(self, name: str, default: float) -> float:
        return self._bounded(name, default, float, 0, "a non-negative number")

    def _bounded(self, name: str, default: float, convert: Callable[[str], float], minimum: float,
                 what: str) -> float:
        """A number of at least ``minimum``; anything else falls back to the default with a warning."""
        raw = self.text(name)
        if raw is None:
            return default
        try:
            value = convert(raw)
        except ValueError:
            value = minimum - 1
        if value < minimum or value != value:
            self.warnings.append(f"{name}={raw!r} is not {what}; using the default {default}")
            return default
        return value

    def flag(self, name: str, default: bool) -> bool:
        raw = self.text(name)
        if raw is None:
            return default
        if raw.lower() in TRUE_WORDS:
            return True
        if raw.lower() in FALSE_WORDS:
            return False
        raise ConfigError(f"{name}={raw!r} is not a boolean (use true or false)")

    def choice(self, name: str, default: str, choices: tuple[str, ...]) -> str:
        raw = (self.text(name) or default).lower()
        if raw not in choices:
            raise ConfigError(f"{name}={raw!r} is not one of: {', '.join(choices)}")
        return raw

    def url(self, name: str, schemes: tuple[str, ...], required: bool = False) -> str | None:
        raw = self.text(name)
        if raw is None:
            if required:
                raise ConfigError(f"{name} is required (e.g. {schemes[0]}://user:password@host:port/...)")
            return None
        parsed = urlparse(raw)
        if parsed.scheme not in schemes or not (parsed.hostname or parsed.path):
            raise ConfigError(f"{name} must be a URL with scheme {' or '.join(schemes)}")
        return raw


def _listen(reader: _Reader) -> tuple[str, int]:
    port = reader.text("PORT")
    if port is not None:
        if not port.isdigit() or not 0 < int(port) < 65536:
            raise ConfigError(f"PORT={port!r} is not a TCP port number")
        return "0.0.0.0", int(port)
    addr = reader.text("LISTEN_ADDR", "0.0.0.0:8080") or "0.0.0.0:8080"
    host, sep, port_text = addr.rpartition(":")
    if not sep or not port_text.isdigit() or not 0 <= int(port_text) < 65536:
        raise ConfigError(f"LISTEN_ADDR={addr!r} must be host:port, e.g. 0.0.0.0:8080")
    return host.strip("[]") or "0.0.0.0", int(port_text)


def _cors(reader: _Reader) -> tuple[str, ...] | None:
    raw = reader.text("CORS_ORIGIN")
    if raw is None or raw == "*":
        return None
    origins = tuple(o.strip().rstrip("/") for o in raw.split(",") if o.strip())
    for origin in origins:
        parsed = urlparse(origin)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise ConfigError(f"CORS_ORIGIN entry {origin!r} is not an origin like https://example.com")
    return origins or None


def _webhooks(reader: _Reader) -> WebhookSettings:
    raw = reader.text("WEBHOOK_RETRY_DELAYS")
    try:
        delays = parse_delays(raw) if raw is not None else WebhookSettings.retry_delays
    except ValueError:
        raise ConfigError(f"WEBHOOK_RETRY_DELAYS={raw!r} is not a comma-separated list of seconds") from None
    return WebhookSettings(
        timeout_seconds=reader.number("WEBHOOK_TIMEOUT_SECONDS", 10.0) or 10.0,
        allow_private=reader.flag("WEBHOOK_ALLOW_PRIVATE", False),
        legacy_secret_header=reader.flag("WEBHOOK_LEGACY_SECRET_HEADER", False),
        retry_delays=delays,
        retention_days=reader.integer("WEBHOOK_DELIVERY_RETENTION_DAYS", 30, minimum=1),
        enabled=reader.flag("WEBHOOK_DISPATCH", True),
    )


def _parse(env: Mapping[str, str]) -> Settings:
    r = _Reader(env)
    app_env = r.choice("APP_ENV", "development", ("development", "production", "test"))
    database_url = r.url("DATABASE_URL", ("postgresql", "postgres"), required=True)
    assert database_url is not None
    host, port = _listen(r)
    static = r.text("STATIC_DIR")
    jwt_secret = r.text("JWT_SECRET", DEFAULT_JWT_SECRET) or DEFAULT_JWT_SECRET
    admin_password = r.text("ADMIN_PASSWORD")
    admin_email = (r.text("ADMIN_EMAIL", "admin@localhost") or "admin@localhost").lower()
    if "@" not in admin_email:
        raise ConfigError(f"ADMIN_EMAIL={admin_email!r} is not an email address")
    if admin_password is not None and len(admin_password) < 8 and app_env == "production":
        raise ConfigError("ADMIN_PASSWORD must be at least 8 characters")
    if app_env == "production" and (jwt_secret == DEFAULT_JWT_SECRET or len(jwt_secret.encode()) < 32):
        raise ConfigError("JWT_SECRET must be set to a secret of at least 32 bytes when APP_ENV=production")
    settings = Settings(
        app_env=app_env,
        app_env_explicit=r.text("APP_ENV") is not None,
        database_url=database_url,
        database_replica_url=r.url("DATABASE_REPLICA_URL", ("postgresql", "postgres")),
        database_pool_size=r.integer("DATABASE_POOL_SIZE", 20, minimum=1),
        run_migrations=r.flag("RUN_MIGRATIONS", True),
        web_workers=r.integer("WEB_WORKERS", 0, minimum=0),
        event_loop=r.choice("EVENT_LOOP", "asyncio", ("asyncio", "uvloop")),
        redis_url=r.url("REDIS_URL", ("redis", "rediss", "unix")),
        s3_endpoint=r.url("S3_ENDPOINT", ("http", "https")),
        s3_bucket=r.text("S3_BUCKET"),
        s3_access_key=r.text("S3_ACCESS_KEY"),
        s3_secret_key=r.text("S3_SECRET_KEY"),
        s3_region=r.text("S3_REGION", "us-east-1") or "us-east-1",
        jwt_secret=jwt_secret,
        jwt_expiration_hours=r.integer("JWT_EXPIRATION_HOURS", 24, minimum=1),
        refresh_token_ttl_hours=r.integer("REFRESH_TOKEN_TTL_HOURS", 168, minimum=1),
        session_max_age_hours=r.integer("SESSION_MAX_AGE_HOURS", 720, minimum=1),
        password_hash_concurrency=r.integer("PASSWORD_HASH_CONCURRENCY", 2, minimum=1),
        listen_host=host,
        listen_port=port,
        cors_origins=_cors(r),
        static_dir=Path(static) if static else None,
        build_sha=r.text("BUILD_SHA"),
        log_format=r.choice("LOG_FORMAT", "json", ("json", "text")),
        log_level=r.choice("LOG_LEVEL", "info", ("debug", "info", "warning", "error")),
        rate_limit_enabled=r.flag("RATE_LIMIT_ENABLED", True),
        rate_limit_per_minute=r.integer("RATE_LIMIT_PER_MINUTE", 600, minimum=1),
        rate_limit_auth_per_minute=r.integer("RATE_LIMIT_AUTH_PER_MINUTE", 10, minimum=1),
        trust_proxy=r.flag("TRUST_PROXY", False),
        admin_email=admin_email,
        admin_password=admin_password,
        registration_enabled=r.flag("REGISTRATION_ENABLED", False),
        access_model=r.choice("ACCESS_MODEL", "workspace", ("workspace", "global")),
        max_upload_bytes=r.integer("MAX_UPLOAD_BYTES", 52_428_800, minimum=1),
        download_url_ttl_seconds=r.integer("DOWNLOAD_URL_TTL_SECONDS", 300, minimum=1),
        hsts_max_age=r.integer("HSTS_MAX_AGE", 31_536_000, minimum=0),
        content_security_policy=r.text("CONTENT_SECURITY_POLICY", SPA_CSP) or SPA_CSP,
        shutdown_timeout_seconds=r.number("SHUTDOWN_TIMEOUT_SECONDS", 25.0),
        seed_demo_data=r.flag("SEED_DEMO_DATA", False),
        test_routes=r.flag("REQ1_TEST_ROUTES", False) and app_env != "production",
        webhooks=_webhooks(r),
    )
    warnings = list(r.warnings)
    if settings.jwt_secret == DEFAULT_JWT_SECRET:
        warnings.append("JWT_SECRET is the built-in development secret; set it outside development")
    if settings.redis_url is None:
        warnings.append("REDIS_URL is unset: no logout revocation, refresh tokens or rate limits")
    if settings.static_dir is not None and not settings.static_dir.is_dir():
        warnings.append(f"STATIC_DIR={settings.static_dir} is not a directory; the web UI is not served")
    return settings.replace(warnings=tuple(warnings))


SETTINGS: web.AppKey[Settings] = web.AppKey("settings", Settings)

# The settings of the app handling the current request (set by the request middleware), for helpers
# such as auth.links.sign_download that the contract calls without a request.
CURRENT_SETTINGS: contextvars.ContextVar[Settings] = contextvars.ContextVar("req1_settings")
