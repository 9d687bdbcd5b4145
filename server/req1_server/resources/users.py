"""Users (§2.4): list and read for every role; create, delete and role changes for admins.

A user may PATCH their own ``display_name``; anything else needs admin. Removing, demoting or
deactivating the last active admin is refused with 409, checked with the admin rows locked so two
concurrent requests cannot both pass.
"""

from __future__ import annotations

import logging
from typing import Any

import asyncpg
from aiohttp import web

from req1_server.apischema import BOOL, BOOL_Q, PAGE, ROLE, STR, envelope, obj, ref
from req1_server.appkeys import SESSIONS, USER_CACHE
from req1_server.auth import users
from req1_server.auth.passwords import hash_password, password_problem
from req1_server.db import database
from req1_server.errors import bad_request, not_found
from req1_server.http import (
    has,
    json_response,
    no_content,
    opt_bool,
    opt_str,
    page_envelope,
    page_params,
    path_uuid,
    query_str,
    read_json,
    req_str,
)
from req1_server.ids import new_id
from req1_server.redisstore import RedisUnavailable
from req1_server.routing import Role, Routes, require_role, user_of

log = logging.getLogger("req1.users")
routes = Routes(tag="users")


@routes.get("/api/v1/users", query={**PAGE, "active": BOOL_Q}, response=envelope("AppUser"))
async def list_users(request: web.Request) -> web.Response:
    """Users by email; ``?active=true|false`` filters."""
    page = page_params(request)
    active_raw = query_str(request, "active")
    active: bool | None = None
    if active_raw is not None:
        if active_raw.lower() not in ("true", "false"):
            raise bad_request("query parameter 'active' must be true or false")
        active = active_raw.lower() == "true"
    async with database(request).acquire() as conn:
        rows = await conn.fetch(
            f"""SELECT {users.COLUMNS}, count(*) OVER () AS total FROM app_user
                WHERE ($1::boolean IS NULL OR active = $1)
                ORDER BY lower(email), id OFFSET $2 LIMIT $3""",
            active, page.offset, page.limit,
        )
        total = rows[0]["total"] if rows else await conn.fetchval(
            "SELECT count(*) FROM app_user WHERE ($1::boolean IS NULL OR active = $1)", active
        )
    return json_response(page_envelope([users.public(r) for r in rows], total, page))


@routes.get("/api/v1/users/{id}", response=ref("AppUser"))
async def get_user(request: web.Request) -> web.Response:
    """One user."""
    user_id = path_uuid(request, "id")
    async with database(request).acquire() as conn:
        row = await users.by_id(conn, user_id)
    if row is None:
        raise not_found("user", user_id)
    return json_response(users.public(row))


@routes.post("/api/v1/users", role=Role.ADMIN, status=201, response=ref("AppUser"), body=obj(
    ["email", "display_name"], email=STR, display_name=STR, role=ROLE, active=BOOL, password=STR))
async def create_user(request: web.Request) -> web.Response:
    """Create an account; without ``password`` it cannot log in."""
    body = await read_json(request)
    email = users.normalize_email(req_str(body, "email"))
    display_name = req_str(body, "display_name").strip()
    if not display_name:
        raise bad_request("display_name must not be empty")
    role = users.parse_role(body["role"]) if body.get("role") is not None else Role.VIEWER
    active = opt_bool(body, "active", True)
    password = opt_str(body, "password")
    password_hash = None
    if password is not None:
        problem = password_problem(password)
        if problem:
            raise bad_request(problem)
        password_hash = await hash_password(password)
    async with database(request).acquire() as conn:
        row = await users.insert(conn, new_id(), email, display_name, role, bool(active), password_hash)
    return json_response(users.public(row), status=201)


@routes.patch("/api/v1/users/{id}", role=Role.VIEWER, response=ref("AppUser"),
               body=obj(display_name=STR, role=ROLE, active=BOOL, password=STR))
async def update_user(request: web.Request) -> web.Response:
    """Update a user: admins anything, users their own display_name."""
    caller = user_of(request)
    user_id = path_uuid(request, "id")
    body = await read_json(request)
    admin_fields = [name for name in ("role", "active", "password") if has(body, name) and body[name] is not None]
    if user_id != caller.id or admin_fields:
        require_role(caller, Role.ADMIN)
    changes: dict[str, Any] = {}
    if body.get("display_name") is not None:
        name = req_str(body, "display_name").strip()
        if not name:
            raise bad_request("display_name must not be empty")
        changes["display_name"] = name
    if body.get("role") is not None:
        changes["role"] = users.parse_role(body["role"]).value
    if body.get("active") is not None:
        changes["active"] = opt_bool(body, "active")
    if body.get("password") is not None:
        password = req_str(body, "password")
        problem = password_problem(password)
        if problem:
            raise bad_request(problem)
        changes["password_hash"] = await hash_password(password)

    async def apply(conn: asyncpg.Connection) -> asyncpg.Record:
        current = await conn.fetchrow(f"SELECT {users.COLUMNS} FROM app_user WHERE id = $1 FOR UPDATE", user_id)
        if current is None:
            raise not_found("user", user_id)
        removes_admin = changes.get("role", "admin") != "admin" or changes.get("active", True) is False
        await users.ensure_not_last_admin(conn, current, removes_admin=removes_admin)
        sets = ", ".join(f"{col} = ${i + 2}" for i, col in enumerate(changes))
        assignments = f"{sets}, updated_at = now()" if sets else "updated_at = now()"
        sql = f"UPDATE app_user SET {assignments} WHERE id = $1 RETURNING {users.COLUMNS}"
        row = await conn.fetchrow(sql, user_id, *changes.values())
        assert row is not None
        return row

    row = await database(request).transaction(apply)
    request.app[USER_CACHE].forget(user_id)
    if changes.get("active") is False or "password_hash" in changes:
        keep = caller.session_id if user_id == caller.id else None
        try:
            await request.app[SESSIONS].revoke_all(user_id, keep_sid=keep)
        except RedisUnavailable:
            log.warning("could not revoke the user's sessions: redis is down", extra={"user": str(user_id)})
    return json_response(users.public(row))


@routes.delete("/api/v1/users/{id}", role=Role.ADMIN)
async def delete_user(request: web.Request) -> web.Response:
    """Delete an account (never the last active admin)."""
    user_id = path_uuid(request, "id")

    async def apply(conn: asyncpg.Connection) -> None:
        current = await conn.fetchrow(f"SELECT {users.COLUMNS} FROM app_user WHERE id = $1 FOR UPDATE", user_id)
        if current is None:
            raise not_found("user", user_id)
        await users.ensure_not_last_admin(conn, current, removes_admin=True)
        await conn.execute("DELETE FROM app_user WHERE id = $1", user_id)

    await database(request).transaction(apply)
    request.app[USER_CACHE].forget(user_id)
    try:
        await request.app[SESSIONS].revoke_all(user_id)
    except RedisUnavailable:
        log.warning("could not revoke the deleted user's sessions: redis is down")
    return no_content()
