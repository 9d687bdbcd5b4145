"""Traceability (spec §4.12): the matrix between two modules, a module's coverage, and the breadth-first
impact of one object over links."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg

from req1_server.store.access import object_in_workspaces
from req1_server.store.rows import live_object, require_module

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
COVERAGE = f"""
WITH flags AS (
  SELECT EXISTS (SELECT 1 FROM link l WHERE l.target_object_id = o.id
                 AND ($2::uuid IS NULL OR l.link_type_id = $2)
                 AND {object_in_workspaces("l.source_object_id", 3)}) AS up,
         EXISTS (SELECT 1 FROM link l WHERE l.source_object_id = o.id
                 AND ($2::uuid IS NULL OR l.link_type_id = $2)
                 AND {object_in_workspaces("l.target_object_id", 3)}) AS down
  FROM object o WHERE o.module_id = $1 AND o.deleted_at IS NULL)
SELECT count(*) AS total_objects, count(*) FILTER (WHERE up) AS with_upstream,
       count(*) FILTER (WHERE down) AS with_downstream, count(*) FILTER (WHERE up OR down) AS with_any_link
FROM flags
"""
# each step stays inside the caller's workspaces ($2; NULL: all): impact never walks into another workspace
FORWARD = f"""
SELECT l.source_object_id AS from_id, l.target_object_id AS to_id, lt.name AS link_type, l.suspect
FROM link l JOIN link_type lt ON lt.id = l.link_type_id
WHERE l.source_object_id = ANY($1::uuid[]) AND {object_in_workspaces("l.target_object_id", 2)} ORDER BY l.id
"""
BACKWARD = f"""
SELECT l.target_object_id AS from_id, l.source_object_id AS to_id, lt.name AS link_type, l.suspect
FROM link l JOIN link_type lt ON lt.id = l.link_type_id
WHERE l.target_object_id = ANY($1::uuid[]) AND {object_in_workspaces("l.source_object_id", 2)} ORDER BY l.id
"""
IMPACT_OBJECTS = """
SELECT id, heading, level, module_id FROM object WHERE id = ANY($1::uuid[]) AND deleted_at IS NULL
"""


async def matrix(conn: asyncpg.Connection, source: uuid.UUID, target: uuid.UUID,
                 link_type: uuid.UUID | None) -> dict[str, Any]:
    """Objects of two modules in document order and the links between them."""
    await require_module(conn, source)
    await require_module(conn, target)
    return {
        "source_objects": await conn.fetch(MATRIX_OBJECTS, source),
        "target_objects": await conn.fetch(MATRIX_OBJECTS, target),
        "cells": await conn.fetch(MATRIX_CELLS, source, target, link_type),
    }


def pct(part: int, total: int) -> float:
    return 100.0 * part / total if total else 0.0


async def coverage(conn: asyncpg.Connection, module_id: uuid.UUID, link_type: uuid.UUID | None,
                   within: list[uuid.UUID] | None = None) -> dict[str, Any]:
    """Share of live objects with upstream (target of a link) / downstream (source) links, counting only links
    whose other end is in the workspaces ``within`` (None: all)."""
    await require_module(conn, module_id)
    row = await conn.fetchrow(COVERAGE, module_id, link_type, within)
    total = row["total_objects"]
    return {
        "total_objects": total, "with_upstream": row["with_upstream"], "with_downstream": row["with_downstream"],
        "with_any_link": row["with_any_link"], "upstream_pct": pct(row["with_upstream"], total),
        "downstream_pct": pct(row["with_downstream"], total), "any_link_pct": pct(row["with_any_link"], total),
    }


class Walk:
    """Breadth-first over links from a root: each object once, with the edge that discovered it."""

    def __init__(self, root: uuid.UUID, direction: str, within: list[uuid.UUID] | None = None) -> None:
        self.direction = direction
        self.within = within
        self.seen: set[uuid.UUID] = {root}
        self.depth_of: dict[uuid.UUID, tuple[int, str]] = {}
        self.order: list[uuid.UUID] = []
        self.edges: list[dict[str, Any]] = []

    async def steps(self, conn: asyncpg.Connection, frontier: list[uuid.UUID]) -> list[tuple[asyncpg.Record, bool]]:
        steps: list[tuple[asyncpg.Record, bool]] = []
        if self.direction in ("forward", "both"):
            steps += [(r, True) for r in await conn.fetch(FORWARD, frontier, self.within)]
        if self.direction in ("backward", "both"):
            steps += [(r, False) for r in await conn.fetch(BACKWARD, frontier, self.within)]
        return steps

    def visit(self, record: asyncpg.Record, forward: bool, depth: int) -> uuid.UUID | None:
        node = record["to_id"]
        if node in self.seen:
            return None
        self.seen.add(node)
        self.depth_of[node] = (depth, record["link_type"])
        self.order.append(node)
        source, target = (record["from_id"], node) if forward else (node, record["from_id"])
        self.edges.append({"source_id": source, "target_id": target, "link_type": record["link_type"],
                           "suspect": record["suspect"]})
        return node

    async def run(self, conn: asyncpg.Connection, root: uuid.UUID, max_depth: int) -> None:
        frontier = [root]
        for depth in range(1, max_depth + 1):
            if not frontier:
                break
            found = [self.visit(record, forward, depth) for record, forward in await self.steps(conn, frontier)]
            frontier = [node for node in found if node is not None]


async def impact(conn: asyncpg.Connection, root: uuid.UUID, direction: str, max_depth: int,
                 within: list[uuid.UUID] | None = None) -> dict[str, Any]:
    """Objects reachable over links (inside the workspaces ``within``; None: all), breadth first, each once,
    with the edges that discovered them."""
    await live_object(conn, root)
    walk = Walk(root, direction, within)
    await walk.run(conn, root, max_depth)
    rows = {r["id"]: r for r in await conn.fetch(IMPACT_OBJECTS, walk.order)}
    objects = [
        {"id": node, "heading": rows[node]["heading"], "level": rows[node]["level"],
         "depth": walk.depth_of[node][0], "link_type": walk.depth_of[node][1], "module_id": rows[node]["module_id"]}
        for node in walk.order if node in rows
    ]
    return {"root_id": root, "direction": direction, "max_depth": max_depth, "objects": objects,
            "edges": walk.edges}
