"""The route table with role metadata: the one place that decides who may call what (spec §2.5).

Resources declare routes on a :class:`Routes` object::

    routes = Routes()

    @routes.get("/api/v1/modules/{module_id}")          # any role (viewer+)
    async def get_module(request): ...

    @routes.post("/api/v1/modules", body=obj(["name"], name=STR), status=201, response=ref("Module"))
    async def create_module(request): ...                # editor+ by default

``app.py`` registers each :class:`RouteSpec` through :func:`guarded`, which authenticates the
request (via the :data:`GATE` the auth package installs), checks the database role against the
route's role, and only then runs the handler. Row-dependent checks call :func:`require_role`, so
the 403 message is the same everywhere. The OpenAPI document is generated from the same specs: the
optional ``query``/``body``/``response``/``status``/``summary`` arguments only describe the route there.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from aiohttp import web

from req1_server.apischema import Body, Q, Schema
from req1_server.errors import forbidden

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Query = Mapping[str, Schema | Q] | None


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
    meta: RouteMeta = field(default_factory=lambda: RouteMeta())

    @property
    def summary(self) -> str:
        if self.meta.summary:
            return self.meta.summary
        doc = (self.handler.__doc__ or "").strip()
        return doc.splitlines()[0] if doc else self.handler.__name__.replace("_", " ")


@dataclass(frozen=True)
class RouteMeta:
    """What the OpenAPI document says about a route beyond its path: query, body, response (docs only)."""

    query: Mapping[str, Schema | Q] = field(default_factory=dict)
    body: Body | None = None
    response: Schema | None = None
    status: int | None = None
    summary: str | None = None

    @staticmethod
    def of(query: Mapping[str, Schema | Q] | None = None, body: Schema | Body | None = None,
           response: Schema | None = None, status: int | None = None, summary: str | None = None) -> RouteMeta:
        """Normalize decorator arguments: a bare body schema is a required JSON body."""
        if body is not None and not isinstance(body, Body):
            body = Body(body)
        return RouteMeta(dict(query or {}), body, response, status, summary)


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
        **meta: Any,
    ) -> Callable[[Handler], Handler]:
        """Register a handler; ``meta`` (query, body, response, status, summary) feeds OpenAPI only."""
        info = RouteMeta.of(**meta)

        def register(handler: Handler) -> Handler:
            tags = (self.tag,) if self.tag else ()
            self.specs.append(RouteSpec(method.upper(), path, handler, role, auth, query_token, name, tags, info))
            return handler

        return register

    def get(self, path: str, *, role: Role = Role.VIEWER, auth: bool = True, query_token: bool = False,
            name: str | None = None, query: Query = None, response: Schema | None = None,
            summary: str | None = None) -> Callable[[Handler], Handler]:
        return self.route("GET", path, role=role, auth=auth, query_token=query_token, name=name, query=query,
                          response=response, summary=summary)

    def post(self, path: str, *, role: Role = Role.EDITOR, auth: bool = True, name: str | None = None,
             query: Query = None, body: Schema | Body | None = None, response: Schema | None = None,
             status: int | None = None, summary: str | None = None) -> Callable[[Handler], Handler]:
        return self.route("POST", path, role=role, auth=auth, name=name, query=query, body=body,
                          response=response, status=status, summary=summary)

    def put(self, path: str, *, role: Role = Role.EDITOR, auth: bool = True, name: str | None = None,
            query: Query = None, body: Schema | Body | None = None, response: Schema | None = None,
            summary: str | None = None) -> Callable[[Handler], Handler]:
        return self.route("PUT", path, role=role, auth=auth, name=name, query=query, body=body,
                          response=response, summary=summary)

    def patch(self, path: str, *, role: Role = Role.EDITOR, auth: bool = True, name: str | None = None,
              query: Query = None, body: Schema | Body | None = None, response: Schema | None = None,
              summary: str | None = None) -> Callable[[Handler], Handler]:
        return self.route("PATCH", path, role=role, auth=auth, name=name, query=query, body=body,
                          response=response, summary=summary)

    def delete(self, path: str, *, role: Role = Role.EDITOR, auth: bool = True, name: str | None = None,
               query: Query = None, summary: str | None = None) -> Callable[[Handler], Handler]:
        return self.route("DELETE", path, role=role, auth=auth, name=name, query=query, summary=summary)


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
