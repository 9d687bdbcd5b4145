"""Baselines (spec §4.7): immutable snapshots of (object, version), set-based diff by content."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

import asyncpg
from aiohttp import web
from pydantic import Field

from req1_server.access import visible_workspaces
from req1_server.apischema import envelope, ref
from req1_server.db import database
from req1_server.domain.ids import new_id
from req1_server.http import dumps, json_response, no_content
from req1_server.resources.crud import page_response
from req1_server.routing import Role, Routes, user_of
from req1_server.scope import query as in_query
from req1_server.store import baselines as store
from req1_server.typed import (
    BodyModel,
    InModule,
    LongPaged,
    ModuleItem,
    Name,
    OptId,
    OptText,
    Paged,
    PathId,
    QueryModel,
    parse_uuid,
    query_check,
)

routes = Routes(tag="baselines")


def _b(value: str, name: str) -> uuid.UUID | str:
    return "current" if value.strip().lower() == "current" else parse_uuid(value, name)


class DiffQuery(QueryModel):
    a: PathId = Field(description="baseline A")
    b: Annotated[uuid.UUID | Literal["current"], query_check(_b)] = Field(
        description="baseline B, or `current` for the live module")

    @property
    def live(self) -> uuid.UUID | None:
        """Baseline B, or None for the live module."""
        return None if self.b == "current" else self.b


class BaselineCreate(BodyModel):
    name: Name
    description: OptText = None
    baseline_set_id: OptId = None


def with_entries(row: asyncpg.Record, entries_json: str, status: int = 200) -> web.Response:
    """BaselineWithEntries, splicing the entries JSON text PostgreSQL produced."""
    head = dumps(dict(row))
    body = head[:-1] + ',"entries":' + entries_json + "}"
    return web.Response(status=status, body=body.encode("utf-8"), content_type="application/json")


@routes.get("/api/v1/modules/{module_id}/baselines", params=InModule, query=LongPaged, response=envelope("Baseline"))
async def list_module_baselines(request: web.Request, path: InModule, query: LongPaged) -> web.Response:
    """Baselines of a module, newest first."""
    return await page_response(request, query.page, lambda conn, page: store.page(conn, path.module_id, page))


@routes.get("/api/v1/baselines", query=Paged, response=envelope("Baseline"))
async def list_baselines(request: web.Request, query: Paged) -> web.Response:
    """Baselines of all modules (of the caller's workspaces), newest first."""
    within = await visible_workspaces(request)
    return await page_response(request, query.page, lambda conn, page: store.page(conn, None, page, within))


@routes.post("/api/v1/modules/{module_id}/baselines", params=InModule, body=BaselineCreate, status=201,
             response=ref("BaselineWithEntries"))
async def create_baseline(request: web.Request, path: InModule, body: BaselineCreate) -> web.Response:
    """Snapshot (object, current_version) of every live object, under the module lock."""
    user_id = user_of(request).id
    row, entries = await database(request).transaction(lambda conn: store.create(
        conn, new_id(), path.module_id, body.name, body.description, body.baseline_set_id, user_id))
    return with_entries(row, entries, status=201)


@routes.get("/api/v1/modules/{module_id}/baselines/{id}", params=ModuleItem, response=ref("BaselineWithEntries"))
async def get_baseline(request: web.Request, path: ModuleItem) -> web.Response:
    """A baseline with its entries."""
    async with database(request).acquire() as conn:
        return with_entries(*await store.with_entries(conn, path.module_id, path.id))


@routes.delete("/api/v1/modules/{module_id}/baselines/{id}", role=Role.ADMIN, params=ModuleItem)
async def delete_baseline(request: web.Request, path: ModuleItem) -> web.Response:
    """Admin only: the baseline and its entries go, history stays."""
    async with database(request).acquire() as conn:
        await store.delete(conn, path.module_id, path.id)
    return no_content()


@routes.get("/api/v1/modules/{module_id}/baseline-diff", params=InModule, query=DiffQuery,
            response=ref("BaselineDiff"))
async def module_baseline_diff(request: web.Request, path: InModule, query: DiffQuery) -> web.Response:
    """Added / removed / modified objects between two baselines of this module (`b=current`: the live state)."""
    return json_response(await database(request).read(
        request, lambda conn: store.diff(conn, path.module_id, query.a, query.live)))


@routes.get("/api/v1/baseline-diff", query=DiffQuery, response=ref("BaselineDiff"),
            scope=(in_query("baseline", "a"), in_query("baseline", "b")))
async def baseline_diff(request: web.Request, query: DiffQuery) -> web.Response:
    """Added / removed / modified objects between two baselines of one module."""
    return json_response(await database(request).read(request, lambda conn: store.diff(conn, None, query.a,
                                                                                        query.live)))
