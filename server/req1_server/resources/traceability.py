"""Traceability (spec §4.12): matrix between two modules, module coverage, breadth-first impact."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
from aiohttp import web

from req1_server.apischema import BOOL, INT, JSON_OBJ, NUM, STR, UUID, Q, array, obj
from req1_server.db import database
from req1_server.errors import bad_request, not_found
from req1_server.http import json_response, path_uuid, query_uuid
from req1_server.resources.common import require_module
from req1_server.routing import Routes

routes = Routes(tag="traceability")
COVERAGE_SHAPE = {"total_objects": INT, "with_upstream": INT, "with_downstream": INT, "with_any_link": INT,
            "upstream_pct": NUM, "downstream_pct": NUM, "any_link_pct": NUM}

MATRIX_OBJECTS = """
SELECT id, heading, position, level FROM object WHERE module_id = $1 AND deleted_at IS NULL ORDER BY level_path, id
"""
MATRIX_CELLS = """
SELECT CASE WHEN s.module_id = $1 THEN l.source_object_id ELSE l.target_object_id END AS source_id,
       CASE WHEN s.module_id = $1 THEN l.target_object_id ELSE l.source_object_id END AS target_id,
       l.id AS link_id, l.suspect
FROM link l JOIN object s ON s.id = l.source_object_id JOIN object t ON t.id = l.target_object_id
WHERE s.deleted_at IS NULL AND t.deleted_at IS NULL
  AND ((s.module_id = $1 AND t.module_id = $2) OR (s.module_id = $2 AND t.module_id = $1))
  AND ($3::uuid IS NULL OR l.link_type_id = $3)
ORDER BY 1, 2, 3
"""
COVERAGE = """
WITH flags AS (
  SELECT EXISTS (SELECT 1 FROM link l WHERE l.target_object_id = o.id
                 AND ($2::uuid IS NULL OR l.link_type_id = $2)) AS up,
         EXISTS (SELECT 1 FROM link l WHERE l.source_object_id = o.id
                 AND ($2::uuid IS NULL OR l.link_type_id = $2)) AS down
  FROM object o WHERE o.module_id = $1 AND o.deleted_at IS NULL)
SELECT count(*) AS total_objects, count(*) FILTER (WHERE up) AS with_upstream,
       count(*) FILTER (WHERE down) AS with_downstream, count(*) FILTER (WHERE up OR down) AS with_any_link
FROM flags
"""
ROOT = "SELECT id FROM object WHERE id = $1 AND deleted_at IS NULL"
FORWARD = """
SELECT l.source_object_id AS from_id, l.target_object_id AS to_id, lt.name AS link_type, l.suspect
FROM link l JOIN link_type lt ON lt.id = l.link_type_id WHERE l.source_object_id = ANY($1::uuid[]) ORDER BY l.id
"""
BACKWARD = """
SELECT l.target_object_id AS from_id, l.source_object_id AS to_id, lt.name AS link_type, l.suspect
FROM link l JOIN link_type lt ON lt.id = l.link_type_id WHERE l.target_object_id = ANY($1::uuid[]) ORDER BY l.id
"""
IMPACT_OBJECTS = """
SELECT id, heading, level, module_id FROM object WHERE id = ANY($1::uuid[]) AND deleted_at IS NULL
"""


@routes.get("/api/v1/traceability-matrix", query={"source_module_id": Q(UUID, required=True),
            "target_module_id": Q(UUID, required=True), "link_type_id": UUID}, response=obj(
    ["source_objects", "target_objects", "cells"], source_objects=array(JSON_OBJ), target_objects=array(JSON_OBJ),
    cells=array(obj(["source_id", "target_id", "link_id", "suspect"], source_id=UUID, target_id=UUID, link_id=UUID,
                    suspect=BOOL))))
async def matrix(request: web.Request) -> web.Response:
    """Objects of two modules in document order and the links between them."""
    source = query_uuid(request, "source_module_id", required=True)
    target = query_uuid(request, "target_module_id", required=True)
    link_type = query_uuid(request, "link_type_id")
    assert source is not None and target is not None

    async def compute(conn: asyncpg.Connection) -> dict[str, Any]:
        await require_module(conn, source)
        await require_module(conn, target)
        return {
            "source_objects": await conn.fetch(MATRIX_OBJECTS, source),
            "target_objects": await conn.fetch(MATRIX_OBJECTS, target),
            "cells": await conn.fetch(MATRIX_CELLS, source, target, link_type),
        }

    return json_response(await database(request).read(request, compute))


def pct(part: int, total: int) -> float:
    return 100.0 * part / total if total else 0.0


@routes.get("/api/v1/modules/{module_id}/coverage", query={"link_type_id": UUID}, response=obj(
    list(COVERAGE_SHAPE), **COVERAGE_SHAPE))
async def coverage(request: web.Request) -> web.Response:
    """Share of live objects with upstream (target of a link) / downstream (source) links."""
    module_id = path_uuid(request, "module_id")
    link_type = query_uuid(request, "link_type_id")

    async def compute(conn: asyncpg.Connection) -> asyncpg.Record:
        await require_module(conn, module_id)
        return await conn.fetchrow(COVERAGE, module_id, link_type)

    row = await database(request).read(request, compute)
    total = row["total_objects"]
    return json_response({
        "total_objects": total, "with_upstream": row["with_upstream"], "with_downstream": row["with_downstream"],
        "with_any_link": row["with_any_link"], "upstream_pct": pct(row["with_upstream"], total),
        "downstream_pct": pct(row["with_downstream"], total), "any_link_pct": pct(row["with_any_link"], total),
    })


@routes.get("/api/v1/object-impact/{id}", query={
    "direction": {"type": "string", "enum": ["forward", "backward", "both"]},
    "max_depth": {"type": "integer", "minimum": 1}}, response=obj(
    ["root_id", "direction", "max_depth", "objects", "edges"], root_id=UUID, direction=STR, max_depth=INT,
    objects=array(JSON_OBJ), edges=array(JSON_OBJ)))
async def impact(request: web.Request) -> web.Response:
    """Objects reachable over links, breadth first, each once, with the edges that discovered them."""
    root = path_uuid(request, "id")
    direction = request.query.get("direction", "both")
    if direction not in ("forward", "backward", "both"):
        raise bad_request(f"invalid direction '{direction}', must be one of: forward, backward, both")
    raw_depth = request.query.get("max_depth", "5")
    try:
        max_depth = int(raw_depth)
    except ValueError:
        raise bad_request("max_depth must be an integer between 1 and 20") from None
    if max_depth < 1:
        raise bad_request("max_depth must be an integer between 1 and 20")
    max_depth = min(max_depth, 20)

    async def compute(conn: asyncpg.Connection) -> dict[str, Any]:
        if await conn.fetchval(ROOT, root) is None:
            raise not_found("object", root)
        seen: set[uuid.UUID] = {root}
        depth_of: dict[uuid.UUID, tuple[int, str]] = {}
        order: list[uuid.UUID] = []
        edges: list[dict[str, Any]] = []
        frontier = [root]
        for depth in range(1, max_depth + 1):
            if not frontier:
                break
            steps: list[tuple[asyncpg.Record, bool]] = []
            if direction in ("forward", "both"):
                steps += [(r, True) for r in await conn.fetch(FORWARD, frontier)]
            if direction in ("backward", "both"):
                steps += [(r, False) for r in await conn.fetch(BACKWARD, frontier)]
            next_frontier: list[uuid.UUID] = []
            for record, forward in steps:
                node = record["to_id"]
                if node in seen:
                    continue
                seen.add(node)
                depth_of[node] = (depth, record["link_type"])
                order.append(node)
                next_frontier.append(node)
                source, target = (record["from_id"], node) if forward else (node, record["from_id"])
                edges.append({"source_id": source, "target_id": target, "link_type": record["link_type"],
                              "suspect": record["suspect"]})
            frontier = next_frontier
        rows = {r["id"]: r for r in await conn.fetch(IMPACT_OBJECTS, order)}
        objects = [
            {"id": node, "heading": rows[node]["heading"], "level": rows[node]["level"], "depth": depth_of[node][0],
             "link_type": depth_of[node][1], "module_id": rows[node]["module_id"]}
            for node in order if node in rows
        ]
        return {"root_id": root, "direction": direction, "max_depth": max_depth, "objects": objects, "edges": edges}

    return json_response(await database(request).read(request, compute))
