"""The route table with role metadata: the one place that decides who may call what (spec §2.5).

Resources declare routes on a :class:`Routes` object::

    routes = Routes()

    @routes.get("/api/v1/modules/{module_id}")          # any role (viewer+)
    async def get_module(request): ...

    @routes.patch("/api/v1/modules/{id}", params=ById, body=ModulePatch, response=ref("Module"))
    async def update_module(request, path: ById, body: ModulePatch): ...   # editor+ by default

``app.py`` registers each :class:`RouteSpec` through :func:`guarded`, which authenticates the
request (via the :data:`GATE` the auth package installs), checks the database role against the
route's role, validates the declared ``path``/``query``/``body`` models (``typed.py``) and only then
runs the handler with them as keyword arguments. Row-dependent checks call :func:`require_role`, so
the 403 message is the same everywhere. The OpenAPI document is generated from the same specs and models.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from aiohttp import web
from pydantic import BaseModel

from req1_server.apischema import Body, Schema
from req1_server.errors import forbidden
from req1_server.scope import PARAM, In, scope_of
from req1_server.typed import BodyModel, PathModel, QueryModel, parse_path, parse_query, read_body, validate

Handler = Callable[..., Awaitable[web.StreamResponse]]
BodySpec = Body | type[BodyModel] | None  # raw content types (multipart, CSV) are Body declarations
# a row-independent check of who may send this body, run on the raw JSON object before its fields are validated
Guard = Callable[[web.Request, BaseModel | None, Mapping[str, Any]], None]
Precondition = Callable[[web.Request], None]  # a refusal that comes before the request is read at all


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
    global_role: Role | None = None  # set when ``role`` is the member role of the workspace the request acts in

    @property
    def global_admin(self) -> bool:
        return (self.global_role or self.role) == Role.ADMIN


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

    @property
    def scope(self) -> tuple[In, ...]:
        """Where the request names the workspace it acts in (scope.py); empty: not inside one."""
        return scope_of(self.path, self.meta.scope)

    @property
    def in_body(self) -> bool:
        return any(loc.source == "body" for loc in self.meta.scope)


@dataclass(frozen=True)
class RouteMeta:
    """The route's request models (validated before the handler) and what OpenAPI says beyond them."""

    body: Body | None = None
    response: Schema | None = None
    status: int | None = None
    summary: str | None = None
    path_model: type[PathModel] | None = None
    query_model: type[QueryModel] | None = None
    body_model: type[BodyModel] | None = None
    guard: Guard | None = None
    precondition: Precondition | None = None
    scope: tuple[In, ...] = ()

    @staticmethod
    def of(query: type[QueryModel] | None = None, body: BodySpec = None, response: Schema | None = None,
           status: int | None = None, summary: str | None = None, params: type[PathModel] | None = None,
           guard: Guard | None = None, precondition: Precondition | None = None,
           scope: tuple[In, ...] = ()) -> RouteMeta:
        """Decorator arguments: ``params``/``query``/``body`` models, or a raw :class:`Body` the handler reads;
        ``scope``: locators of the workspace beyond the path's telling parameters (scope.py)."""
        body_model = body if isinstance(body, type) and issubclass(body, BaseModel) else None
        raw_body = body if isinstance(body, Body) else None
        return RouteMeta(raw_body, response, status, summary, params, query, body_model, guard, precondition, scope)

    @property
    def typed(self) -> bool:
        return any(m is not None for m in (self.path_model, self.query_model, self.body_model, self.precondition))

    async def arguments(self, request: web.Request) -> dict[str, BaseModel]:
        """The declared models, validated in path → query → body order (the first failure is the 400)."""
        args: dict[str, BaseModel] = {}
        if self.precondition is not None:
            self.precondition(request)
        if self.path_model is not None:
            args["path"] = parse_path(request, self.path_model)
        if self.query_model is not None:
            args["query"] = parse_query(request, self.query_model)
        if self.body_model is not None:
            raw = await read_body(request, self.body_model)
            self.authorize(request, args.get("path"), raw)
            args["body"] = validate(self.body_model, raw, "field")
        return args

    def authorize(self, request: web.Request, path: BaseModel | None, raw: Mapping[str, Any]) -> None:
        """Who may send this body: the model's field roles, then the route's guard (403 before any 400)."""
        assert self.body_model is not None
        for name, role in self.body_model.field_roles.items():
            if name in raw:
                require_role(user_of(request), Role(role))
        if self.guard is not None:
            self.guard(request, path, raw)


class Gate(Protocol):
    """Authentication and request accounting, installed by the auth package."""

    async def enter(self, request: web.Request, spec: RouteSpec) -> CurrentUser | None:
        """Authenticate (when ``spec.auth``) and apply rate limits; raise ApiError to refuse."""

    async def leave(self, request: web.Request, spec: RouteSpec, response: web.StreamResponse) -> None:
        """Bookkeeping after a handled request (e.g. remember a recent write for read routing)."""


GATE: web.AppKey[Gate] = web.AppKey("gate", Gate)


class Access(Protocol):
    """Per-workspace access (access.py), installed unless ACCESS_MODEL=global."""

    async def narrow(self, request: web.Request, spec: RouteSpec, user: CurrentUser,
                     body: BaseModel | None) -> CurrentUser:
        """The caller with their role in the workspace the request names (path and query, or ``body``); 404 for
        a workspace they are not a member of."""


ACCESS: web.AppKey[Access] = web.AppKey("access", Access)


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
        """Register a handler; ``meta``: path/query/body models or schemas, response, status, summary."""
        info = RouteMeta.of(**meta)
        if info.path_model is not None:
            declared, template = set(info.path_model.model_fields), set(PARAM.findall(path))
            assert declared == template, f"{path}: path model declares {sorted(declared)}"

        def register(handler: Handler) -> Handler:
            tags = (self.tag,) if self.tag else ()
            self.specs.append(RouteSpec(method.upper(), path, handler, role, auth, query_token, name, tags, info))
            return handler

        return register

    def get(self, path: str, *, role: Role = Role.VIEWER, **options: Any) -> Callable[[Handler], Handler]:
        """A read: any role unless ``role`` says otherwise."""
        return self.route("GET", path, role=role, **options)

    def post(self, path: str, *, role: Role = Role.EDITOR, **options: Any) -> Callable[[Handler], Handler]:
        return self.route("POST", path, role=role, **options)

    def put(self, path: str, *, role: Role = Role.EDITOR, **options: Any) -> Callable[[Handler], Handler]:
        return self.route("PUT", path, role=role, **options)

    def patch(self, path: str, *, role: Role = Role.EDITOR, **options: Any) -> Callable[[Handler], Handler]:
        return self.route("PATCH", path, role=role, **options)

    def delete(self, path: str, *, role: Role = Role.EDITOR, **options: Any) -> Callable[[Handler], Handler]:
        return self.route("DELETE", path, role=role, **options)


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


def guarded(spec: RouteSpec) -> Handler:
    """Wrap a handler: gate (auth, rate limit), role check, handler, after-bookkeeping."""

    async def handle(request: web.Request) -> web.StreamResponse:
        request[ROUTE] = spec
        gate = request.app.get(GATE)
        user = await gate.enter(request, spec) if gate is not None else None
        access = request.app.get(ACCESS) if spec.auth else None
        # a body that names the workspace: the role is checked once the body is read (the role there counts)
        deferred = access is not None and spec.meta.body_model is not None and spec.in_body
        if spec.auth:
            if user is None:
                raise RuntimeError("no authenticated user on an auth route; is the gate installed?")
            if access is not None:
                user = await access.narrow(request, spec, user, None)
            if not deferred or user.global_role is not None:  # a role from the path: the body can only lower it
                require_role(user, spec.role)
        request[USER] = user
        if spec.meta.typed:
            args = await spec.meta.arguments(request)
            if deferred and access is not None and user is not None:
                request[USER] = user = await access.narrow(request, spec, user, args.get("body"))
                require_role(user, spec.role)
            response = await spec.handler(request, **args)
        else:
            response = await spec.handler(request)
        if gate is not None:
            await gate.leave(request, spec, response)
        return response

    handle.__name__ = spec.handler.__name__
    handle.__doc__ = spec.handler.__doc__
    return handle
