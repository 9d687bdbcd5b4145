"""Per-workspace access (#13): one resolver for every route, installed unless ACCESS_MODEL=global.

``routing.guarded`` asks :meth:`WorkspaceAccess.narrow` for the caller as they are inside the workspace the
request names (the route's locators, scope.py): their member role there replaces the global role for the route's
role check and every later check of the request. A caller who is not a member, or a resource that does not exist,
is the same 404, so existence does not leak. Global admins and signed download URLs pass without a lookup.
Lookups are cached per request; :func:`visible_workspaces` gives list queries the caller's workspaces.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Any

from aiohttp import web
from pydantic import BaseModel

from req1_server.auth import links
from req1_server.db import Database
from req1_server.errors import not_found
from req1_server.routing import ACCESS, ROLE_RANK, USER, CurrentUser, Role, RouteSpec
from req1_server.scope import ENTITY, WORKSPACE_ENTITIES, In
from req1_server.scope import USER as USER_KIND
from req1_server.store import access as store

CACHE: web.RequestKey[dict[tuple[str, uuid.UUID], Any]] = web.RequestKey("req1.access", dict)


def as_uuid(value: Any) -> uuid.UUID | None:
    """The id a locator found, or None (absent or malformed: validation answers those)."""
    if isinstance(value, uuid.UUID) or value is None:
        return value
    try:
        return uuid.UUID(str(value).strip())
    except ValueError:
        return None


def unrestricted(user: CurrentUser | None) -> bool:
    """Global admins see everything; a signed URL was checked when it was issued."""
    return user is None or user.global_admin or user.id == links.NIL_USER


class WorkspaceAccess:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def narrow(self, request: web.Request, spec: RouteSpec, user: CurrentUser,
                     body: BaseModel | None) -> CurrentUser:
        if unrestricted(user):
            return user
        roles: list[Role] = []
        for loc in spec.scope:
            if (loc.source == "body") != (body is not None):
                continue
            role = await self.role_at(request, user, loc, self.value(request, loc, body))
            if role is not None:
                roles.append(role)
        if not roles:
            return user
        if user.global_role is not None:  # already narrowed by the path: the body's workspaces can only lower it
            roles.append(user.role)
        return replace(user, role=min(roles, key=ROLE_RANK.__getitem__), global_role=user.global_role or user.role)

    @staticmethod
    def value(request: web.Request, loc: In, body: BaseModel | None) -> tuple[str, uuid.UUID | None]:
        """(kind, id) the locator names in this request."""

        def get(name: str) -> Any:
            if loc.source == "path":
                return request.match_info.get(name)
            if loc.source == "query":
                return request.query.get(name)
            return getattr(body, name, None)

        kind = str(get(loc.type_field) or "") if loc.kind == ENTITY and loc.type_field else loc.kind
        return kind, as_uuid(get(loc.field))

    async def role_at(self, request: web.Request, user: CurrentUser, loc: In,
                      named: tuple[str, uuid.UUID | None]) -> Role | None:
        """The user's member role where the locator points (None: nothing to check); 404 when not a member."""
        kind, key = named
        if key is None or (loc.kind == ENTITY and kind not in WORKSPACE_ENTITIES):
            return None
        cache = request.setdefault(CACHE, {})
        if (kind, key) not in cache:
            cache[kind, key] = await self.lookup(user, kind, key)
        found = cache[kind, key]
        if kind == USER_KIND:
            if not found:
                raise not_found("user", key)
            return None
        workspace, role = found
        if workspace is None or role is None:
            raise not_found(loc.entity if loc.kind != ENTITY else kind.replace("_", " "), key)
        return Role(role)

    async def lookup(self, user: CurrentUser, kind: str, key: uuid.UUID) -> Any:
        async with self.db.acquire() as conn:
            if kind == USER_KIND:
                return key == user.id or await store.share_a_workspace(conn, user.id, key)
            return await store.workspace_and_role(conn, kind, key, user.id)


WORKSPACES: web.RequestKey[list[uuid.UUID]] = web.RequestKey("req1.workspaces", list)


async def visible_workspaces(request: web.Request) -> list[uuid.UUID] | None:
    """The workspaces the caller may see (None: every one), for list and search queries."""
    access = request.app.get(ACCESS)
    user: CurrentUser | None = request.get(USER)
    if not isinstance(access, WorkspaceAccess) or unrestricted(user):
        return None
    assert user is not None
    if WORKSPACES not in request:
        async with access.db.acquire() as conn:
            request[WORKSPACES] = await store.workspaces_of(conn, user.id)
    return request[WORKSPACES]
