"""Baselines (spec §4.7): immutable snapshots of (object, version), set-based diff by content."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
from aiohttp import web

from req1_server.apischema import PAGE, STR, UUID, Q, envelope, nullable, obj, ref
from req1_server.db import database
from req1_server.domain.diff import classify
from req1_server.domain.ids import new_id
from req1_server.errors import bad_request, not_found
from req1_server.http import (
    dumps,
    json_response,
    no_content,
    opt_str,
    opt_uuid,
    page_envelope,
    page_params,
    path_uuid,
    query_uuid,
    read_json,
    req_str,
)
from req1_server.resources.common import checked_name, paged, require_module
from req1_server.routing import Role, Routes, user_of
from req1_server.store import outline

routes = Routes(tag="baselines")
DIFF_QUERY = {
    "a": Q(UUID, required=True, description="baseline A"),
    "b": Q({"anyOf": [UUID, {"type": "string", "enum": ["current"]}]}, required=True,
           description="baseline B, or `current` for the live module"),
}

COLUMNS = "id, module_id, name, description, created_by, created_at, locked, baseline_set_id"
LIST_MODULE = f"""
SELECT {COLUMNS} FROM baseline WHERE module_id = $1 ORDER BY created_at DESC, id DESC OFFSET $2 LIMIT $3
"""
COUNT_MODULE = "SELECT count(*) FROM baseline WHERE module_id = $1"
LIST_ALL = f"SELECT {COLUMNS} FROM baseline ORDER BY created_at DESC, id DESC OFFSET $1 LIMIT $2"
COUNT_ALL = "SELECT count(*) FROM baseline"
GET = f"SELECT {COLUMNS} FROM baseline WHERE id = $1"
# entries are rendered to JSON text by PostgreSQL: 10,000 entries cost no Python work per row
ENTRIES = """
SELECT coalesce(json_agg(json_build_object('baseline_id', baseline_id, 'object_id', object_id, 'version', version)
                         ORDER BY object_id), '[]')::text
FROM baseline_entry WHERE baseline_id = $1
"""
SET_EXISTS = "SELECT 1 FROM baseline_set WHERE id = $1"
INSERT = f"""
INSERT INTO baseline (id, module_id, name, description, created_by, baseline_set_id)
VALUES ($1, $2, $3, $4, $5, $6) RETURNING {COLUMNS}
"""
SNAPSHOT = """
WITH entries AS (
  INSERT INTO baseline_entry (baseline_id, object_id, version)
  SELECT $1, id, current_version FROM object WHERE module_id = $2 AND deleted_at IS NULL
  RETURNING baseline_id, object_id, version)
SELECT coalesce(json_agg(json_build_object('baseline_id', baseline_id, 'object_id', object_id, 'version', version)
                         ORDER BY object_id), '[]')::text
FROM entries
"""
DIFF_TEMPLATE = """
WITH a AS (SELECT object_id, version FROM baseline_entry WHERE baseline_id = $1),
     b AS ({b}),
     j AS (SELECT coalesce(a.object_id, b.object_id) AS object_id, a.version AS version_a, b.version AS version_b
           FROM a FULL OUTER JOIN b ON a.object_id = b.object_id
           WHERE a.version IS DISTINCT FROM b.version)
SELECT j.object_id, j.version_a, j.version_b,
       ha.heading AS heading_a, ha.body AS body_a, ha.attribute_values AS attributes_a,
       hb.heading AS heading_b, hb.body AS body_b, hb.attribute_values AS attributes_b
FROM j
-- LATERAL: one index probe per changed entry, whatever the statistics say about baseline_entry
LEFT JOIN LATERAL (SELECT heading, body, attribute_values FROM object_history h
                   WHERE h.object_id = j.object_id AND h.version = j.version_a LIMIT 1) ha ON true
LEFT JOIN LATERAL (SELECT heading, body, attribute_values FROM object_history h
                   WHERE h.object_id = j.object_id AND h.version = j.version_b LIMIT 1) hb ON true
WHERE j.version_a IS NULL OR j.version_b IS NULL
   OR (ha.heading, ha.body, ha.attribute_values) IS DISTINCT FROM (hb.heading, hb.body, hb.attribute_values)
ORDER BY j.object_id
"""
DIFF = DIFF_TEMPLATE.format(b="SELECT object_id, version FROM baseline_entry WHERE baseline_id = $2")
# the live state of the module, as if a baseline were taken now
DIFF_CURRENT = DIFF_TEMPLATE.format(
    b="SELECT id AS object_id, current_version AS version FROM object WHERE module_id = $2 AND deleted_at IS NULL"
)
SET_COLUMNS = "id, name, version, description, created_by, created_at"


def with_entries(row: asyncpg.Record, entries_json: str, status: int = 200) -> web.Response:
    """BaselineWithEntries, splicing the entries JSON text PostgreSQL produced."""
    head = dumps(dict(row))
    body = head[:-1] + ',"entries":' + entries_json + "}"
    return web.Response(status=status, body=body.encode("utf-8"), content_type="application/json")


@routes.get("/api/v1/modules/{module_id}/baselines", query=PAGE, response=envelope("Baseline"))
async def list_module_baselines(request: web.Request) -> web.Response:
    """Baselines of a module, newest first."""
    module_id = path_uuid(request, "module_id")
    page = page_params(request, default_limit=1000)
    async with database(request).acquire() as conn:
        await require_module(conn, module_id)
        items, total = await paged(conn, LIST_MODULE, COUNT_MODULE, (module_id,), page)
    return json_response(page_envelope(items, total, page))


@routes.get("/api/v1/baselines", query=PAGE, response=envelope("Baseline"))
async def list_baselines(request: web.Request) -> web.Response:
    """Baselines of all modules, newest first."""
    page = page_params(request)
    async with database(request).acquire() as conn:
        items, total = await paged(conn, LIST_ALL, COUNT_ALL, (), page)
    return json_response(page_envelope(items, total, page))


@routes.post("/api/v1/modules/{module_id}/baselines", status=201, response=ref("BaselineWithEntries"),
              body=obj(["name"], name=STR, description=nullable(STR), baseline_set_id=nullable(UUID)))
async def create_baseline(request: web.Request) -> web.Response:
    """Snapshot (object, current_version) of every live object, under the module lock."""
    module_id = path_uuid(request, "module_id")
    body = await read_json(request)
    name = checked_name(req_str(body, "name"))
    description = opt_str(body, "description")
    set_id = opt_uuid(body, "baseline_set_id")
    user = user_of(request)

    async def run(conn: asyncpg.Connection) -> tuple[asyncpg.Record, str]:
        await outline.lock_module(conn, module_id)
        if set_id is not None and await conn.fetchval(SET_EXISTS, set_id) is None:
            raise not_found("baseline set", set_id)
        row = await conn.fetchrow(INSERT, new_id(), module_id, name, description, user.id, set_id)
        return row, await conn.fetchval(SNAPSHOT, row["id"], module_id)

    row, entries = await database(request).transaction(run)
    return with_entries(row, entries, status=201)


async def module_baseline(conn: asyncpg.Connection, module_id: uuid.UUID, baseline_id: uuid.UUID) -> asyncpg.Record:
    row = await conn.fetchrow(GET, baseline_id)
    if row is None or row["module_id"] != module_id:
        raise not_found("baseline", baseline_id)
    return row


@routes.get("/api/v1/modules/{module_id}/baselines/{id}", response=ref("BaselineWithEntries"))
async def get_baseline(request: web.Request) -> web.Response:
    """A baseline with its entries."""
    module_id, baseline_id = path_uuid(request, "module_id"), path_uuid(request, "id")
    async with database(request).acquire() as conn:
        row = await module_baseline(conn, module_id, baseline_id)
        entries = await conn.fetchval(ENTRIES, baseline_id)
    return with_entries(row, entries)


@routes.delete("/api/v1/modules/{module_id}/baselines/{id}", role=Role.ADMIN)
async def delete_baseline(request: web.Request) -> web.Response:
    """Admin only: the baseline and its entries go, history stays."""
    module_id, baseline_id = path_uuid(request, "module_id"), path_uuid(request, "id")
    async with database(request).acquire() as conn:
        await module_baseline(conn, module_id, baseline_id)
        await conn.execute("DELETE FROM baseline WHERE id = $1", baseline_id)
    return no_content()


async def diff(request: web.Request, module_id: uuid.UUID | None) -> web.Response:
    a = query_uuid(request, "a", required=True)
    current = (request.query.get("b") or "").strip().lower() == "current"
    b = None if current else query_uuid(request, "b", required=True)
    assert a is not None

    async def compute(conn: asyncpg.Connection) -> dict[str, Any]:
        wanted = [a] if b is None else [a, b]
        rows = {r["id"]: r for r in await conn.fetch(f"SELECT {COLUMNS} FROM baseline WHERE id = ANY($1)", wanted)}
        for key in wanted:
            if key not in rows or (module_id is not None and rows[key]["module_id"] != module_id):
                raise not_found("baseline", key)
        if b is None:
            changes = await conn.fetch(DIFF_CURRENT, a, rows[a]["module_id"])
            return {"baseline_a": a, "baseline_b": "current", **classify(changes)}
        if rows[a]["module_id"] != rows[b]["module_id"]:
            raise bad_request("baselines belong to different modules")
        return {"baseline_a": a, "baseline_b": b, **classify(await conn.fetch(DIFF, a, b))}

    return json_response(await database(request).read(request, compute))


@routes.get("/api/v1/modules/{module_id}/baseline-diff", query=DIFF_QUERY, response=ref("BaselineDiff"))
async def module_baseline_diff(request: web.Request) -> web.Response:
    """Added / removed / modified objects between two baselines of this module (`b=current`: the live state)."""
    module_id = path_uuid(request, "module_id")
    return await diff(request, module_id)


@routes.get("/api/v1/baseline-diff", query=DIFF_QUERY, response=ref("BaselineDiff"))
async def baseline_diff(request: web.Request) -> web.Response:
    """Added / removed / modified objects between two baselines of one module."""
    return await diff(request, None)
