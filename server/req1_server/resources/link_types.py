"""Link types (spec §4.6): global, plain-array list; a type in use cannot be deleted."""

from __future__ import annotations

import asyncpg
from aiohttp import web

from req1_server.apischema import STR, array, nullable, obj, ref
from req1_server.db import database
from req1_server.domain.ids import new_id
from req1_server.errors import conflict, not_found
from req1_server.http import has, json_response, no_content, opt_str, path_uuid, read_json, req_str
from req1_server.resources.common import checked_name, require_row
from req1_server.routing import Routes

routes = Routes(tag="link-types")

COLUMNS = "id, name, description, created_at"
LIST = f"SELECT {COLUMNS} FROM link_type ORDER BY name, id"
GET = f"SELECT {COLUMNS} FROM link_type WHERE id = $1"
INSERT = f"INSERT INTO link_type (id, name, description) VALUES ($1, $2, $3) RETURNING {COLUMNS}"
UPDATE = f"""
UPDATE link_type SET name = coalesce($2, name), description = CASE WHEN $4 THEN $3 ELSE description END
WHERE id = $1 RETURNING {COLUMNS}
"""
IN_USE = "SELECT count(*) FROM link WHERE link_type_id = $1"


@routes.get("/api/v1/link-types", response=array(ref("LinkType")))
async def list_link_types(request: web.Request) -> web.Response:
    """All link types by name (plain array)."""
    async with database(request).acquire() as conn:
        return json_response(await conn.fetch(LIST))


@routes.post("/api/v1/link-types", status=201, response=ref("LinkType"),
              body=obj(["name"], name=STR, description=nullable(STR)))
async def create_link_type(request: web.Request) -> web.Response:
    """Create a link type."""
    body = await read_json(request)
    name = checked_name(req_str(body, "name"))
    async with database(request).acquire() as conn:
        row = await conn.fetchrow(INSERT, new_id(), name, opt_str(body, "description"))
    return json_response(row, status=201)


@routes.get("/api/v1/link-types/{id}", response=ref("LinkType"))
async def get_link_type(request: web.Request) -> web.Response:
    """One link type."""
    type_id = path_uuid(request, "id")
    async with database(request).acquire() as conn:
        row = await require_row(conn, GET, "link type", type_id)
    return json_response(row)


@routes.patch("/api/v1/link-types/{id}", body=obj(name=STR, description=nullable(STR)), response=ref("LinkType"))
async def update_link_type(request: web.Request) -> web.Response:
    """Rename or describe a link type."""
    type_id = path_uuid(request, "id")
    body = await read_json(request)
    name = checked_name(opt_str(body, "name"))
    async with database(request).acquire() as conn:
        row = await conn.fetchrow(UPDATE, type_id, name, opt_str(body, "description"), has(body, "description"))
    if row is None:
        raise not_found("link type", type_id)
    return json_response(row)


@routes.delete("/api/v1/link-types/{id}")
async def delete_link_type(request: web.Request) -> web.Response:
    """Delete an unused link type (409 while links use it)."""
    type_id = path_uuid(request, "id")

    async def run(conn: asyncpg.Connection) -> None:
        if await conn.fetchrow(GET + " FOR UPDATE", type_id) is None:
            raise not_found("link type", type_id)
        used = await conn.fetchval(IN_USE, type_id)
        if used:
            raise conflict(f"link type {type_id} is still referenced by {used} links")
        await conn.execute("DELETE FROM link_type WHERE id = $1", type_id)

    await database(request).transaction(run)
    return no_content()
