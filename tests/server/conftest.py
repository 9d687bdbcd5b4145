"""Fixtures for server tests: the real app on the real PostgreSQL, Redis and SeaweedFS fixtures.

``client`` is an aiohttp test client on ``create_app(settings)``; ``login``/``make_user``/``auth`` give
tokens and headers. Rate limits are set high here so ordinary tests never trip them; the rate-limit
tests lower them through ``server_env``.
"""

from __future__ import annotations

import itertools
import json
import os
import sys
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from req1_server.app import create_app
from req1_server.config import Settings
from req1_server.runner import Req1Runner
from req1_testenv.process import ManagedProcess, free_port

ADMIN_EMAIL = "admin@localhost"
ADMIN_PASSWORD = "admin-password-for-tests"
USER_PASSWORD = "user-password-123"
_counter = itertools.count(1)

Login = Callable[[str, str], Awaitable[str]]
MakeUser = Callable[..., Awaitable[tuple[dict[str, Any], str]]]


class Req1TestServer(TestServer):
    """TestServer on the production runner (JSON envelopes for protocol-level errors too)."""

    async def _make_runner(self, **kwargs: Any) -> Req1Runner:
        return Req1Runner(self.app, **kwargs)


@pytest.fixture
def server_env(pg_dsn: str, redis_url: str, s3_bucket: Any) -> dict[str, str]:
    """Environment for a server on this test's database, Redis DB and bucket (edit it before `app`)."""
    return {
        "APP_ENV": "test",
        "DATABASE_URL": pg_dsn,
        "REDIS_URL": redis_url,
        **s3_bucket.env(),
        "JWT_SECRET": "test-secret-that-is-long-enough-for-hs256-use",
        "ADMIN_EMAIL": ADMIN_EMAIL,
        "ADMIN_PASSWORD": ADMIN_PASSWORD,
        "LOG_FORMAT": "text",
        "LOG_LEVEL": "warning",
        "RATE_LIMIT_PER_MINUTE": "100000",
        "RATE_LIMIT_AUTH_PER_MINUTE": "100000",
        "DATABASE_POOL_SIZE": "5",
        "REQ1_TEST_ROUTES": "true",
        "SHUTDOWN_TIMEOUT_SECONDS": "5",
        "REGISTRATION_ENABLED": "true",  # off by default; the register tests need it
        # The core tests check the original contract, where every user sees every workspace (they create users
        # after the admin made the workspaces, without memberships); per-workspace access (the default) is
        # tested in test_workspace_*.py, which set ACCESS_MODEL=workspace. REQ1_TEST_ACCESS_MODEL=workspace runs
        # the core tests under per-workspace access (those whose users read workspaces they were never added to fail).
        "ACCESS_MODEL": os.environ.get("REQ1_TEST_ACCESS_MODEL", "global"),
    }


@pytest.fixture
def settings(server_env: dict[str, str]) -> Settings:
    return Settings.from_env(server_env)


@pytest.fixture
def app(settings: Settings) -> web.Application:
    return create_app(settings)


@pytest.fixture
async def client(app: web.Application) -> AsyncIterator[TestClient[web.Request, web.Application]]:
    test_client = TestClient(Req1TestServer(app))
    await test_client.start_server()
    try:
        yield test_client
    finally:
        await test_client.close()


ClientFor = Callable[[dict[str, str]], Awaitable[TestClient[web.Request, web.Application]]]


@pytest.fixture
async def client_for() -> AsyncIterator[ClientFor]:
    """``await client_for(env)`` → a test client on an app built from that environment (closed after)."""
    clients: list[TestClient[web.Request, web.Application]] = []

    async def start(env: dict[str, str]) -> TestClient[web.Request, web.Application]:
        test_client = TestClient(Req1TestServer(create_app(Settings.from_env(env))))
        await test_client.start_server()
        clients.append(test_client)
        return test_client

    try:
        yield start
    finally:
        for test_client in clients:
            await test_client.close()


def auth_headers(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def auth() -> Callable[[str], dict[str, str]]:
    """``auth(token)`` → the Authorization header dict."""
    return auth_headers


@pytest.fixture
def login(client: TestClient[web.Request, web.Application]) -> Login:
    """``await login(email, password)`` → access token (asserts the login succeeded)."""

    async def do_login(email: str, password: str) -> str:
        resp = await client.post("/api/v1/auth/login", json={"email": email, "password": password})
        body = await resp.json()
        assert resp.status == 200, body
        token: str = body["token"]
        return token

    return do_login


@pytest.fixture
async def admin_token(login: Login) -> str:
    return await login(ADMIN_EMAIL, ADMIN_PASSWORD)


@pytest.fixture
def make_user(client: TestClient[web.Request, web.Application], admin_token: str, login: Login) -> MakeUser:
    """``await make_user("editor")`` → (user JSON, access token) for a new active user with that role."""

    async def create(role: str = "viewer", *, email: str | None = None, password: str = USER_PASSWORD,
                     display_name: str | None = None) -> tuple[dict[str, Any], str]:
        n = next(_counter)
        email = email or f"{role}{n}@example.com"
        resp = await client.post(
            "/api/v1/users",
            json={"email": email, "display_name": display_name or f"{role.title()} {n}", "role": role,
                  "password": password},
            headers=auth_headers(admin_token),
        )
        user = await resp.json()
        assert resp.status == 201, user
        return user, await login(email, password)

    return create


@dataclass
class ServerProcess:
    """A real ``req1-server serve`` process on its own port."""

    process: ManagedProcess
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def get(self, path: str, headers: dict[str, str] | None = None, timeout: float = 30) -> tuple[int, Any]:
        """(status, parsed JSON body) of a GET; HTTP errors are returned, not raised."""
        request = urllib.request.Request(self.url + path, headers=headers or {})  # noqa: S310 - http only
        try:
            with urllib.request.urlopen(request, timeout=timeout) as resp:  # noqa: S310
                return resp.status, json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as err:
            return err.code, json.loads(err.read() or b"null")

    def log(self) -> str:
        return self.process.log_file.read_text(errors="replace") if self.process.log_file.exists() else ""


def live(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/live", timeout=1) as resp:
            return resp.status == 200
    except OSError:
        return False


SpawnServer = Callable[..., ServerProcess]


@pytest.fixture
def spawn_server(tmp_path: Path) -> Iterator[SpawnServer]:
    """``spawn_server(env, name="server", start=True)`` → a ServerProcess (stopped after the test)."""
    started: list[ServerProcess] = []
    binary = str(Path(sys.executable).parent / "req1-server")

    def spawn(env: dict[str, str], name: str = "server", start: bool = True) -> ServerProcess:
        port = free_port()
        full_env = {**env, "PORT": str(port), "LOG_FORMAT": "json", "LOG_LEVEL": "info"}
        process = ManagedProcess(name, [binary, "serve"], tmp_path / name, env=full_env,
                                 ready=lambda: live(port), timeout=60)
        server = ServerProcess(process, port)
        started.append(server)
        if start:
            process.start()
        return server

    yield spawn
    for server in started:
        server.process.stop(timeout=20)
