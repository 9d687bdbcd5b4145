"""Projects inside a workspace (spec §4.1): admin writes; nested paths 404 for a foreign workspace."""

from __future__ import annotations

import uuid

import asyncpg

from req1_server.resources.crud import Described, DescribedPatch, Resource, declare
from req1_server.resources.workspaces import delete_blobs
from req1_server.routing import CurrentUser, Role, Routes
from req1_server.store.crud import Table
from req1_server.store.rows import WORKSPACE_EXISTS, require_row

routes = Routes(tag="projects")

ATTACHMENT_KEYS = """
SELECT a.storage_path FROM attachment a JOIN object o ON o.id = a.object_id JOIN module m ON m.id = o.module_id
WHERE m.project_id = $1
"""


async def require_workspace(conn: asyncpg.Connection, workspace_id: uuid.UUID) -> None:
    await require_row(conn, WORKSPACE_EXISTS, "workspace", workspace_id)


async def attachment_keys(conn: asyncpg.Connection, user: CurrentUser, row: asyncpg.Record) -> list[str]:
    return [r["storage_path"] for r in await conn.fetch(ATTACHMENT_KEYS, row["id"])]


PROJECTS = Table("project", "project", "id, workspace_id, name, description, created_at, updated_at", "name, id",
                 parent="workspace_id", nullable=frozenset({"description"}), touch=True)
declare(routes, "/api/v1/workspaces/{ws}/projects", Resource(
    PROJECTS, Described, DescribedPatch, "project", "projects", "Project", write_role=Role.ADMIN,
    parent_param="ws", parent_check=require_workspace, on_delete=attachment_keys, after_delete=delete_blobs,
    docs={"list": "Projects of a workspace, by name.", "create": "Create a project in the workspace.",
          "delete": "Delete a project and its modules; attachment content goes after commit."},
), __name__)
