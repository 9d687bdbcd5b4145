"""The gate's user cache: entries expire, writes invalidate at once, and racing reads do not re-cache old rows."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from req1_server.auth.usercache import UserCache

USER = uuid.UUID(int=7)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_entries_expire_after_the_ttl() -> None:
    clock = Clock()
    cache = UserCache(ttl=2.0, clock=clock)
    cache.put(USER, {"role": "admin"}, cache.ticket())
    assert cache.get(USER) == {"role": "admin"}
    clock.now += 2.0
    assert cache.get(USER) is None


def test_forget_drops_the_entry_and_voids_a_racing_read() -> None:
    cache = UserCache(clock=Clock())
    cache.put(USER, {"role": "admin"}, cache.ticket())
    ticket = cache.ticket()  # a request starts reading the old row ...
    cache.forget(USER)  # ... a PATCH commits and invalidates ...
    assert cache.get(USER) is None
    cache.put(USER, {"role": "admin"}, ticket)  # ... the stale read must not be cached
    assert cache.get(USER) is None


async def test_demotion_and_deactivation_apply_to_the_next_request(
        client: Any, admin_token: str, auth: Callable[[str], dict[str, str]], make_user: Any) -> None:
    user, token = await make_user("editor")
    assert (await client.get("/api/v1/auth/me", headers=auth(token))).status == 200  # now cached
    resp = await client.patch(f"/api/v1/users/{user['id']}", json={"role": "viewer"}, headers=auth(admin_token))
    assert resp.status == 200
    me = await client.get("/api/v1/auth/me", headers=auth(token))
    assert (await me.json())["role"] == "viewer"
    resp = await client.patch(f"/api/v1/users/{user['id']}", json={"active": False}, headers=auth(admin_token))
    assert resp.status == 200
    assert (await client.get("/api/v1/auth/me", headers=auth(token))).status == 401
