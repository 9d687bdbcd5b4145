"""Workspaces (spec §4.1): admin writes, any role reads; DELETE cascades to everything inside."""

from __future__ import annotations

import asyncpg
from aiohttp import web

from req1_server.resources.cleanup import delete_attachment_blobs
from req1_server.resources.crud import Described, DescribedPatch, Resource, declare
from req1_server.routing import CurrentUser, Role, Routes
from req1_server.scope import path
from req1_server.store import members
from req1_server.store.crud import Table

routes = Routes(tag="workspaces")

ATTACHMENT_KEYS = """
SELECT a.storage_path FROM attachment a JOIN object o ON o.id = a.object_id JOIN module m ON m.id = o.module_id
JOIN project p ON p.id = m.project_id WHERE p.workspace_id = $1
"""


async def attachment_keys(conn: asyncpg.Connection, user: CurrentUser, row: asyncpg.Record) -> list[str]:
    """The S3 keys of everything inside, read before the cascade removes their rows."""
    return [r["storage_path"] for r in await conn.fetch(ATTACHMENT_KEYS, row["id"])]


async def creator_is_admin(conn: asyncpg.Connection, user: CurrentUser, row: asyncpg.Record) -> None:
    """The workspace's creator becomes its admin member (per-workspace access)."""
    await members.add(conn, row["id"], user.id, Role.ADMIN.value)


async def delete_blobs(request: web.Request, keys: list[str]) -> None:
    await delete_attachment_blobs(request, keys)


WORKSPACES = Table("workspace", "workspace", "id, name, description, created_at, updated_at", "name, id",
                   nullable=frozenset({"description"}), touch=True, workspace="id")
declare(routes, "/api/v1/workspaces", Resource(
    WORKSPACES, Described, DescribedPatch, "workspace", "workspaces", "Workspace", write_role=Role.ADMIN,
    on_delete=attachment_keys, after_delete=delete_blobs, after_create=creator_is_admin,
    item_scope=(path("workspace"),),
    docs={"list": "List workspaces by name (those the caller is a member of, unless a global admin).",
          "update": "Update name/description (null clears description).",
          "delete": "Delete a workspace and everything in it; attachment content goes after commit."},
), __name__)
