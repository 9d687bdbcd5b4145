"""Workspaces (spec §4.1): admin writes, any role reads; DELETE cascades to everything inside."""

from __future__ import annotations

import asyncpg
from aiohttp import web

from req1_server.apischema import PAGE, STR, envelope, nullable, obj, ref
from req1_server.db import database
from req1_server.domain.ids import new_id
from req1_server.errors import not_found
from req1_server.http import (
    has,
    json_response,
    no_content,
    opt_str,
    page_envelope,
    page_params,
    path_uuid,
    read_json,
    req_str,
)
from req1_server.resources.cleanup import delete_attachment_blobs
from req1_server.resources.common import checked_name, paged, require_row
from req1_server.routing import Role, Routes

routes = Routes(tag="workspaces")

COLUMNS = "id, name, description, created_at, updated_at"
LIST = f"SELECT {COLUMNS} FROM workspace ORDER BY name, id OFFSET $1 LIMIT $2"
COUNT = "SELECT count(*) FROM workspace"
GET = f"SELECT {COLUMNS} FROM workspace WHERE id = $1"
INSERT = f"INSERT INTO workspace (id, name, description) VALUES ($1, $2, $3) RETURNING {COLUMNS}"
UPDATE = f"""
UPDATE workspace SET name = coalesce($2, name),
       description = CASE WHEN $4 THEN $3 ELSE description END, updated_at = now()
WHERE id = $1 RETURNING {COLUMNS}
"""
ATTACHMENT_KEYS = """
SELECT a.storage_path FROM attachment a JOIN object o ON o.id = a.object_id JOIN module m ON m.id = o.module_id
JOIN project p ON p.id = m.project_id WHERE p.workspace_id = $1
"""
DELETE = "DELETE FROM workspace WHERE id = $1"


@routes.get("/api/v1/workspaces", query=PAGE, response=envelope("Workspace"))
async def list_workspaces(request: web.Request) -> web.Response:
    """List workspaces by name."""
    page = page_params(request)
    async with database(request).acquire() as conn:
        items, total = await paged(conn, LIST, COUNT, (), page)
    return json_response(page_envelope(items, total, page))


@routes.post("/api/v1/workspaces", role=Role.ADMIN, status=201, response=ref("Workspace"),
              body=obj(["name"], name=STR, description=nullable(STR)))
async def create_workspace(request: web.Request) -> web.Response:
    """Create a workspace."""
    body = await read_json(request)
    name = checked_name(req_str(body, "name"))
    async with database(request).acquire() as conn:
        row = await conn.fetchrow(INSERT, new_id(), name, opt_str(body, "description"))
    return json_response(row, status=201)


@routes.get("/api/v1/workspaces/{id}", response=ref("Workspace"))
async def get_workspace(request: web.Request) -> web.Response:
    """One workspace."""
    ws_id = path_uuid(request, "id")
    async with database(request).acquire() as conn:
        row = await require_row(conn, GET, "workspace", ws_id)
    return json_response(row)


@routes.patch("/api/v1/workspaces/{id}", role=Role.ADMIN, response=ref("Workspace"),
               body=obj(name=STR, description=nullable(STR)))
async def update_workspace(request: web.Request) -> web.Response:
    """Update name/description (null clears description)."""
    ws_id = path_uuid(request, "id")
    body = await read_json(request)
    name = checked_name(opt_str(body, "name"))
    async with database(request).acquire() as conn:
        row = await conn.fetchrow(UPDATE, ws_id, name, opt_str(body, "description"), has(body, "description"))
    if row is None:
        raise not_found("workspace", ws_id)
    return json_response(row)


@routes.delete("/api/v1/workspaces/{id}", role=Role.ADMIN)
async def delete_workspace(request: web.Request) -> web.Response:
    """Delete a workspace and everything in it; attachment content goes after commit."""
    ws_id = path_uuid(request, "id")

    async def run(conn: asyncpg.Connection) -> list[str]:
        keys = [r["storage_path"] for r in await conn.fetch(ATTACHMENT_KEYS, ws_id)]
        if await conn.execute(DELETE, ws_id) == "DELETE 0":
            raise not_found("workspace", ws_id)
        return keys

    keys = await database(request).transaction(run)
    await delete_attachment_blobs(request, keys)
    return no_content()
