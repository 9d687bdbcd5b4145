"""Shared fixtures of the browser tests: one fresh build of the UI per session, and real
``req1-server serve`` processes on the PostgreSQL, Redis and SeaweedFS fixtures serving it."""

from __future__ import annotations

import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from webenv import ADMIN_EMAIL, ADMIN_PASSWORD, WEB, StartServer, npm

from req1_testenv.process import ManagedProcess, free_port


@pytest.fixture(scope="session")
def built_ui(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh build of the current sources in a private directory (never a stale web/dist, and
    never rebuilding web/dist under someone else's running server); one per session, shared."""
    if not (WEB / "node_modules" / ".package-lock.json").exists():
        npm("ci", "--no-audit", "--no-fund", "--loglevel=error")
    out = tmp_path_factory.mktemp("web-dist")
    npm("exec", "--", "vite", "build", "--outDir", str(out), "--emptyOutDir", "--logLevel", "warn")
    assert (out / "index.html").exists()
    return out


def _ready(base: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base}/health/ready", timeout=1) as resp:  # noqa: S310 (local http)
            return bool(resp.status == 200)
    except (urllib.error.URLError, OSError):
        return False




@pytest.fixture
def start_server(pg_dsn: str, redis_url: str, s3_bucket: Any, tmp_path: Path, built_ui: Path) -> Iterator[StartServer]:
    """``start_server(name="server", **env)`` → base URL of a server on this test's database (stopped after).
    Several calls give several processes behind the same database, like API replicas."""
    started: dict[str, ManagedProcess] = {}

    class Servers:
        def __call__(self, name: str = "server", **extra: str) -> str:
            port = free_port()
            base = f"http://127.0.0.1:{port}"
            env = {
                "APP_ENV": "development",
                "DATABASE_URL": pg_dsn,
                "REDIS_URL": redis_url,
                **s3_bucket.env(),
                "JWT_SECRET": "e2e-secret-that-is-long-enough-for-hs256-0123",
                "ADMIN_EMAIL": ADMIN_EMAIL,
                "ADMIN_PASSWORD": ADMIN_PASSWORD,
                "STATIC_DIR": str(built_ui),
                "PORT": str(port),
                "LOG_FORMAT": "text",
                "LOG_LEVEL": "warning",
                "RATE_LIMIT_AUTH_PER_MINUTE": "1000",
                "RATE_LIMIT_PER_MINUTE": "100000",
                **extra,
            }
            proc = ManagedProcess(name, [str(Path(sys.executable).parent / "req1-server"), "serve"],
                                  tmp_path / name, env=env, ready=lambda: _ready(base), timeout=60)
            started[name] = proc
            proc.start()
            return base

        def stop(self, name: str) -> None:
            started[name].stop()

        def restart(self, name: str) -> None:
            """Start a stopped server again on its port (a replica coming back)."""
            started[name].start()

    yield Servers()
    for proc in started.values():
        proc.stop()
