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
from req1_server.auth.usercache import TtlCache
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


#: How stale a cached member role may be in another process (as the user row, auth/usercache.py): a membership
#: changed through this process is seen at once, through another replica within this many seconds.
TTL_SECONDS = 2.0
Found = Any  # (workspace, role) of a resource for a user, or whether a user shares a workspace


class WorkspaceAccess:
    def __init__(self, db: Database, ttl: float = TTL_SECONDS) -> None:
        self.db = db
        # One lookup per request was a fifth of a cheap GET's cost: the answers are kept for a moment per process.
        self.found: TtlCache[tuple[uuid.UUID, str, uuid.UUID], Found] = TtlCache(ttl)
        self.memberships: TtlCache[uuid.UUID, list[uuid.UUID]] = TtlCache(ttl)

    def forget(self) -> None:
        """A membership changed through this process: every cached answer goes (they are cheap to rebuild)."""
        self.found.clear()
        self.memberships.clear()

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
        cached = self.found.get((user.id, kind, key))
        if cached is not None:
            return cached
        ticket = self.found.ticket()
        async with self.db.primary.acquire() as conn:  # a read: no actor to bind for the audit triggers
            if kind == USER_KIND:
                found: Found = key == user.id or await store.share_a_workspace(conn, user.id, key)
            else:
                found = await store.workspace_and_role(conn, kind, key, user.id)
        self.found.put((user.id, kind, key), found, ticket)
        return found

    async def workspaces_of(self, user_id: uuid.UUID) -> list[uuid.UUID]:
        cached = self.memberships.get(user_id)
        if cached is not None:
            return cached
        ticket = self.memberships.ticket()
        async with self.db.primary.acquire() as conn:
            found = await store.workspaces_of(conn, user_id)
        self.memberships.put(user_id, found, ticket)
        return found


WORKSPACES: web.RequestKey[list[uuid.UUID]] = web.RequestKey("req1.workspaces", list)


async def visible_workspaces(request: web.Request) -> list[uuid.UUID] | None:
    """The workspaces the caller may see (None: every one), for list and search queries."""
    access = request.app.get(ACCESS)
    user: CurrentUser | None = request.get(USER)
    if not isinstance(access, WorkspaceAccess) or unrestricted(user):
        return None
    assert user is not None
    if WORKSPACES not in request:
        request[WORKSPACES] = await access.workspaces_of(user.id)
    return request[WORKSPACES]


def memberships_changed(request: web.Request) -> None:
    """Call after a membership write commits, so this process answers from the database again at once."""
    access = request.app.get(ACCESS)
    if isinstance(access, WorkspaceAccess):
        access.forget()
