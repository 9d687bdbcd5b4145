"""Simple resources declared, not written: the five routes of a table-backed resource from one declaration.

``declare(routes, "/api/v1/workspaces", Resource(...))`` adds list, create, get, PATCH and delete. What differs
between resources is said by the declaration (parent in the path, roles, paging, typed bodies) and by
hooks that run inside the write's transaction (extra columns, authorization against the row, refusals).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import asyncpg
from aiohttp import web
from pydantic import create_model

from req1_server.access import visible_workspaces
from req1_server.apischema import array, envelope, ref
from req1_server.db import database
from req1_server.domain.ids import new_id
from req1_server.http import Page, json_response, no_content, page_envelope
from req1_server.routing import CurrentUser, Handler, Role, Routes, user_of
from req1_server.scope import In
from req1_server.store import crud
from req1_server.store.patch import changes
from req1_server.typed import BodyModel, Name, OptName, OptText, Paged, PathId, PathModel

Values = dict[str, Any]
PageFetch = Callable[[asyncpg.Connection, Page], Awaitable[tuple[Sequence[Any], int]]]
CreateHook = Callable[[asyncpg.Connection, CurrentUser, Values], Awaitable[Values]]
AfterCreate = Callable[[asyncpg.Connection, CurrentUser, asyncpg.Record], Awaitable[None]]
UpdateHook = Callable[[asyncpg.Connection, CurrentUser, asyncpg.Record, Values], Awaitable[Values]]
DeleteHook = Callable[[asyncpg.Connection, CurrentUser, asyncpg.Record], Awaitable[Any]]
AfterDelete = Callable[[web.Request, Any], Awaitable[None]]
ParentCheck = Callable[[asyncpg.Connection, uuid.UUID], Awaitable[Any]]


async def page_response(request: web.Request, window: Page, fetch: PageFetch) -> web.Response:
    """One page of rows (``fetch`` gets a connection and the window) as the paging envelope of §1.5."""
    async with database(request).acquire() as conn:
        items, total = await fetch(conn, window)
    return json_response(page_envelope(list(items), total, window))


class Described(BodyModel):
    """The body most simple resources are created with."""

    name: Name
    description: OptText = None


class DescribedPatch(BodyModel):
    name: OptName = None
    description: OptText = None


@dataclass(frozen=True)
class Resource:
    """One table-backed resource; hooks see the connection of the write's transaction."""

    table: crud.Table
    create: type[BodyModel]
    patch: type[BodyModel]
    singular: str
    plural: str
    component: str  # OpenAPI response component
    write_role: Role = Role.EDITOR
    read_role: Role = Role.VIEWER
    parent_param: str | None = None  # path parameter naming the parent (its column is table.parent)
    parent_check: ParentCheck | None = None  # 404 unless the parent exists
    parent_checked_on: frozenset[str] = frozenset({"list", "create"})
    paging: type[Paged] | None = Paged  # None: the list is a plain array of every row
    on_create: CreateHook | None = None
    after_create: AfterCreate | None = None  # in the insert's transaction, with the new row
    on_update: UpdateHook | None = None  # the row is locked and passed when set
    on_delete: DeleteHook | None = None  # runs before the delete, the row locked; its result goes to after_delete
    after_delete: AfterDelete | None = None
    docs: dict[str, str] = field(default_factory=dict)
    item_scope: tuple[In, ...] = ()  # what the item's {id} locates (scope.py) when no parent param does


def path_models(res: Resource) -> tuple[type[PathModel] | None, type[PathModel]]:
    parent = {res.parent_param: (PathId, ...)} if res.parent_param else {}
    title = res.singular.title().replace(" ", "")
    collection = create_model(f"In{title}Parent", __base__=PathModel, **parent) if parent else None  # type: ignore[call-overload]
    item = create_model(f"{title}Item", __base__=PathModel, **parent, id=(PathId, ...))  # type: ignore[call-overload]
    return collection, item


class Calls:
    """The store calls behind the five routes, with the resource's hooks around them."""

    def __init__(self, res: Resource) -> None:
        self.res = res
        self.table = res.table

    def parent_of(self, path: Any) -> uuid.UUID | None:
        return getattr(path, self.res.parent_param) if self.res.parent_param and path is not None else None

    async def check_parent(self, conn: asyncpg.Connection, verb: str, parent_id: uuid.UUID | None) -> None:
        if self.res.parent_check is not None and parent_id is not None and verb in self.res.parent_checked_on:
            await self.res.parent_check(conn, parent_id)

    async def listing(self, conn: asyncpg.Connection, parent_id: uuid.UUID | None, query: Paged | None,
                      within: list[uuid.UUID] | None = None) -> Any:
        await self.check_parent(conn, "list", parent_id)
        if query is None:
            return await crud.every(conn, self.table, parent_id, within)
        rows, total = await crud.page(conn, self.table, parent_id, query.page, within)
        return page_envelope(rows, total, query.page)

    async def create(self, conn: asyncpg.Connection, user: CurrentUser, parent_id: uuid.UUID | None,
                     body: BodyModel) -> asyncpg.Record:
        await self.check_parent(conn, "create", parent_id)
        values: Values = {"id": new_id()}
        if self.table.parent:
            values[self.table.parent] = parent_id
        for name, info in type(body).model_fields.items():
            value = getattr(body, name)
            values[name] = info.get_default(call_default_factory=True) if value is None else value
        if self.res.on_create is not None:
            values = await self.res.on_create(conn, user, values)
        row = await crud.insert(conn, self.table, values)
        if self.res.after_create is not None:
            await self.res.after_create(conn, user, row)
        return row

    async def get(self, conn: asyncpg.Connection, parent_id: uuid.UUID | None, row_id: uuid.UUID) -> asyncpg.Record:
        await self.check_parent(conn, "get", parent_id)
        return await crud.get(conn, self.table, row_id, parent_id)

    async def update(self, conn: asyncpg.Connection, user: CurrentUser, parent_id: uuid.UUID | None,
                     row_id: uuid.UUID, body: BodyModel) -> asyncpg.Record:
        await self.check_parent(conn, "update", parent_id)
        updates = changes(body, self.table.nullable)
        if self.res.on_update is not None:
            row = await crud.get(conn, self.table, row_id, parent_id, lock=True)
            updates = await self.res.on_update(conn, user, row, updates)
        return await crud.update(conn, self.table, row_id, parent_id, updates)

    async def delete(self, conn: asyncpg.Connection, user: CurrentUser, parent_id: uuid.UUID | None,
                     row_id: uuid.UUID) -> Any:
        await self.check_parent(conn, "delete", parent_id)
        outcome = None
        if self.res.on_delete is not None:
            row = await crud.get(conn, self.table, row_id, parent_id, lock=True)
            outcome = await self.res.on_delete(conn, user, row)
        await crud.delete(conn, self.table, row_id, parent_id)
        return outcome


def declare(routes: Routes, base: str, res: Resource, module: str) -> None:
    """Add the five routes of ``res`` under ``base`` (handlers named as if written in ``module``)."""
    collection, item = path_models(res)
    calls = Calls(res)
    item_path = base + "/{id}"
    listed = envelope(res.component) if res.paging else array(ref(res.component))

    async def listing(request: web.Request, path: Any = None, query: Paged | None = None) -> web.Response:
        within = await visible_workspaces(request) if res.table.workspace else None
        async with database(request).acquire() as conn:
            return json_response(await calls.listing(conn, calls.parent_of(path), query, within))

    async def create(request: web.Request, body: BodyModel, path: Any = None) -> web.Response:
        user, parent_id = user_of(request), calls.parent_of(path)
        row = await database(request).transaction(lambda conn: calls.create(conn, user, parent_id, body))
        return json_response(row, status=201)

    async def get(request: web.Request, path: Any) -> web.Response:
        async with database(request).acquire() as conn:
            return json_response(await calls.get(conn, calls.parent_of(path), path.id))

    async def update(request: web.Request, path: Any, body: BodyModel) -> web.Response:
        user, parent_id = user_of(request), calls.parent_of(path)
        return json_response(await database(request).transaction(
            lambda conn: calls.update(conn, user, parent_id, path.id, body)))

    async def delete(request: web.Request, path: Any) -> web.Response:
        user, parent_id = user_of(request), calls.parent_of(path)
        outcome = await database(request).transaction(lambda conn: calls.delete(conn, user, parent_id, path.id))
        if res.after_delete is not None:
            await res.after_delete(request, outcome)
        return no_content()

    def named(handler: Handler, verb: str, noun: str) -> Handler:
        handler.__name__ = handler.__qualname__ = f"{verb}_{noun}"
        handler.__doc__ = res.docs.get(verb, f"{verb.title()} {noun.replace('_', ' ')}.")
        return handler

    def operation(method: str, verb: str, noun: str) -> str:
        return f"{method}_{module.rsplit('.', 1)[-1]}_{verb}_{noun}"  # as if written in the declaring module

    plural, singular = res.plural.replace(" ", "_"), res.singular.replace(" ", "_")
    routes.get(base, role=res.read_role, params=collection, query=res.paging, response=listed,
               name=operation("get", "list", plural))(named(listing, "list", plural))
    routes.post(base, role=res.write_role, params=collection, body=res.create, status=201, response=ref(
        res.component), name=operation("post", "create", singular))(named(create, "create", singular))
    scope = res.item_scope
    routes.get(item_path, role=res.read_role, params=item, response=ref(res.component), scope=scope,
               name=operation("get", "get", singular))(named(get, "get", singular))
    routes.patch(item_path, role=res.write_role, params=item, body=res.patch, response=ref(res.component),
                 scope=scope, name=operation("patch", "update", singular))(named(update, "update", singular))
    routes.delete(item_path, role=res.write_role, params=item, scope=scope,
                  name=operation("delete", "delete", singular))(named(delete, "delete", singular))
