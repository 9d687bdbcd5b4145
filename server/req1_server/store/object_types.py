"""Object types (spec §1): rows of ``object_type``, the checks against the module's attribute definitions, and
the lookup object writes make to enforce a type."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import asyncpg

from req1_server.domain.object_types import LayoutError, check_layout
from req1_server.errors import bad_request, conflict
from req1_server.http import Page
from req1_server.store import crud
from req1_server.store.rows import paged, require_module

COLUMNS = ("id, module_id, name, description, default_classification, required_attributes, attribute_schema, "
           "created_at, updated_at")
TABLE = crud.Table("object_type", "object_type", COLUMNS, "name, id", nullable=frozenset({"description"}),
                   touch=True)
LIST = f"SELECT {COLUMNS} FROM object_type WHERE module_id = $1 ORDER BY name, id OFFSET $2 LIMIT $3"
COUNT = "SELECT count(*) FROM object_type WHERE module_id = $1"
ALL = f"SELECT {COLUMNS} FROM object_type WHERE module_id = $1 ORDER BY name, id"
KNOWN = """
SELECT coalesce(array_agg(name), '{}') FROM attribute_definition
WHERE (module_id = $1 OR module_id IS NULL) AND name = ANY($2::text[])
"""
DUPLICATE = "SELECT 1 FROM object_type WHERE module_id = $1 AND name = $2 AND id IS DISTINCT FROM $3"
FOR_OBJECT = "SELECT id, module_id, name, default_classification, required_attributes, attribute_schema " \
             "FROM object_type WHERE id = $1"


async def page(conn: asyncpg.Connection, module_id: uuid.UUID, window: Page) -> tuple[list[asyncpg.Record], int]:
    await require_module(conn, module_id)
    return await paged(conn, LIST, COUNT, (module_id,), window)


async def of_module(conn: asyncpg.Connection, module_id: uuid.UUID) -> list[asyncpg.Record]:
    """Every type of the module, by name (exports)."""
    return await conn.fetch(ALL, module_id)


async def check(conn: asyncpg.Connection, module_id: uuid.UUID, values: Mapping[str, Any],
                row_id: uuid.UUID | None = None) -> dict[str, Any]:
    """The values to write, checked: a unique name, known required attributes, a valid layout."""
    out = dict(values)
    if "name" in out and await conn.fetchval(DUPLICATE, module_id, out["name"], row_id):
        raise conflict(f"object type '{out['name']}' already exists in this module")
    required: Sequence[str] = out.get("required_attributes") or []
    if required:
        known = set(await conn.fetchval(KNOWN, module_id, list(required)))
        unknown = next((name for name in required if name not in known), None)
        if unknown is not None:
            raise bad_request(f"unknown attribute '{unknown}'")
        out["required_attributes"] = list(dict.fromkeys(required))
    if "attribute_schema" in out:
        try:
            out["attribute_schema"] = check_layout(out["attribute_schema"])
        except LayoutError as exc:
            raise bad_request(str(exc)) from None
    return out


async def insert(conn: asyncpg.Connection, values: Mapping[str, Any]) -> asyncpg.Record:
    await require_module(conn, values["module_id"])
    checked = await check(conn, values["module_id"], values)
    try:
        return await crud.insert(conn, TABLE, checked)
    except asyncpg.UniqueViolationError:  # a concurrent create of the same name
        raise conflict(f"object type '{values['name']}' already exists in this module") from None


async def update(conn: asyncpg.Connection, type_id: uuid.UUID, updates: Mapping[str, Any]) -> asyncpg.Record:
    row = await crud.get(conn, TABLE, type_id, lock=True)
    checked = await check(conn, row["module_id"], updates, type_id)
    try:
        return await crud.update(conn, TABLE, type_id, None, checked)
    except asyncpg.UniqueViolationError:
        raise conflict(f"object type '{updates['name']}' already exists in this module") from None


async def for_object(conn: asyncpg.Connection, type_id: uuid.UUID, module_id: uuid.UUID) -> asyncpg.Record:
    """The type an object is written with: it exists (else 400) and is of the object's module (else 400)."""
    row = await conn.fetchrow(FOR_OBJECT, type_id)
    if row is None:
        raise bad_request(f"object type '{type_id}' not found")
    if row["module_id"] != module_id:
        raise bad_request("object type must belong to the same module")
    return row
