"""Diagrams of a module (extended contract §9, migration 0081): the table, and the check that linked objects
exist. A linked object must be a live object of the diagram's workspace: with per-workspace access an object
elsewhere would otherwise be confirmed to exist to someone who may not see it."""

from __future__ import annotations

import uuid

import asyncpg

from req1_server.errors import bad_request
from req1_server.store import crud

COLUMNS = ("id, module_id, name, description, diagram_type, source_code, linked_object_ids, created_by, "
           "created_at, updated_at")
TABLE = crud.Table("diagram", "diagram", COLUMNS, "created_at DESC, id DESC", parent="module_id",
                   nullable=frozenset({"description"}), touch=True)
LIVE_IN_WORKSPACE = """
SELECT o.id FROM object o JOIN module m ON m.id = o.module_id JOIN project p ON p.id = m.project_id
WHERE o.id = ANY($1::uuid[]) AND o.deleted_at IS NULL
  AND p.workspace_id = (SELECT p2.workspace_id FROM module m2 JOIN project p2 ON p2.id = m2.project_id
                        WHERE m2.id = $2)
"""


async def check_linked(conn: asyncpg.Connection, module_id: uuid.UUID, ids: list[uuid.UUID]) -> None:
    """400 ``object <id> not found`` unless every id is a live object of the module's workspace."""
    found = {r["id"] for r in await conn.fetch(LIVE_IN_WORKSPACE, ids, module_id)} if ids else set()
    for object_id in ids:
        if object_id not in found:
            raise bad_request(f"object {object_id} not found")
