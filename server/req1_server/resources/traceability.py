"""Traceability (spec §4.12): matrix between two modules, module coverage, breadth-first impact."""

from __future__ import annotations

from typing import Annotated, Literal

from aiohttp import web

from req1_server.access import visible_workspaces
from req1_server.apischema import BOOL, INT, JSON_OBJ, NUM, STR, UUID, array, obj
from req1_server.db import database
from req1_server.http import json_response
from req1_server.routing import Routes
from req1_server.scope import path as in_path
from req1_server.scope import query as in_query
from req1_server.store import traceability as store
from req1_server.typed import ById, IdParam, InModule, QId, QueryModel, query_check, reject

routes = Routes(tag="traceability")
COVERAGE_SHAPE = {"total_objects": INT, "with_upstream": INT, "with_downstream": INT, "with_any_link": INT,
                  "upstream_pct": NUM, "downstream_pct": NUM, "any_link_pct": NUM}
DEPTH_MESSAGE = "max_depth must be an integer between 1 and 20"


def _direction(value: str, name: str) -> str:
    if value not in ("forward", "backward", "both"):
        raise reject(f"invalid direction '{value}', must be one of: forward, backward, both")
    return value


def _depth(value: str, name: str) -> int:
    try:
        depth = int(value)
    except ValueError:
        raise reject(DEPTH_MESSAGE) from None
    if depth < 1:
        raise reject(DEPTH_MESSAGE)
    return min(depth, 20)


class MatrixQuery(QueryModel):
    source_module_id: IdParam
    target_module_id: IdParam
    link_type_id: QId = None


class LinkTypeQuery(QueryModel):
    link_type_id: QId = None


class ImpactQuery(QueryModel):
    keep_empty = frozenset({"direction", "max_depth"})
    direction: Annotated[Literal["forward", "backward", "both"], query_check(_direction)] = "both"
    max_depth: Annotated[int, query_check(_depth)] = 5


@routes.get("/api/v1/traceability-matrix", query=MatrixQuery, response=obj(
    ["source_objects", "target_objects", "cells"], source_objects=array(JSON_OBJ), target_objects=array(JSON_OBJ),
    cells=array(obj(["source_id", "target_id", "link_id", "suspect"], source_id=UUID, target_id=UUID, link_id=UUID,
                    suspect=BOOL))),
    scope=(in_query("module", "source_module_id"), in_query("module", "target_module_id")))
async def matrix(request: web.Request, query: MatrixQuery) -> web.Response:
    """Objects of two modules in document order and the links between them."""
    return json_response(await database(request).read(request, lambda conn: store.matrix(
        conn, query.source_module_id, query.target_module_id, query.link_type_id)))


@routes.get("/api/v1/modules/{module_id}/coverage", params=InModule, query=LinkTypeQuery,
            response=obj(list(COVERAGE_SHAPE), **COVERAGE_SHAPE))
async def coverage(request: web.Request, path: InModule, query: LinkTypeQuery) -> web.Response:
    """Share of live objects with upstream (target of a link) / downstream (source) links."""
    within = await visible_workspaces(request)
    return json_response(await database(request).read(
        request, lambda conn: store.coverage(conn, path.module_id, query.link_type_id, within)))


@routes.get("/api/v1/object-impact/{id}", params=ById, query=ImpactQuery, response=obj(
    ["root_id", "direction", "max_depth", "objects", "edges"], root_id=UUID, direction=STR, max_depth=INT,
    objects=array(JSON_OBJ), edges=array(JSON_OBJ)), scope=(in_path("object"),))
async def impact(request: web.Request, path: ById, query: ImpactQuery) -> web.Response:
    """Objects reachable over links (in the caller's workspaces), breadth first, each once, with their edges."""
    within = await visible_workspaces(request)
    return json_response(await database(request).read(
        request, lambda conn: store.impact(conn, path.id, query.direction, query.max_depth, within)))
