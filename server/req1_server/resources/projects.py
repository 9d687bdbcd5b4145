"""Projects inside a workspace (spec §4.1): admin writes; nested paths 404 for a foreign workspace."""

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

routes = Routes(tag="projects")

COLUMNS = "id, workspace_id, name, description, created_at, updated_at"
WORKSPACE = "SELECT id FROM workspace WHERE id = $1"
LIST = f"SELECT {COLUMNS} FROM project WHERE workspace_id = $1 ORDER BY name, id OFFSET $2 LIMIT $3"
COUNT = "SELECT count(*) FROM project WHERE workspace_id = $1"
GET = f"SELECT {COLUMNS} FROM project WHERE id = $1 AND workspace_id = $2"
INSERT = f"""
INSERT INTO project (id, workspace_id, name, description) VALUES ($1, $2, $3, $4) RETURNING {COLUMNS}
"""
UPDATE = f"""
UPDATE project SET name = coalesce($3, name),
       description = CASE WHEN $5 THEN $4 ELSE description END, updated_at = now()
WHERE id = $1 AND workspace_id = $2 RETURNING {COLUMNS}
"""
ATTACHMENT_KEYS = """
SELECT a.storage_path FROM attachment a JOIN object o ON o.id = a.object_id JOIN module m ON m.id = o.module_id
WHERE m.project_id = $1
"""
DELETE = "DELETE FROM project WHERE id = $1 AND workspace_id = $2"


@routes.get("/api/v1/workspaces/{ws}/projects", query=PAGE, response=envelope("Project"))
async def list_projects(request: web.Request) -> web.Response:
    """Projects of a workspace, by name."""
    ws = path_uuid(request, "ws")
    page = page_params(request)
    async with database(request).acquire() as conn:
        await require_row(conn, WORKSPACE, "workspace", ws)
        items, total = await paged(conn, LIST, COUNT, (ws,), page)
    return json_response(page_envelope(items, total, page))


@routes.post("/api/v1/workspaces/{ws}/projects", role=Role.ADMIN, status=201, response=ref("Project"),
              body=obj(["name"], name=STR, description=nullable(STR)))
async def create_project(request: web.Request) -> web.Response:
    """Create a project in the workspace."""
    ws = path_uuid(request, "ws")
    body = await read_json(request)
    name = checked_name(req_str(body, "name"))
    async with database(request).acquire() as conn:
        await require_row(conn, WORKSPACE, "workspace", ws)
        row = await conn.fetchrow(INSERT, new_id(), ws, name, opt_str(body, "description"))
    return json_response(row, status=201)


@routes.get("/api/v1/workspaces/{ws}/projects/{id}", response=ref("Project"))
async def get_project(request: web.Request) -> web.Response:
    """One project."""
    ws, project_id = path_uuid(request, "ws"), path_uuid(request, "id")
    async with database(request).acquire() as conn:
        row = await require_row(conn, GET, "project", project_id, ws)
    return json_response(row)


@routes.patch("/api/v1/workspaces/{ws}/projects/{id}", role=Role.ADMIN, response=ref("Project"),
               body=obj(name=STR, description=nullable(STR)))
async def update_project(request: web.Request) -> web.Response:
    """Update name/description."""
    ws, project_id = path_uuid(request, "ws"), path_uuid(request, "id")
    body = await read_json(request)
    name = checked_name(opt_str(body, "name"))
    async with database(request).acquire() as conn:
        row = await conn.fetchrow(UPDATE, project_id, ws, name, opt_str(body, "description"), has(body, "description"))
    if row is None:
        raise not_found("project", project_id)
    return json_response(row)


@routes.delete("/api/v1/workspaces/{ws}/projects/{id}", role=Role.ADMIN)
async def delete_project(request: web.Request) -> web.Response:
    """Delete a project and its modules; attachment content goes after commit."""
    ws, project_id = path_uuid(request, "ws"), path_uuid(request, "id")

    async def run(conn: asyncpg.Connection) -> list[str]:
        keys = [r["storage_path"] for r in await conn.fetch(ATTACHMENT_KEYS, project_id)]
        if await conn.execute(DELETE, project_id, ws) == "DELETE 0":
            raise not_found("project", project_id)
        return keys

    keys = await database(request).transaction(run)
    await delete_attachment_blobs(request, keys)
    return no_content()
