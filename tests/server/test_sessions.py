"""Login sessions in the real Redis (#13.5): the per-user index outlives every session it lists, sessions have
an absolute lifetime, and a password change that cannot revoke the other sessions does not pretend it did."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from req1_server.auth.sessions import USER_SESSIONS, RefreshRejected, Sessions
from req1_server.redisstore import RedisStore
from req1_testenv.process import free_port


@pytest.fixture
async def store(redis_url: str) -> AsyncIterator[RedisStore]:
    redis_store = RedisStore(redis_url)
    await redis_store.start()
    try:
        yield redis_store
    finally:
        await redis_store.close()


async def test_user_index_lives_as_long_as_a_refreshed_session(store: RedisStore) -> None:
    """A session kept alive by refreshing past the index's first TTL is still revoked by revoke_all."""
    sessions = Sessions(store, session_ttl_seconds=2, access_ttl_seconds=60)
    user = uuid.uuid4()
    sid = sessions.new_sid()
    refresh = await sessions.create(user, sid)
    assert refresh is not None
    for _ in range(3):  # 3 s in all: longer than the 2 s the index was given at login
        await asyncio.sleep(1.0)
        _, _, refresh = await sessions.rotate(refresh)
    index_ttl = await store.run(lambda r: r.ttl(USER_SESSIONS + str(user)))
    assert index_ttl > 0, "the per-user index expired while its session lives"
    assert await sessions.revoke_all(user) == 1
    with pytest.raises(RefreshRejected):
        await sessions.rotate(refresh)


async def test_sessions_have_an_absolute_lifetime(store: RedisStore) -> None:
    now = [1_000_000.0]
    sessions = Sessions(store, session_ttl_seconds=3600, access_ttl_seconds=60, max_age_seconds=7200,
                        clock=lambda: now[0])
    sid = sessions.new_sid()
    refresh = await sessions.create(uuid.uuid4(), sid)
    assert refresh is not None
    now[0] += 3000
    _, _, refresh = await sessions.rotate(refresh)
    now[0] += 3000
    _, _, refresh = await sessions.rotate(refresh)  # 6,000 s old: still within 7,200
    ttl = await store.run(lambda r: r.ttl("req1:session:" + sid))
    assert 0 < ttl <= 1200, ttl  # never beyond the absolute end
    now[0] += 1300
    with pytest.raises(RefreshRejected):
        await sessions.rotate(refresh)  # 7,300 s old: over, however recently refreshed


async def test_session_max_age_setting(server_env: dict[str, str]) -> None:
    from req1_server.config import Settings

    assert Settings.from_env(server_env).session_max_age_hours == 720
    assert Settings.from_env({**server_env, "SESSION_MAX_AGE_HOURS": "48"}).session_max_age_hours == 48


async def test_change_password_with_redis_down_is_503_and_changes_nothing(server_env: dict[str, str],
                                                                          client_for: Any) -> None:
    client = await client_for({**server_env, "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"})
    login = await client.post("/api/v1/auth/login", json={"email": "admin@localhost",
                                                          "password": "admin-password-for-tests"})
    assert login.status == 200
    token = (await login.json())["token"]
    resp = await client.post("/api/v1/auth/change-password",
                             json={"old_password": "admin-password-for-tests", "new_password": "another-password-1"},
                             headers={"Authorization": f"Bearer {token}"})
    assert resp.status == 503, await resp.text()
    assert (await resp.json())["error"]["message"] == "session store unavailable"
    again = await client.post("/api/v1/auth/login", json={"email": "admin@localhost",
                                                          "password": "admin-password-for-tests"})
    assert again.status == 200  # the old password still works: nothing was changed


async def test_change_password_without_redis_configured(server_env: dict[str, str], client_for: Any) -> None:
    """No REDIS_URL: no sessions exist to revoke, so the change itself goes through."""
    env = {k: v for k, v in server_env.items() if k != "REDIS_URL"}
    client = await client_for(env)
    login = await client.post("/api/v1/auth/login", json={"email": "admin@localhost",
                                                          "password": "admin-password-for-tests"})
    token = (await login.json())["token"]
    resp = await client.post("/api/v1/auth/change-password",
                             json={"old_password": "admin-password-for-tests", "new_password": "another-password-1"},
                             headers={"Authorization": f"Bearer {token}"})
    assert resp.status == 204, await resp.text()
