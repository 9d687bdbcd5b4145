"""Configuration from the environment (§6.1): defaults, validation naming the variable, production rules."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from req1_server.config import DEFAULT_JWT_SECRET, ConfigError, Settings, load_settings

DSN = "postgresql://u:p@127.0.0.1:5432/req1"


def test_defaults() -> None:
    s = Settings.from_env({"DATABASE_URL": DSN})
    assert (s.listen_host, s.listen_port) == ("0.0.0.0", 8080)
    assert s.jwt_secret == DEFAULT_JWT_SECRET and s.jwt_expiration_hours == 24 and s.refresh_token_ttl_hours == 168
    assert s.rate_limit_per_minute == 600 and s.rate_limit_auth_per_minute == 10 and s.rate_limit_enabled
    assert s.cors_origins is None and s.static_dir is None and s.redis_url is None
    assert s.max_upload_bytes == 52_428_800 and s.download_url_ttl_seconds == 300
    assert s.shutdown_timeout_seconds == 25 and s.database_pool_size == 20 and s.run_migrations
    assert s.admin_email == "admin@localhost" and s.log_format == "json" and not s.test_routes
    assert any("REDIS_URL" in w for w in s.warnings) and any("JWT_SECRET" in w for w in s.warnings)


def test_port_wins_over_listen_addr() -> None:
    s = Settings.from_env({"DATABASE_URL": DSN, "LISTEN_ADDR": "127.0.0.1:9000"})
    assert (s.listen_host, s.listen_port) == ("127.0.0.1", 9000)
    s = Settings.from_env({"DATABASE_URL": DSN, "LISTEN_ADDR": "127.0.0.1:9000", "PORT": "7000"})
    assert (s.listen_host, s.listen_port) == ("0.0.0.0", 7000)


def test_cors_list() -> None:
    s = Settings.from_env({"DATABASE_URL": DSN, "CORS_ORIGIN": "https://a.example/, http://b.example:8080"})
    assert s.cors_origins == ("https://a.example", "http://b.example:8080")
    assert Settings.from_env({"DATABASE_URL": DSN, "CORS_ORIGIN": "*"}).cors_origins is None


@pytest.mark.parametrize(("env", "variable"), [
    ({}, "DATABASE_URL"),
    ({"DATABASE_URL": "mysql://x"}, "DATABASE_URL"),
    ({"DATABASE_REPLICA_URL": "nonsense"}, "DATABASE_REPLICA_URL"),
    ({"REDIS_URL": "http://localhost"}, "REDIS_URL"),
    ({"S3_ENDPOINT": "ftp://x"}, "S3_ENDPOINT"),
    ({"LISTEN_ADDR": "8080"}, "LISTEN_ADDR"),
    ({"PORT": "http"}, "PORT"),
    ({"PORT": "70000"}, "PORT"),
    ({"LOG_FORMAT": "xml"}, "LOG_FORMAT"),
    ({"LOG_LEVEL": "loud"}, "LOG_LEVEL"),
    ({"APP_ENV": "staging"}, "APP_ENV"),
    ({"RATE_LIMIT_ENABLED": "maybe"}, "RATE_LIMIT_ENABLED"),
    ({"TRUST_PROXY": "2"}, "TRUST_PROXY"),
    ({"CORS_ORIGIN": "example.com"}, "CORS_ORIGIN"),
    ({"ADMIN_EMAIL": "admin"}, "ADMIN_EMAIL"),
])
def test_bad_values_name_the_variable(env: dict[str, str], variable: str) -> None:
    base = {"DATABASE_URL": DSN} if variable != "DATABASE_URL" else {}
    with pytest.raises(ConfigError, match=variable):
        Settings.from_env({**base, **env})


def test_bad_numbers_fall_back_with_a_warning() -> None:
    s = Settings.from_env({"DATABASE_URL": DSN, "JWT_EXPIRATION_HOURS": "soon", "DATABASE_POOL_SIZE": "-3",
                           "SHUTDOWN_TIMEOUT_SECONDS": "later"})
    assert s.jwt_expiration_hours == 24 and s.database_pool_size == 20 and s.shutdown_timeout_seconds == 25
    assert {w.split("=")[0] for w in s.warnings} >= {"JWT_EXPIRATION_HOURS", "DATABASE_POOL_SIZE",
                                                     "SHUTDOWN_TIMEOUT_SECONDS"}


def test_production_rules() -> None:
    prod = {"DATABASE_URL": DSN, "APP_ENV": "production"}
    for secret in (None, DEFAULT_JWT_SECRET, "short"):
        env = dict(prod) if secret is None else {**prod, "JWT_SECRET": secret}
        with pytest.raises(ConfigError, match="JWT_SECRET"):
            Settings.from_env(env)
    ok = Settings.from_env({**prod, "JWT_SECRET": "z" * 32, "REQ1_TEST_ROUTES": "true"})
    assert ok.production and not ok.test_routes  # test routes never in production


def test_dotenv_file_real_env_wins(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text(f"# comment\nexport DATABASE_URL='{DSN}'\nPORT=9999\nBUILD_SHA=\"fromfile\"\n")
    s = load_settings({"PORT": "7777"}, dotenv)
    assert s.database_url == DSN and s.listen_port == 7777 and s.build_sha == "fromfile"


def test_cli_reports_the_bad_variable(tmp_path: Path) -> None:
    binary = Path(sys.executable).parent / "req1-server"
    proc = subprocess.run([str(binary), "serve"], capture_output=True, text=True, cwd=tmp_path,
                          env={"PATH": "/usr/bin:/bin", "DATABASE_URL": DSN, "PORT": "not-a-port"}, check=False)
    assert proc.returncode == 2
    assert "configuration error" in proc.stderr and "PORT" in proc.stderr


def test_cli_migrate_command(pg_dsn: str, tmp_path: Path) -> None:
    binary = Path(sys.executable).parent / "req1-server"
    env = {"PATH": "/usr/bin:/bin", "DATABASE_URL": pg_dsn, "ADMIN_PASSWORD": "x" * 12, "LOG_FORMAT": "json"}
    first = subprocess.run([str(binary), "migrate"], capture_output=True, text=True, cwd=tmp_path, env=env,
                           check=False)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "applied migration 0001_users.sql" in first.stdout and '"admin_seeded": true' in first.stdout
    assert "x" * 12 not in first.stdout + first.stderr  # secrets are never logged
    second = subprocess.run([str(binary), "migrate"], capture_output=True, text=True, cwd=tmp_path, env=env,
                            check=False)
    assert second.returncode == 0 and '"applied": []' in second.stdout


def test_builtin_secrets_need_an_explicit_development_mode() -> None:
    """#13.3: the built-in JWT secret and admin password are for APP_ENV=development (or test) set explicitly."""
    assert Settings.from_env({"DATABASE_URL": DSN}).startup_refusal() is not None
    assert "JWT_SECRET" in (Settings.from_env({"DATABASE_URL": DSN}).startup_refusal() or "")
    assert not Settings.from_env({"DATABASE_URL": DSN}).builtin_secrets_allowed
    for app_env in ("development", "test"):
        dev = Settings.from_env({"DATABASE_URL": DSN, "APP_ENV": app_env})
        assert dev.builtin_secrets_allowed and dev.startup_refusal() is None
    assert Settings.from_env({"DATABASE_URL": DSN, "JWT_SECRET": "s" * 32}).startup_refusal() is None


def test_bare_server_refuses_the_builtin_jwt_secret(pg_dsn: str, tmp_path: Path) -> None:
    """#13.3: a bare container (no APP_ENV, no JWT_SECRET) must not start and accept forged admin tokens."""
    from req1_testenv.process import free_port

    binary = Path(sys.executable).parent / "req1-server"
    env = {"PATH": "/usr/bin:/bin", "DATABASE_URL": pg_dsn, "ADMIN_PASSWORD": "x" * 12, "PORT": str(free_port())}
    try:
        proc = subprocess.run([str(binary), "serve"], capture_output=True, text=True, cwd=tmp_path, env=env,
                              check=False, timeout=20)
    except subprocess.TimeoutExpired:
        pytest.fail("req1-server served with the built-in JWT secret")
    assert proc.returncode == 2, proc.stderr
    assert "configuration error" in proc.stderr and "JWT_SECRET" in proc.stderr


def test_bare_migrate_does_not_seed_the_builtin_admin_password(pg_dsn: str, tmp_path: Path) -> None:
    """#13.3: without ADMIN_PASSWORD the first admin is seeded with `admin` only in an explicit development mode."""
    binary = Path(sys.executable).parent / "req1-server"
    env = {"PATH": "/usr/bin:/bin", "DATABASE_URL": pg_dsn, "LOG_FORMAT": "json"}
    proc = subprocess.run([str(binary), "migrate"], capture_output=True, text=True, cwd=tmp_path, env=env,
                          check=False, timeout=60)
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert "ADMIN_PASSWORD" in proc.stdout + proc.stderr
    dev = subprocess.run([str(binary), "migrate"], capture_output=True, text=True, cwd=tmp_path,
                         env={**env, "APP_ENV": "development"}, check=False, timeout=60)
    assert dev.returncode == 0, dev.stdout + dev.stderr
    assert '"admin_seeded": true' in dev.stdout
