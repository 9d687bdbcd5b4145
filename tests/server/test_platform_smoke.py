"""Smoke: the app starts on the real services, migrates, seeds the admin and answers health and auth."""

from __future__ import annotations

from typing import Any


async def test_live_ready_and_login(client: Any, admin_token: str, auth: Any) -> None:
    resp = await client.get("/health/live")
    assert resp.status == 200
    assert await resp.json() == {"status": "ok"}
    resp = await client.get("/health/ready")
    body = await resp.json()
    assert resp.status == 200, body
    assert body == {"status": "ok", "checks": {"database": "ok", "replica": "disabled", "redis": "ok", "s3": "ok"}}
    resp = await client.get("/api/v1/auth/me", headers=auth(admin_token))
    me = await resp.json()
    assert resp.status == 200, me
    assert me["role"] == "admin" and me["email"] == "admin@localhost"
    assert me["id"] == "00000000-0000-0000-0000-000000000002"


async def test_make_user_roles(client: Any, make_user: Any, auth: Any) -> None:
    _user, token = await make_user("viewer")
    resp = await client.post("/api/v1/users", json={"email": "x@y", "display_name": "x"}, headers=auth(token))
    assert resp.status == 403
    assert await resp.json() == {"error": {"code": "FORBIDDEN", "message": "insufficient role: requires admin"}}
