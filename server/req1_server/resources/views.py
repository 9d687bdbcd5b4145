"""Saved views of a module (spec §4.10): opaque configs; at most one default per module."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
from aiohttp import web

from req1_server.apischema import ANY, BOOL, PAGE, STR, envelope, obj, ref
from req1_server.db import database
from req1_server.domain.ids import new_id
from req1_server.errors import bad_request, not_found
from req1_server.http import (
    has,
    json_response,
    no_content,
    opt_bool,
    opt_str,
    page_envelope,
    page_params,
    path_uuid,
    read_json,
    req_str,
)
from req1_server.resources.common import checked_name, paged, require_module, require_row
from req1_server.routing import Routes

routes = Routes(tag="views")
VIEW_FIELDS = {"name": STR, "column_config": ANY, "filter_config": ANY, "sort_config": ANY, "is_default": BOOL}

COLUMNS = "id, module_id, name, is_default, column_config, filter_config, sort_config, created_at, updated_at"
LIST = f"SELECT {COLUMNS} FROM view WHERE module_id = $1 ORDER BY created_at, id OFFSET $2 LIMIT $3"
COUNT = "SELECT count(*) FROM view WHERE module_id = $1"
GET = f"SELECT {COLUMNS} FROM view WHERE id = $1 AND module_id = $2"
INSERT = f"""
INSERT INTO view (id, module_id, name, is_default, column_config, filter_config, sort_config)
VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {COLUMNS}
"""
UPDATE = f"""
UPDATE view SET name = $3, is_default = $4, column_config = $5, filter_config = $6, sort_config = $7,
       updated_at = now()
WHERE id = $1 AND module_id = $2 RETURNING {COLUMNS}
"""
CLEAR_DEFAULT = """
UPDATE view SET is_default = false, updated_at = now() WHERE module_id = $1 AND is_default AND id <> $2
"""


def config(body: dict[str, Any], name: str, default: Any) -> Any:
    """Configs are opaque JSON, but must be arrays/objects as their defaults are."""
    value = body.get(name)
    if value is None:
        return default
    if not isinstance(value, list | dict):
        raise bad_request(f"field '{name}' must be a JSON array or object")
    return value


@routes.get("/api/v1/modules/{module_id}/views", query=PAGE, response=envelope("View"))
async def list_views(request: web.Request) -> web.Response:
    """Views of a module, by creation."""
    module_id = path_uuid(request, "module_id")
    page = page_params(request, default_limit=1000)
    async with database(request).acquire() as conn:
        await require_module(conn, module_id)
        items, total = await paged(conn, LIST, COUNT, (module_id,), page)
    return json_response(page_envelope(items, total, page))


@routes.post("/api/v1/modules/{module_id}/views", status=201, response=ref("View"),
              body=obj(["name"], **VIEW_FIELDS))
async def create_view(request: web.Request) -> web.Response:
    """Create a view; `is_default:true` clears the module's other default."""
    module_id = path_uuid(request, "module_id")
    body = await read_json(request)
    name = checked_name(req_str(body, "name"))
    is_default = bool(opt_bool(body, "is_default", False))
    configs = (config(body, "column_config", []), config(body, "filter_config", {}), config(body, "sort_config", []))

    async def run(conn: asyncpg.Connection) -> asyncpg.Record:
        await require_module(conn, module_id)
        view_id = new_id()
        if is_default:
            await conn.execute(CLEAR_DEFAULT, module_id, view_id)
        return await conn.fetchrow(INSERT, view_id, module_id, name, is_default, *configs)

    return json_response(await database(request).transaction(run), status=201)


async def one(conn: asyncpg.Connection, view_id: uuid.UUID, module_id: uuid.UUID) -> asyncpg.Record:
    row = await require_row(conn, GET, "view", view_id, module_id)
    return row


@routes.get("/api/v1/modules/{module_id}/views/{id}", response=ref("View"))
async def get_view(request: web.Request) -> web.Response:
    """One view."""
    module_id, view_id = path_uuid(request, "module_id"), path_uuid(request, "id")
    async with database(request).acquire() as conn:
        return json_response(await one(conn, view_id, module_id))


@routes.patch("/api/v1/modules/{module_id}/views/{id}", body=obj(**VIEW_FIELDS), response=ref("View"))
async def update_view(request: web.Request) -> web.Response:
    """Update a view."""
    module_id, view_id = path_uuid(request, "module_id"), path_uuid(request, "id")
    body = await read_json(request)
    name = checked_name(opt_str(body, "name"))
    is_default = opt_bool(body, "is_default")

    async def run(conn: asyncpg.Connection) -> asyncpg.Record:
        row = await one(conn, view_id, module_id)
        default = row["is_default"] if is_default is None else is_default
        if default:
            await conn.execute(CLEAR_DEFAULT, module_id, view_id)
        return await conn.fetchrow(
            UPDATE, view_id, module_id, name or row["name"], default,
            *(config(body, key, row[key]) if has(body, key) else row[key]
              for key in ("column_config", "filter_config", "sort_config")),
        )

    return json_response(await database(request).transaction(run))


@routes.delete("/api/v1/modules/{module_id}/views/{id}")
async def delete_view(request: web.Request) -> web.Response:
    """Delete a view."""
    module_id, view_id = path_uuid(request, "module_id"), path_uuid(request, "id")
    async with database(request).acquire() as conn:
        if await conn.execute("DELETE FROM view WHERE id = $1 AND module_id = $2", view_id, module_id) == "DELETE 0":
            raise not_found("view", view_id)
    return no_content()
