"""Users (§2.4): list and read for every role; create, delete and role changes for admins.

A user may PATCH their own ``display_name``; anything else needs admin. Removing, demoting or
deactivating the last active admin is refused with 409, checked with the admin rows locked so two
concurrent requests cannot both pass.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from typing import Annotated, Any

from aiohttp import web
from pydantic import Field

from req1_server.access import visible_workspaces
from req1_server.apischema import envelope, ref
from req1_server.appkeys import SESSIONS, USER_CACHE
from req1_server.auth.passwords import hash_password, password_problem
from req1_server.db import database
from req1_server.errors import ApiError, bad_request, not_found
from req1_server.http import json_response, no_content
from req1_server.ids import new_id
from req1_server.redisstore import RedisUnavailable
from req1_server.resources.crud import page_response
from req1_server.routing import ROLE_NAMES, Role, Routes, require_role, user_of
from req1_server.scope import USER as USER_KIND
from req1_server.scope import path as in_path
from req1_server.store import users
from req1_server.store.patch import changes
from req1_server.typed import (
    BodyModel,
    ById,
    Name,
    OptBool,
    OptName,
    OptText,
    Paged,
    as_str,
    checked,
    query_check,
    reject,
)

log = logging.getLogger("req1.users")
routes = Routes(tag="users")


def _active(value: str, name: str) -> bool:
    if value.lower() not in ("true", "false"):
        raise reject(f"query parameter '{name}' must be true or false")
    return value.lower() == "true"


def _email(value: Any, name: str) -> str:
    as_str(value, name)
    try:
        return users.normalize_email(value)
    except ApiError as exc:
        raise reject(exc.message) from None


Email = Annotated[str, checked(_email, required=True)]  # trimmed and checked as an address


def _role(value: Any, name: str) -> str:
    if not isinstance(value, str) or value not in Role.__members__.values():
        raise reject(f"invalid role '{value}', must be one of: {ROLE_NAMES}")
    return value


RoleName = Annotated[str | None, checked(_role)]


class UserQuery(Paged):
    active: Annotated[bool | None, query_check(_active)] = None


class UserCreate(BodyModel):
    email: Email
    display_name: Name
    role: RoleName = Field(None, description="viewer when absent")
    active: OptBool = True
    password: OptText = Field(None, description="without one the account cannot log in")


class UserPatch(BodyModel):
    """A user may change their own display_name; everything else is for admins."""

    display_name: OptName = None
    role: RoleName = None
    active: OptBool = Field(None, description="false also ends the user's sessions")
    password: OptText = Field(None, description="a new password ends the user's other sessions")


async def password_hash(password: str | None) -> str | None:
    """The hash of an acceptable new password (400 with the reason otherwise)."""
    if password is None:
        return None
    problem = password_problem(password)
    if problem:
        raise bad_request(problem)
    return await hash_password(password)


async def revoke_sessions(request: web.Request, user_id: uuid.UUID, keep: str | None = None) -> None:
    try:
        await request.app[SESSIONS].revoke_all(user_id, keep_sid=keep)
    except RedisUnavailable:
        log.warning("could not revoke the user's sessions: redis is down", extra={"user": str(user_id)})


@routes.get("/api/v1/users", query=UserQuery, response=envelope("AppUser"))
async def list_users(request: web.Request, query: UserQuery) -> web.Response:
    """Users by email (non-admins: those sharing a workspace with them); ``?active=true|false`` filters."""
    within, caller = await visible_workspaces(request), user_of(request).id
    return await page_response(request, query.page,
                               lambda conn, page: users.page(conn, query.active, page, caller, within))


SHARED = (in_path(USER_KIND),)  # per-workspace access: a user who shares no workspace with the caller is not found


@routes.get("/api/v1/users/{id}", params=ById, response=ref("AppUser"), scope=SHARED)
async def get_user(request: web.Request, path: ById) -> web.Response:
    """One user."""
    async with database(request).acquire() as conn:
        row = await users.by_id(conn, path.id)
    if row is None:
        raise not_found("user", path.id)
    return json_response(users.public(row))


@routes.post("/api/v1/users", role=Role.ADMIN, body=UserCreate, status=201, response=ref("AppUser"))
async def create_user(request: web.Request, body: UserCreate) -> web.Response:
    """Create an account; without ``password`` it cannot log in."""
    role = Role(body.role) if body.role else Role.VIEWER
    hashed = await password_hash(body.password)
    async with database(request).acquire() as conn:
        row = await users.insert(conn, new_id(), body.email, body.display_name.strip(), role,
                                 body.active is not False, hashed)
    return json_response(users.public(row), status=201)


def own_display_name(request: web.Request, path: Any, raw: Mapping[str, Any]) -> None:
    """Admins change anything; a user only their own display_name."""
    caller = user_of(request)
    if path.id != caller.id or any(raw.get(name) is not None for name in ("role", "active", "password")):
        require_role(caller, Role.ADMIN)


@routes.patch("/api/v1/users/{id}", role=Role.VIEWER, params=ById, body=UserPatch, guard=own_display_name,
              response=ref("AppUser"), scope=SHARED)
async def update_user(request: web.Request, path: ById, body: UserPatch) -> web.Response:
    """Update a user: admins anything, users their own display_name."""
    caller = user_of(request)
    updates = changes(body, skip={"password"})
    if "display_name" in updates:
        updates["display_name"] = updates["display_name"].strip()
    if body.password is not None:
        updates["password_hash"] = await password_hash(body.password)
    row = await database(request).transaction(lambda conn: users.update(conn, path.id, updates))
    request.app[USER_CACHE].forget(path.id)
    if updates.get("active") is False or "password_hash" in updates:
        await revoke_sessions(request, path.id, caller.session_id if path.id == caller.id else None)
    return json_response(users.public(row))


@routes.delete("/api/v1/users/{id}", role=Role.ADMIN, params=ById)
async def delete_user(request: web.Request, path: ById) -> web.Response:
    """Delete an account (never the last active admin)."""
    await database(request).transaction(lambda conn: users.delete(conn, path.id))
    request.app[USER_CACHE].forget(path.id)
    await revoke_sessions(request, path.id)
    return no_content()
