"""The route table with role metadata: the one place that decides who may call what (spec §2.5).

Resources declare routes on a :class:`Routes` object::

    routes = Routes()

    @routes.get("/api/v1/modules/{module_id}")          # any role (viewer+)
    async def get_module(request): ...

    @routes.post("/api/v1/modules")                      # editor+ by default
    async def create_module(request): ...

``app.py`` registers each :class:`RouteSpec` through :func:`guarded`, which authenticates the
request (via the :data:`GATE` the auth package installs), checks the database role against the
route's role, and only then runs the handler. Row-dependent checks call :func:`require_role`, so
the 403 message is the same everywhere. The OpenAPI document is generated from the same specs.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from aiohttp import web

from req1_server.errors import forbidden

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Role(StrEnum):
    VIEWER = "viewer"
    REVIEWER = "reviewer"
    EDITOR = "editor"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return ROLE_RANK[self]

    def at_least(self, other: Role) -> bool:
        return self.rank >= other.rank


ROLE_RANK = {Role.VIEWER: 0, Role.REVIEWER: 1, Role.EDITOR: 2, Role.ADMIN: 3}
ROLE_NAMES = ", ".join(sorted(r.value for r in Role))


@dataclass(frozen=True)
class CurrentUser:
    """The authenticated caller, loaded from PostgreSQL on every request (role from the database)."""

    id: uuid.UUID
    email: str
    role: Role
    display_name: str
    session_id: str | None = None


USER: web.RequestKey[CurrentUser | None] = web.RequestKey("req1.user", object)  # type: ignore[arg-type]
ROUTE: web.RequestKey[RouteSpec] = web.RequestKey("req1.route", object)  # type: ignore[arg-type]


@dataclass(frozen=True)
class RouteSpec:
    """One route: method, full path, handler and who may call it."""

    method: str
    path: str
    handler: Handler
    role: Role = Role.VIEWER
    auth: bool = True
    query_token: bool = False
    name: str | None = None
    tags: tuple[str, ...] = field(default=())

    @property
    def summary(self) -> str:
        doc = (self.handler.__doc__ or "").strip()
        return doc.splitlines()[0] if doc else self.handler.__name__.replace("_", " ")


class Gate(Protocol):
    """Authentication and request accounting, installed by the auth package."""

    async def enter(self, request: web.Request, spec: RouteSpec) -> CurrentUser | None:
        """Authenticate (when ``spec.auth``) and apply rate limits; raise ApiError to refuse."""

    async def leave(self, request: web.Request, spec: RouteSpec, response: web.StreamResponse) -> None:
        """Bookkeeping after a handled request (e.g. remember a recent write for read routing)."""


GATE: web.AppKey[Gate] = web.AppKey("gate", Gate)


class Routes:
    """A list of route specs, filled by decorators in each resource module."""

    def __init__(self, tag: str | None = None) -> None:
        self.specs: list[RouteSpec] = []
        self.tag = tag

    def route(
        self,
        method: str,
        path: str,
        *,
        role: Role,
        auth: bool = True,
        query_token: bool = False,
        name: str | None = None,
    ) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            tags = (self.tag,) if self.tag else ()
            self.specs.append(RouteSpec(method.upper(), path, handler, role, auth, query_token, name, tags))
            return handler

        return register

    def get(self, path: str, *, role: Role = Role.VIEWER, auth: bool = True, query_token: bool = False,
            name: str | None = None) -> Callable[[Handler], Handler]:
        return self.route("GET", path, role=role, auth=auth, query_token=query_token, name=name)

    def post(self, path: str, *, role: Role = Role.EDITOR, auth: bool = True,
             name: str | None = None) -> Callable[[Handler], Handler]:
        return self.route("POST", path, role=role, auth=auth, name=name)

    def put(self, path: str, *, role: Role = Role.EDITOR, auth: bool = True,
            name: str | None = None) -> Callable[[Handler], Handler]:
        return self.route("PUT", path, role=role, auth=auth, name=name)

    def patch(self, path: str, *, role: Role = Role.EDITOR, auth: bool = True,
              name: str | None = None) -> Callable[[Handler], Handler]:
        return self.route("PATCH", path, role=role, auth=auth, name=name)

    def delete(self, path: str, *, role: Role = Role.EDITOR, auth: bool = True,
               name: str | None = None) -> Callable[[Handler], Handler]:
        return self.route("DELETE", path, role=role, auth=auth, name=name)


def insufficient_role(role: Role) -> Exception:
    return forbidden(f"insufficient role: requires {role.value}")


def require_role(user: CurrentUser, role: Role) -> None:
    """403 unless the user's (database) role is at least ``role``."""
    if not user.role.at_least(role):
        raise insufficient_role(role)


def user_of(request: web.Request) -> CurrentUser:
    user: CurrentUser | None = request.get(USER)
    if user is None:
        raise RuntimeError("user_of() called on a route registered with auth=False")
    return user


def optional_user(request: web.Request) -> CurrentUser | None:
    user: CurrentUser | None = request.get(USER)
    return user


def guarded(spec: RouteSpec) -> Handler:
    """Wrap a handler: gate (auth, rate limit), role check, handler, after-bookkeeping."""

    async def handle(request: web.Request) -> web.StreamResponse:
        request[ROUTE] = spec
        gate = request.app.get(GATE)
        user = await gate.enter(request, spec) if gate is not None else None
        if spec.auth:
            if user is None:
                raise RuntimeError("no authenticated user on an auth route; is the gate installed?")
            require_role(user, spec.role)
        request[USER] = user
        response = await spec.handler(request)
        if gate is not None:
            await gate.leave(request, spec, response)
        return response

    handle.__name__ = spec.handler.__name__
    handle.__doc__ = spec.handler.__doc__
    return handle
