"""Attribute definitions of a module (spec §4.5): typed, validated, and protected while in use."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
from aiohttp import web

from req1_server.apischema import BOOL, JSON_OBJ, PAGE, STR, STR_LIST, UUID, array, envelope, nullable, obj, ref
from req1_server.db import database
from req1_server.domain.attributes import DATA_TYPES, AttributeError_, check_definition, normalize_data_type
from req1_server.domain.ids import new_id
from req1_server.errors import bad_request, conflict, not_found
from req1_server.http import (
    has,
    json_response,
    no_content,
    opt_bool,
    opt_dict,
    opt_str,
    opt_uuid,
    page_envelope,
    page_params,
    path_uuid,
    read_json,
    req_str,
)
from req1_server.resources.common import checked_name, paged, require_module, require_row
from req1_server.routing import Routes

routes = Routes(tag="attribute-definitions")
DEFINITION_FIELDS = {
    "name": STR, "data_type": {"type": "string", "enum": [*sorted(DATA_TYPES), "boolean"]},
    "default_value": nullable(STR), "enum_values": nullable(STR_LIST), "multi_select": BOOL,
    "depends_on": nullable(UUID), "dependency_mapping": nullable(JSON_OBJ),
}

COLUMNS = (
    "id, module_id, name, data_type, default_value, enum_values, multi_select, depends_on, dependency_mapping, "
    "created_at"
)
LIST = f"""
SELECT {COLUMNS} FROM attribute_definition WHERE module_id = $1 OR module_id IS NULL
ORDER BY (module_id IS NULL), name, id OFFSET $2 LIMIT $3
"""
COUNT = "SELECT count(*) FROM attribute_definition WHERE module_id = $1 OR module_id IS NULL"
GET = f"SELECT {COLUMNS} FROM attribute_definition WHERE id = $1 AND (module_id = $2 OR module_id IS NULL)"
GET_OWN_LOCKED = f"SELECT {COLUMNS} FROM attribute_definition WHERE id = $1 AND module_id = $2 FOR UPDATE"
DUPLICATE = "SELECT 1 FROM attribute_definition WHERE module_id = $1 AND name = $2 AND id IS DISTINCT FROM $3"
INSERT = f"""
INSERT INTO attribute_definition (id, module_id, name, data_type, default_value, enum_values, multi_select,
                                  depends_on, dependency_mapping)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING {COLUMNS}
"""
UPDATE = f"""
UPDATE attribute_definition SET name = $2, data_type = $3, default_value = $4, enum_values = $5, multi_select = $6,
       depends_on = $7, dependency_mapping = $8
WHERE id = $1 RETURNING {COLUMNS}
"""
USAGE = """
SELECT count(*) FROM object WHERE module_id = $1 AND deleted_at IS NULL AND attributes ? $2
"""
USAGE_OF_VALUES = """
SELECT count(*) FROM object WHERE module_id = $1 AND deleted_at IS NULL AND attributes ? $2 AND (
   (jsonb_typeof(attributes -> $2) = 'string' AND attributes ->> $2 = ANY($3::text[]))
   OR (jsonb_typeof(attributes -> $2) = 'array' AND attributes -> $2 ?| $3::text[]))
"""
DEPENDS_ON = "SELECT 1 FROM attribute_definition WHERE id = $1 AND (module_id = $2 OR module_id IS NULL)"


def enum_values_of(body: dict[str, Any], default: Any) -> list[str] | None:
    if not has(body, "enum_values"):
        return default
    value = body.get("enum_values")
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise bad_request("field 'enum_values' must be an array of strings")
    return value


def validated(data_type: str, enum_values: list[str] | None, default_value: str | None, multi: bool) -> str:
    try:
        data_type = normalize_data_type(data_type)
        check_definition(data_type, enum_values, default_value, multi)
    except AttributeError_ as exc:
        raise bad_request(str(exc)) from None
    return data_type


async def check_depends_on(conn: asyncpg.Connection, module_id: uuid.UUID, depends_on: uuid.UUID | None) -> None:
    if depends_on is not None and await conn.fetchval(DEPENDS_ON, depends_on, module_id) is None:
        raise not_found("attribute definition", depends_on)


@routes.get("/api/v1/modules/{module_id}/attribute-definitions", query=PAGE,
            response=envelope("AttributeDefinition"))
async def list_definitions(request: web.Request) -> web.Response:
    """Module definitions then global ones, by name."""
    module_id = path_uuid(request, "module_id")
    page = page_params(request, default_limit=1000)
    async with database(request).acquire() as conn:
        await require_module(conn, module_id)
        items, total = await paged(conn, LIST, COUNT, (module_id,), page)
    return json_response(page_envelope(items, total, page))


@routes.post("/api/v1/modules/{module_id}/attribute-definitions", status=201, response=ref("AttributeDefinition"),
              body=obj(["name", "data_type"], **DEFINITION_FIELDS))
async def create_definition(request: web.Request) -> web.Response:
    """Create a definition in the module."""
    module_id = path_uuid(request, "module_id")
    body = await read_json(request)
    name = checked_name(req_str(body, "name"))
    multi = bool(opt_bool(body, "multi_select", False))
    enum_values = enum_values_of(body, None)
    default_value = opt_str(body, "default_value")
    data_type = validated(req_str(body, "data_type"), enum_values, default_value, multi)
    depends_on = opt_uuid(body, "depends_on")
    mapping = opt_dict(body, "dependency_mapping")

    async def run(conn: asyncpg.Connection) -> asyncpg.Record:
        await require_module(conn, module_id)
        await check_depends_on(conn, module_id, depends_on)
        if await conn.fetchval(DUPLICATE, module_id, name, None):
            raise conflict(f"attribute definition '{name}' already exists in this module")
        return await conn.fetchrow(INSERT, new_id(), module_id, name, data_type, default_value, enum_values, multi,
                                   depends_on, mapping)

    return json_response(await database(request).transaction(run), status=201)


@routes.get("/api/v1/modules/{module_id}/attribute-definitions/{id}", response=ref("AttributeDefinition"))
async def get_definition(request: web.Request) -> web.Response:
    """One definition (module or global)."""
    module_id, def_id = path_uuid(request, "module_id"), path_uuid(request, "id")
    async with database(request).acquire() as conn:
        row = await require_row(conn, GET, "attribute definition", def_id, module_id)
    return json_response(row)


@routes.get("/api/v1/modules/{module_id}/attribute-definitions/{id}/allowed-values", query={"parent_value": STR},
            response=array(STR))
async def allowed_values(request: web.Request) -> web.Response:
    """`dependency_mapping[parent_value]` or [] (plain array)."""
    module_id, def_id = path_uuid(request, "module_id"), path_uuid(request, "id")
    async with database(request).acquire() as conn:
        row = await require_row(conn, GET, "attribute definition", def_id, module_id)
    mapping = row["dependency_mapping"] or {}
    values = mapping.get(request.query.get("parent_value", ""), []) if isinstance(mapping, dict) else []
    return json_response(values if isinstance(values, list) else [])


@routes.patch("/api/v1/modules/{module_id}/attribute-definitions/{id}", body=obj(**DEFINITION_FIELDS),
               response=ref("AttributeDefinition"))
async def update_definition(request: web.Request) -> web.Response:
    """Update; the result is re-validated and changes that break objects in use → 409."""
    module_id, def_id = path_uuid(request, "module_id"), path_uuid(request, "id")
    body = await read_json(request)
    name_in = checked_name(opt_str(body, "name"))

    async def run(conn: asyncpg.Connection) -> asyncpg.Record:
        row = await require_row(conn, GET_OWN_LOCKED, "attribute definition", def_id, module_id)
        name = name_in or row["name"]
        multi = row["multi_select"] if body.get("multi_select") is None else opt_bool(body, "multi_select")
        enum_values = enum_values_of(body, row["enum_values"])
        default_value = opt_str(body, "default_value") if has(body, "default_value") else row["default_value"]
        data_type = validated(opt_str(body, "data_type") or row["data_type"], enum_values, default_value,
                              bool(multi))
        depends_on = opt_uuid(body, "depends_on") if has(body, "depends_on") else row["depends_on"]
        mapping = opt_dict(body, "dependency_mapping") if has(body, "dependency_mapping") else row[
            "dependency_mapping"]
        await check_depends_on(conn, module_id, depends_on)
        if name != row["name"] and await conn.fetchval(DUPLICATE, module_id, name, def_id):
            raise conflict(f"attribute definition '{name}' already exists in this module")
        if name != row["name"] or data_type != row["data_type"] or bool(multi) != row["multi_select"]:
            used = await conn.fetchval(USAGE, module_id, row["name"])
            if used:
                raise conflict(f"attribute definition '{row['name']}' is in use by {used} objects")
        removed = sorted(set(row["enum_values"] or []) - set(enum_values or []))
        if removed and data_type == "enum":
            used = await conn.fetchval(USAGE_OF_VALUES, module_id, row["name"], removed)
            if used:
                raise conflict(f"attribute definition '{row['name']}' is in use by {used} objects")
        return await conn.fetchrow(UPDATE, def_id, name, data_type, default_value, enum_values, bool(multi),
                                   depends_on, mapping)

    return json_response(await database(request).transaction(run))


@routes.delete("/api/v1/modules/{module_id}/attribute-definitions/{id}")
async def delete_definition(request: web.Request) -> web.Response:
    """Delete, unless live objects still carry the attribute (409)."""
    module_id, def_id = path_uuid(request, "module_id"), path_uuid(request, "id")

    async def run(conn: asyncpg.Connection) -> None:
        row = await require_row(conn, GET_OWN_LOCKED, "attribute definition", def_id, module_id)
        used = await conn.fetchval(USAGE, module_id, row["name"])
        if used:
            raise conflict(f"attribute definition '{row['name']}' is in use by {used} objects")
        await conn.execute("DELETE FROM attribute_definition WHERE id = $1", def_id)

    await database(request).transaction(run)
    return no_content()
