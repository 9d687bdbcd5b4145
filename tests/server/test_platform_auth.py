"""Auth routes (§2.3) and per-request checks (§2.2) against the real PostgreSQL and Redis."""

from __future__ import annotations

from typing import Any

import asyncpg
import bcrypt
import jwt

from req1_server.auth.passwords import verify_password_sync

SECRET = "test-secret-that-is-long-enough-for-hs256-use"


async def test_login_shape_and_claims(client: Any) -> None:
    resp = await client.post("/api/v1/auth/login", json={"email": " ADMIN@localhost ", "password":
                                                         "admin-password-for-tests"})
    body = await resp.json()
    assert resp.status == 200, body
    assert set(body) == {"token", "user", "refresh_token", "expires_at"}
    assert set(body["user"]) == {"id", "email", "display_name", "role", "active", "created_at", "updated_at"}
    assert body["user"]["display_name"] == "Administrator"
    claims = jwt.decode(body["token"], SECRET, algorithms=["HS256"])
    assert claims["sub"] == body["user"]["id"] and claims["role"] == "admin" and claims["sid"]
    assert claims["exp"] - claims["iat"] == 24 * 3600
    assert body["expires_at"].endswith("+00:00")
    assert body["refresh_token"].startswith(claims["sid"] + ".")
    assert resp.headers["Cache-Control"] == "no-store"


async def test_register_then_login_as_viewer(client: Any, login: Any, auth: Any) -> None:
    resp = await client.post("/api/v1/auth/register",
                             json={"email": "new@example.com", "password": "password123", "display_name": "New"})
    user = await resp.json()
    assert resp.status == 201, user
    assert user["role"] == "viewer" and user["active"] is True and "token" not in user
    assert "password_hash" not in user
    again = await client.post("/api/v1/auth/register",
                              json={"email": "NEW@example.com", "password": "password123", "display_name": "N"})
    assert again.status == 409
    assert (await again.json())["error"]["message"] == "user with email 'NEW@example.com' already exists"
    token = await login("new@example.com", "password123")
    me = await (await client.get("/api/v1/auth/me", headers=auth(token))).json()
    assert me == {"id": user["id"], "email": "new@example.com", "role": "viewer", "display_name": "New"}


async def test_registration_disabled(server_env: dict[str, str], client_for: Any) -> None:
    client = await client_for({**server_env, "REGISTRATION_ENABLED": "false"})
    resp = await client.post("/api/v1/auth/register",
                             json={"email": "x@example.com", "password": "password123", "display_name": "X"})
    assert resp.status == 403
    assert (await resp.json())["error"]["message"] == "registration is disabled"


async def test_registration_is_off_unless_enabled(server_env: dict[str, str], client_for: Any) -> None:
    """#13.1: self-registration is an opt-in (REGISTRATION_ENABLED=true), not the default."""
    env = {k: v for k, v in server_env.items() if k != "REGISTRATION_ENABLED"}
    client = await client_for(env)
    resp = await client.post("/api/v1/auth/register",
                             json={"email": "y@example.com", "password": "password123", "display_name": "Y"})
    assert resp.status == 403, await resp.text()
    assert (await resp.json())["error"]["message"] == "registration is disabled"


async def test_role_is_read_from_database_not_token(client: Any, make_user: Any, admin_token: str,
                                                    auth: Any) -> None:
    user, token = await make_user("editor")
    # demote: the old token still says "editor" but the database says viewer
    resp = await client.patch(f"/api/v1/users/{user['id']}", json={"role": "viewer"}, headers=auth(admin_token))
    assert resp.status == 200
    me = await (await client.get("/api/v1/auth/me", headers=auth(token))).json()
    assert me["role"] == "viewer"


async def test_disabled_account(client: Any, make_user: Any, admin_token: str, auth: Any) -> None:
    user, token = await make_user("viewer", password="password-xyz")
    resp = await client.patch(f"/api/v1/users/{user['id']}", json={"active": False}, headers=auth(admin_token))
    assert resp.status == 200
    resp = await client.get("/api/v1/auth/me", headers=auth(token))
    assert resp.status == 401
    assert (await resp.json())["error"]["message"] in ("account is disabled", "invalid or expired token")
    wrong = await client.post("/api/v1/auth/login", json={"email": user["email"], "password": "wrong-password"})
    assert (await wrong.json())["error"]["message"] == "invalid credentials"
    right = await client.post("/api/v1/auth/login", json={"email": user["email"], "password": "password-xyz"})
    assert right.status == 401
    assert (await right.json())["error"]["message"] == "account is disabled"


async def test_account_without_password(client: Any, admin_token: str, auth: Any) -> None:
    resp = await client.post("/api/v1/users", json={"email": "nopw@example.com", "display_name": "No PW"},
                             headers=auth(admin_token))
    assert resp.status == 201
    resp = await client.post("/api/v1/auth/login", json={"email": "nopw@example.com", "password": "anything1"})
    assert resp.status == 401
    assert (await resp.json())["error"]["message"] == "account has no password set"


async def test_change_password_revokes_other_sessions(client: Any, make_user: Any, login: Any, auth: Any) -> None:
    user, first = await make_user("viewer", password="old-password-1")
    second = await login(user["email"], "old-password-1")
    bad = await client.post("/api/v1/auth/change-password",
                            json={"old_password": "nope-nope", "new_password": "new-password-1"}, headers=auth(first))
    assert bad.status == 401
    assert (await bad.json())["error"]["message"] == "current password is incorrect"
    short = await client.post("/api/v1/auth/change-password",
                              json={"old_password": "old-password-1", "new_password": "short"}, headers=auth(first))
    assert short.status == 400
    ok = await client.post("/api/v1/auth/change-password",
                           json={"old_password": "old-password-1", "new_password": "new-password-1"},
                           headers=auth(first))
    assert ok.status == 204
    assert (await client.get("/api/v1/auth/me", headers=auth(first))).status == 200
    assert (await client.get("/api/v1/auth/me", headers=auth(second))).status == 401
    await login(user["email"], "new-password-1")
    old = await client.post("/api/v1/auth/login", json={"email": user["email"], "password": "old-password-1"})
    assert old.status == 401


async def test_logout_revokes_at_once(client: Any, make_user: Any, auth: Any) -> None:
    _user, token = await make_user("viewer")
    assert (await client.post("/api/v1/auth/logout", headers=auth(token))).status == 204
    resp = await client.get("/api/v1/auth/me", headers=auth(token))
    assert resp.status == 401
    assert (await resp.json())["error"]["message"] == "invalid or expired token"


async def test_refresh_rotates_and_replay_revokes(client: Any, make_user: Any, auth: Any) -> None:
    user, _ = await make_user("viewer", password="password-abc")
    first = await (await client.post("/api/v1/auth/login",
                                     json={"email": user["email"], "password": "password-abc"})).json()
    resp = await client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    second = await resp.json()
    assert resp.status == 200, second
    assert second["refresh_token"] != first["refresh_token"]
    assert second["user"]["id"] == user["id"]
    assert (await client.get("/api/v1/auth/me", headers=auth(second["token"]))).status == 200
    # replaying the used token revokes the whole login session
    replay = await client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert replay.status == 401
    assert (await replay.json())["error"]["message"] == "invalid or expired refresh token"
    assert (await client.get("/api/v1/auth/me", headers=auth(second["token"]))).status == 401
    again = await client.post("/api/v1/auth/refresh", json={"refresh_token": second["refresh_token"]})
    assert again.status == 401


async def test_logout_kills_refresh(client: Any, make_user: Any, auth: Any) -> None:
    user, _ = await make_user("viewer", password="password-abc")
    body = await (await client.post("/api/v1/auth/login",
                                    json={"email": user["email"], "password": "password-abc"})).json()
    assert (await client.post("/api/v1/auth/logout", headers=auth(body["token"]))).status == 204
    resp = await client.post("/api/v1/auth/refresh", json={"refresh_token": body["refresh_token"]})
    assert resp.status == 401


async def test_link_token_only_as_query_on_download_routes(client: Any, admin_token: str, auth: Any) -> None:
    resp = await client.post("/api/v1/auth/link-token", headers=auth(admin_token))
    body = await resp.json()
    assert resp.status == 200 and body["expires_in"] == 60
    claims = jwt.decode(body["token"], SECRET, algorithms=["HS256"])
    assert claims["scope"] == "link" and claims["exp"] - claims["iat"] == 60
    assert (await client.get("/api/v1/auth/me", headers=auth(body["token"]))).status == 401
    assert (await client.get(f"/api/v1/auth/me?token={body['token']}")).status == 401


async def test_bcrypt_hash_is_accepted_and_rehashed(client: Any, pg_dsn: str, admin_token: str) -> None:
    legacy = bcrypt.hashpw(b"legacy-password", bcrypt.gensalt(rounds=4)).decode().replace("$2b$", "$2y$", 1)
    conn = await asyncpg.connect(pg_dsn)
    try:
        await conn.execute(
            "INSERT INTO app_user (id, email, display_name, role, password_hash) "
            "VALUES ('00000000-0000-0000-0000-0000000000b1', 'legacy@example.com', 'Legacy', 'editor', $1)", legacy)
        resp = await client.post("/api/v1/auth/login", json={"email": "legacy@example.com", "password":
                                                             "legacy-password"})
        assert resp.status == 200, await resp.text()
        stored = await conn.fetchval("SELECT password_hash FROM app_user WHERE email = 'legacy@example.com'")
    finally:
        await conn.close()
    assert stored.startswith("$argon2id$")
    assert verify_password_sync("legacy-password", stored)
    resp = await client.post("/api/v1/auth/login", json={"email": "legacy@example.com", "password": "legacy-password"})
    assert resp.status == 200


async def test_passwords_are_argon2id(client: Any, make_user: Any, pg_dsn: str) -> None:
    user, _ = await make_user("viewer")
    conn = await asyncpg.connect(pg_dsn)
    try:
        stored = await conn.fetchval("SELECT password_hash FROM app_user WHERE id = $1", user["id"])
    finally:
        await conn.close()
    assert stored.startswith("$argon2id$")
