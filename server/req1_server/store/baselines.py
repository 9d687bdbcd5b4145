"""Baselines (spec §4.7): immutable snapshots of (object, version) taken under the module lock, and the
set-based diff of two baselines (or of one baseline and the live module) by content."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg

from req1_server.domain.diff import classify
from req1_server.errors import bad_request, not_found
from req1_server.http import Page
from req1_server.store.access import module_in_workspaces
from req1_server.store.outline import lock_module
from req1_server.store.rows import paged, require_module

COLUMNS = "id, module_id, name, description, created_by, created_at, locked, baseline_set_id"
LIST_MODULE = f"""
SELECT {COLUMNS} FROM baseline WHERE module_id = $1 ORDER BY created_at DESC, id DESC OFFSET $2 LIMIT $3
"""
COUNT_MODULE = "SELECT count(*) FROM baseline WHERE module_id = $1"
WITHIN = module_in_workspaces("module_id", 1)
LIST_ALL = f"SELECT {COLUMNS} FROM baseline WHERE {WITHIN} ORDER BY created_at DESC, id DESC OFFSET $2 LIMIT $3"
COUNT_ALL = f"SELECT count(*) FROM baseline WHERE {WITHIN}"
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




async def page(conn: asyncpg.Connection, module_id: uuid.UUID | None, window: Page,
               within: list[uuid.UUID] | None = None) -> tuple[list[Any], int]:
    """Baselines of one module (or of all in the caller's workspaces, ``within``), newest first."""
    if module_id is None:
        return await paged(conn, LIST_ALL, COUNT_ALL, (within,), window)
    await require_module(conn, module_id)
    return await paged(conn, LIST_MODULE, COUNT_MODULE, (module_id,), window)


async def create(conn: asyncpg.Connection, baseline_id: uuid.UUID, module_id: uuid.UUID, name: str,
                 description: str | None, set_id: uuid.UUID | None, user_id: uuid.UUID) -> tuple[asyncpg.Record, str]:
    """Snapshot (object, current_version) of every live object; the row and its entries as JSON text."""
    await lock_module(conn, module_id)
    if set_id is not None and await conn.fetchval(SET_EXISTS, set_id) is None:
        raise not_found("baseline set", set_id)
    row = await conn.fetchrow(INSERT, baseline_id, module_id, name, description, user_id, set_id)
    return row, await conn.fetchval(SNAPSHOT, row["id"], module_id)


async def of_module(conn: asyncpg.Connection, module_id: uuid.UUID, baseline_id: uuid.UUID) -> asyncpg.Record:
    row = await conn.fetchrow(GET, baseline_id)
    if row is None or row["module_id"] != module_id:
        raise not_found("baseline", baseline_id)
    return row


async def with_entries(conn: asyncpg.Connection, module_id: uuid.UUID,
                       baseline_id: uuid.UUID) -> tuple[asyncpg.Record, str]:
    row = await of_module(conn, module_id, baseline_id)
    return row, await conn.fetchval(ENTRIES, baseline_id)


async def delete(conn: asyncpg.Connection, module_id: uuid.UUID, baseline_id: uuid.UUID) -> None:
    """The baseline and its entries go, history stays."""
    await of_module(conn, module_id, baseline_id)
    await conn.execute("DELETE FROM baseline WHERE id = $1", baseline_id)


async def diff(conn: asyncpg.Connection, module_id: uuid.UUID | None, a: uuid.UUID,
               b: uuid.UUID | None) -> dict[str, Any]:
    """Added / removed / modified between baselines `a` and `b` (None: the live module), of one module."""
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
