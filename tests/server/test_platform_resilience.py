"""Backend outages: Redis killed and restarted, read replica stopped, and rate limits (§2.2, §6.5, §6.6).

Each outage test starts its own Redis or replica so the session's shared services stay untouched.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from req1_testenv.postgres import PostgresServer
from req1_testenv.redis import RedisServer
from req1_testenv.scratch import remove_tree

USER_PASSWORD = "user-password-123"


async def poll(fetch: Any, accept: Any, what: str, limit: float = 30.0) -> Any:
    deadline = time.monotonic() + limit
    while True:
        value = await fetch()
        if accept(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}; last: {value!r}")
        await asyncio.sleep(0.1)


@pytest.fixture
def own_redis(services_root: Path) -> Iterator[RedisServer]:
    server = RedisServer(services_root / f"redis-{uuid.uuid4().hex[:8]}", name="redis-outage").start()
    yield server
    server.stop()
    remove_tree(server.workdir)


async def ready_checks(client: Any) -> tuple[int, dict[str, Any]]:
    resp = await client.get("/health/ready")
    return resp.status, await resp.json()


async def test_redis_killed_and_restarted(server_env: dict[str, str], client_for: Any,
                                          own_redis: RedisServer) -> None:
    env = {**server_env, "REDIS_URL": own_redis.url, "RATE_LIMIT_PER_MINUTE": "8"}
    client = await client_for(env)
    login = await (await client.post("/api/v1/auth/login", json={
        "email": "admin@localhost", "password": "admin-password-for-tests"})).json()
    assert login["refresh_token"]
    headers = {"Authorization": f"Bearer {login['token']}"}
    assert (await client.get("/api/v1/auth/me", headers=headers)).status == 200

    own_redis.stop()
    # requests keep working: revocation is skipped, rate limits fail open (far beyond the limit of 8)
    for _ in range(20):
        resp = await client.get("/api/v1/auth/me", headers=headers)
        assert resp.status == 200, await resp.text()
    status, body = await ready_checks(client)
    assert status == 200 and body["status"] == "degraded" and body["checks"]["redis"] == "down"
    degraded_login = await client.post("/api/v1/auth/login", json={
        "email": "admin@localhost", "password": "admin-password-for-tests"})
    assert degraded_login.status == 200 and (await degraded_login.json())["refresh_token"] is None
    logout = await client.post("/api/v1/auth/logout", headers=headers)
    assert logout.status == 503
    assert (await logout.json())["error"]["message"] == "session store unavailable"
    refresh = await client.post("/api/v1/auth/refresh", json={"refresh_token": login["refresh_token"]})
    assert refresh.status == 503
    metrics = await (await client.get("/metrics")).text()
    assert 'req1_backend_up{backend="redis"} 0.0' in metrics
    skipped = [line for line in metrics.splitlines() if line.startswith("req1_rate_limit_skipped_total ")]
    assert skipped and float(skipped[0].split()[1]) >= 20
    revocation = [line for line in metrics.splitlines() if line.startswith("req1_revocation_checks_skipped_total ")]
    assert revocation and float(revocation[0].split()[1]) >= 20

    own_redis.start()
    await poll(lambda: ready_checks(client), lambda r: r[1]["checks"]["redis"] == "ok", "redis to be back")
    # rate limiting works again: within one fresh window the 9th request at the latest is refused
    statuses = []
    for _ in range(20):
        resp = await client.get("/api/v1/auth/me", headers=headers)
        statuses.append(resp.status)
        if resp.status == 429:
            body = await resp.json()
            assert body["error"]["code"] == "RATE_LIMITED"
            assert int(resp.headers["Retry-After"]) >= 1
            break
    assert 429 in statuses, statuses
    # sessions work again too: logout revokes
    assert (await client.post("/api/v1/auth/logout", headers=headers)).status in (204, 429)


async def test_redis_down_at_start(server_env: dict[str, str], client_for: Any, own_redis: RedisServer) -> None:
    own_redis.stop()
    client = await client_for({**server_env, "REDIS_URL": own_redis.url})
    status, body = await ready_checks(client)
    assert status == 200 and body["checks"]["redis"] == "down"
    token = (await (await client.post("/api/v1/auth/login", json={
        "email": "admin@localhost", "password": "admin-password-for-tests"})).json())["token"]
    assert (await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})).status == 200
    own_redis.start()
    await poll(lambda: ready_checks(client), lambda r: r[1]["status"] == "ok", "recovery without a restart")


@pytest.fixture
def replica_of_test_db(pg_server: PostgresServer, pg_dsn: str, services_root: Path) -> Iterator[tuple[Any, str]]:
    replica = pg_server.start_replica(services_root / f"replica-{uuid.uuid4().hex[:8]}",
                                      name="postgres-replica-test")
    yield replica, replica.dsn_for(pg_dsn.rsplit("/", 1)[1])
    replica.stop()
    remove_tree(replica.workdir)


async def test_replica_reads_and_fallback(server_env: dict[str, str], client_for: Any,
                                          replica_of_test_db: tuple[Any, str]) -> None:
    replica, replica_dsn = replica_of_test_db
    client = await client_for({**server_env, "DATABASE_REPLICA_URL": replica_dsn})
    status, body = await ready_checks(client)
    assert status == 200 and body["checks"]["replica"] == "ok", body
    admin = (await (await client.post("/api/v1/auth/login", json={
        "email": "admin@localhost", "password": "admin-password-for-tests"})).json())["token"]
    admin_h = {"Authorization": f"Bearer {admin}"}
    resp = await client.post("/api/v1/users", json={"email": "reader@example.com", "display_name": "Reader",
                                                    "password": USER_PASSWORD}, headers=admin_h)
    assert resp.status == 201
    reader = (await (await client.post("/api/v1/auth/login", json={
        "email": "reader@example.com", "password": USER_PASSWORD})).json())["token"]
    reader_h = {"Authorization": f"Bearer {reader}"}
    # the new user may not have replicated yet, but the gate reads users from the primary
    assert (await (await client.get("/api/v1/_test/read", headers=reader_h)).json()) == {"server": "replica"}
    # the admin just wrote: their heavy reads stay on the primary for a few seconds
    assert (await (await client.get("/api/v1/_test/read", headers=admin_h)).json()) == {"server": "primary"}

    replica.stop()
    for path in ("/api/v1/_test/read", "/api/v1/_test/read-fn", "/api/v1/users"):
        resp = await client.get(path, headers=reader_h)
        assert resp.status == 200, (path, await resp.text())
    assert (await (await client.get("/api/v1/_test/read", headers=reader_h)).json()) == {"server": "primary"}
    status, body = await ready_checks(client)
    assert status == 200 and body["status"] == "degraded" and body["checks"]["replica"] == "down"

    replica.start()
    await poll(lambda: ready_checks(client), lambda r: r[1]["checks"]["replica"] == "ok", "replica back")
    body = await poll(lambda: _json(client, "/api/v1/_test/read", reader_h),
                      lambda b: b == {"server": "replica"}, "reads to return to the replica")
    assert body == {"server": "replica"}


async def _json(client: Any, path: str, headers: dict[str, str]) -> Any:
    resp = await client.get(path, headers=headers)
    return await resp.json()


async def test_auth_rate_limit_per_ip(server_env: dict[str, str], client_for: Any) -> None:
    client = await client_for({**server_env, "RATE_LIMIT_AUTH_PER_MINUTE": "3"})
    statuses = []
    for _ in range(6):
        resp = await client.post("/api/v1/auth/login", json={"email": "ghost@x", "password": "whatever1"})
        statuses.append(resp.status)
        if resp.status == 429:
            body = await resp.json()
            retry = int(resp.headers["Retry-After"])
            assert 1 <= retry <= 60
            message = f"rate limit exceeded, retry in {retry} seconds"
            assert body["error"] == {"code": "RATE_LIMITED", "message": message}
    # a window boundary can reset the count once, so allow one extra success
    assert statuses[:3] == [401, 401, 401] and statuses.count(429) >= 2, statuses
    # health, metrics are never limited
    for _ in range(10):
        assert (await client.get("/health/live")).status == 200


async def test_api_rate_limit_per_user_and_proxy_ip(server_env: dict[str, str], client_for: Any) -> None:
    client = await client_for({**server_env, "RATE_LIMIT_PER_MINUTE": "5", "TRUST_PROXY": "true"})
    resp = await client.post("/api/v1/auth/login", json={
        "email": "admin@localhost", "password": "admin-password-for-tests"}, headers={"X-Forwarded-For": "10.0.0.1"})
    tokens = [(await resp.json())["token"]]

    async def until_limited(headers: dict[str, str]) -> list[int]:
        seen = []
        for _ in range(15):
            status = (await client.get("/api/v1/auth/me", headers=headers)).status
            seen.append(status)
            if status == 429:
                break
        return seen

    first = await until_limited({"Authorization": f"Bearer {tokens[0]}"})
    assert first[-1] == 429 and len(first) <= 12, first
    # anonymous requests count per client IP (from X-Forwarded-For with TRUST_PROXY)
    anon = [(await client.get("/api/v1/auth/me", headers={"X-Forwarded-For": "10.9.9.9"})).status for _ in range(14)]
    assert 401 in anon and 429 in anon, anon
    other_ip = (await client.get("/api/v1/auth/me", headers={"X-Forwarded-For": "10.9.9.10"})).status
    assert other_ip == 401


@pytest.fixture
def own_postgres(services_root: Path) -> Iterator[PostgresServer]:
    server = PostgresServer(services_root / f"pg-{uuid.uuid4().hex[:8]}", name="postgres-outage").start()
    yield server
    server.stop()
    remove_tree(server.workdir)


async def test_primary_down_is_503_and_recovers(server_env: dict[str, str], client_for: Any,
                                                own_postgres: PostgresServer) -> None:
    dsn = own_postgres.create_database("req1")
    client = await client_for({**server_env, "DATABASE_URL": dsn})
    token = (await (await client.post("/api/v1/auth/login", json={
        "email": "admin@localhost", "password": "admin-password-for-tests"})).json())["token"]
    headers = {"Authorization": f"Bearer {token}"}
    own_postgres.stop()
    resp = await client.get("/api/v1/users", headers=headers)
    assert resp.status == 503
    assert await resp.json() == {"error": {"code": "SERVICE_UNAVAILABLE", "message": "database unavailable"}}
    status, body = await ready_checks(client)
    assert status == 503 and body["status"] == "unavailable" and body["checks"]["database"] == "down"
    assert (await client.get("/health/live")).status == 200
    own_postgres.start()
    await poll(lambda: ready_checks(client), lambda r: r[0] == 200, "the primary to be back")
    assert (await client.get("/api/v1/users", headers=headers)).status == 200


async def test_change_password_is_auth_rate_limited(server_env: dict[str, str], client_for: Any) -> None:
    """#13.10: guessing the current password through change-password counts against the auth limit per IP."""
    client = await client_for({**server_env, "RATE_LIMIT_AUTH_PER_MINUTE": "3", "TRUST_PROXY": "true"})
    resp = await client.post("/api/v1/auth/login", json={"email": "admin@localhost",
                                                         "password": "admin-password-for-tests"},
                             headers={"X-Forwarded-For": "10.1.0.1"})
    token = (await resp.json())["token"]
    statuses = []
    for n in range(7):
        resp = await client.post("/api/v1/auth/change-password",
                                 json={"old_password": f"guess-{n:04d}", "new_password": "new-password-123"},
                                 headers={"Authorization": f"Bearer {token}", "X-Forwarded-For": "10.1.0.2"})
        statuses.append(resp.status)
    assert statuses[:3] == [401, 401, 401] and statuses.count(429) >= 3, statuses
