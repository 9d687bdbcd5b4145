"""Attribute definitions (spec §4.5): the definitions visible in a module, and the definition rows themselves
with the in-use checks that protect objects carrying them."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from typing import Any

import asyncpg

from req1_server.domain.attributes import AttrDef
from req1_server.errors import conflict, not_found
from req1_server.http import Page
from req1_server.store.patch import update_sql
from req1_server.store.rows import paged, require_module, require_row

COLUMNS = (
    "id, module_id, name, data_type, default_value, enum_values, multi_select, depends_on, dependency_mapping, "
    "created_at"
)
VISIBLE = """
SELECT name, data_type, enum_values, multi_select, default_value, module_id FROM attribute_definition
WHERE module_id = $1 OR module_id IS NULL ORDER BY (module_id IS NULL) DESC
"""
LIST = f"""
SELECT {COLUMNS} FROM attribute_definition WHERE module_id = $1 OR module_id IS NULL
ORDER BY (module_id IS NULL), name, id OFFSET $2 LIMIT $3
"""
COUNT = "SELECT count(*) FROM attribute_definition WHERE module_id = $1 OR module_id IS NULL"
GET = f"SELECT {COLUMNS} FROM attribute_definition WHERE id = $1 AND (module_id = $2 OR module_id IS NULL)"
GET_OWN_LOCKED = f"SELECT {COLUMNS} FROM attribute_definition WHERE id = $1 AND module_id = $2 FOR UPDATE"
# before a definition changes or goes: object edits validated against the old definitions stop writing
# (store.object_writes.EDIT_WRITE), and edits in flight are waited for, so the usage check sees their values
DEFINITIONS_CHANGING = "UPDATE module SET definitions_version = definitions_version + 1 WHERE id = $1"
DUPLICATE = "SELECT 1 FROM attribute_definition WHERE module_id = $1 AND name = $2 AND id IS DISTINCT FROM $3"
INSERT = f"""
INSERT INTO attribute_definition (id, module_id, name, data_type, default_value, enum_values, multi_select,
                                  depends_on, dependency_mapping)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING {COLUMNS}
"""
USAGE = "SELECT count(*) FROM object WHERE module_id = $1 AND deleted_at IS NULL AND attributes ? $2"
USAGE_OF_VALUES = """
SELECT count(*) FROM object WHERE module_id = $1 AND deleted_at IS NULL AND attributes ? $2 AND (
   (jsonb_typeof(attributes -> $2) = 'string' AND attributes ->> $2 = ANY($3::text[]))
   OR (jsonb_typeof(attributes -> $2) = 'array' AND attributes -> $2 ?| $3::text[]))
"""
DEPENDS_ON = "SELECT 1 FROM attribute_definition WHERE id = $1 AND (module_id = $2 OR module_id IS NULL)"
ENTITY = "attribute definition"


async def visible(conn: asyncpg.Connection, module_id: uuid.UUID) -> dict[str, AttrDef]:
    """Definitions visible in a module by name; a module definition shadows a global one."""
    return definitions_from(await conn.fetch(VISIBLE, module_id))


def definitions_from(rows: Iterable[asyncpg.Record | dict[str, Any]]) -> dict[str, AttrDef]:
    """`VISIBLE` rows (or the same fields aggregated as JSON, in the same order) by name."""
    out: dict[str, AttrDef] = {}
    for row in rows:
        if row["name"] in out:
            continue
        enum_values = tuple(row["enum_values"]) if row["enum_values"] is not None else None
        out[row["name"]] = AttrDef(row["name"], row["data_type"], enum_values, row["multi_select"],
                                   row["default_value"])
    return out


async def page(conn: asyncpg.Connection, module_id: uuid.UUID, window: Page) -> tuple[list[asyncpg.Record], int]:
    await require_module(conn, module_id)
    return await paged(conn, LIST, COUNT, (module_id,), window)


async def get(conn: asyncpg.Connection, module_id: uuid.UUID, def_id: uuid.UUID) -> asyncpg.Record:
    """A module or global definition."""
    return await require_row(conn, GET, ENTITY, def_id, module_id)


async def own_locked(conn: asyncpg.Connection, module_id: uuid.UUID, def_id: uuid.UUID) -> asyncpg.Record:
    """The module's own definition, locked for a change or removal (in a transaction)."""
    await conn.execute(DEFINITIONS_CHANGING, module_id)
    return await require_row(conn, GET_OWN_LOCKED, ENTITY, def_id, module_id)


async def check_refs(conn: asyncpg.Connection, module_id: uuid.UUID, values: Mapping[str, Any],
                     def_id: uuid.UUID | None, renamed: bool = True) -> None:
    """`depends_on` must be visible in the module; names are unique per module."""
    depends_on = values.get("depends_on")
    if depends_on is not None and await conn.fetchval(DEPENDS_ON, depends_on, module_id) is None:
        raise not_found(ENTITY, depends_on)
    if renamed and await conn.fetchval(DUPLICATE, module_id, values["name"], def_id):
        raise conflict(f"attribute definition '{values['name']}' already exists in this module")


async def insert(conn: asyncpg.Connection, module_id: uuid.UUID, values: Mapping[str, Any]) -> asyncpg.Record:
    await require_module(conn, module_id)
    await check_refs(conn, module_id, values, None)
    return await conn.fetchrow(INSERT, values["id"], module_id, values["name"], values["data_type"],
                               values["default_value"], values["enum_values"], values["multi_select"],
                               values["depends_on"], values["dependency_mapping"])


async def refuse_in_use(conn: asyncpg.Connection, row: asyncpg.Record, removed_values: list[str] | None = None) -> None:
    """409 while live objects carry the attribute (or, with `removed_values`, one of those enum values)."""
    if removed_values is None:
        used = await conn.fetchval(USAGE, row["module_id"], row["name"])
    else:
        used = await conn.fetchval(USAGE_OF_VALUES, row["module_id"], row["name"], removed_values)
    if used:
        raise conflict(f"attribute definition '{row['name']}' is in use by {used} objects")


async def update(conn: asyncpg.Connection, row: asyncpg.Record, result: Mapping[str, Any]) -> asyncpg.Record:
    """Write `result` (the whole definition after the PATCH) unless the change breaks objects in use."""
    await check_refs(conn, row["module_id"], result, row["id"], renamed=result["name"] != row["name"])
    if (result["name"], result["data_type"], result["multi_select"]) != (row["name"], row["data_type"],
                                                                           row["multi_select"]):
        await refuse_in_use(conn, row)
    removed = sorted(set(row["enum_values"] or []) - set(result["enum_values"] or []))
    if removed and result["data_type"] == "enum":
        await refuse_in_use(conn, row, removed)
    fields = {k: result[k] for k in ("name", "data_type", "default_value", "enum_values", "multi_select",
                                     "depends_on", "dependency_mapping")}
    sql, args = update_sql("attribute_definition", fields, ["id"], COLUMNS)
    return await conn.fetchrow(sql, row["id"], *args)


async def delete(conn: asyncpg.Connection, module_id: uuid.UUID, def_id: uuid.UUID) -> None:
    row = await own_locked(conn, module_id, def_id)
    await refuse_in_use(conn, row)
    await conn.execute("DELETE FROM attribute_definition WHERE id = $1", def_id)
