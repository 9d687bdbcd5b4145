"""Workspace members (#13, per-workspace access): who belongs to a workspace and with which role there.

Writes that could leave a workspace without an admin member lock the workspace's admin rows first, so two
concurrent removals cannot both pass the check.
"""

from __future__ import annotations

import uuid

import asyncpg

from req1_server.errors import conflict, not_found
from req1_server.http import Page
from req1_server.store.rows import WORKSPACE_EXISTS, paged, require_row

LAST_ADMIN = "only a global admin may remove or demote the workspace's last admin member"
COLUMNS = "m.user_id, u.email, u.display_name, m.role, m.created_at"
LIST = f"""
SELECT {COLUMNS} FROM workspace_member m JOIN app_user u ON u.id = m.user_id WHERE m.workspace_id = $1
ORDER BY lower(u.email), m.user_id OFFSET $2 LIMIT $3
"""
COUNT = "SELECT count(*) FROM workspace_member WHERE workspace_id = $1"
ONE = f"""
SELECT {COLUMNS} FROM workspace_member m JOIN app_user u ON u.id = m.user_id
WHERE m.workspace_id = $1 AND m.user_id = $2
"""
UPSERT = """
INSERT INTO workspace_member (workspace_id, user_id, role) VALUES ($1, $2, $3)
ON CONFLICT (workspace_id, user_id) DO UPDATE SET role = EXCLUDED.role
"""
DELETE = "DELETE FROM workspace_member WHERE workspace_id = $1 AND user_id = $2 RETURNING role"
ADMINS = "SELECT user_id FROM workspace_member WHERE workspace_id = $1 AND role = 'admin' FOR UPDATE"
USER_EXISTS = "SELECT id FROM app_user WHERE id = $1"
OF_USER = "SELECT workspace_id, role FROM workspace_member WHERE user_id = $1 ORDER BY workspace_id"


async def page(conn: asyncpg.Connection, workspace_id: uuid.UUID, window: Page) -> tuple[list[asyncpg.Record], int]:
    """The workspace's members by email (404 for an unknown workspace)."""
    await require_row(conn, WORKSPACE_EXISTS, "workspace", workspace_id)
    return await paged(conn, LIST, COUNT, [workspace_id], window)


async def of_user(conn: asyncpg.Connection, user_id: uuid.UUID) -> list[asyncpg.Record]:
    """(workspace_id, role) of every workspace the user belongs to."""
    return await conn.fetch(OF_USER, user_id)


async def add(conn: asyncpg.Connection, workspace_id: uuid.UUID, user_id: uuid.UUID, role: str) -> None:
    """Make the user a member (the creator of a workspace becomes its admin this way)."""
    await conn.execute(UPSERT, workspace_id, user_id, role)


async def put(conn: asyncpg.Connection, workspace_id: uuid.UUID, user_id: uuid.UUID, role: str,
              global_admin: bool) -> asyncpg.Record:
    """Create or change a membership; demoting the last admin member needs a global admin (409)."""
    await require_row(conn, WORKSPACE_EXISTS, "workspace", workspace_id)
    await require_row(conn, USER_EXISTS, "user", user_id)
    if role != "admin":
        await keep_an_admin(conn, workspace_id, user_id, global_admin)
    await conn.execute(UPSERT, workspace_id, user_id, role)
    return await conn.fetchrow(ONE, workspace_id, user_id)


async def remove(conn: asyncpg.Connection, workspace_id: uuid.UUID, user_id: uuid.UUID, global_admin: bool) -> None:
    """End a membership (404 when there is none); the last admin member goes only by a global admin (409)."""
    await require_row(conn, WORKSPACE_EXISTS, "workspace", workspace_id)
    await keep_an_admin(conn, workspace_id, user_id, global_admin)
    if await conn.fetchval(DELETE, workspace_id, user_id) is None:
        raise not_found("member", user_id)


async def keep_an_admin(conn: asyncpg.Connection, workspace_id: uuid.UUID, user_id: uuid.UUID,
                        global_admin: bool) -> None:
    """409 when ``user_id`` is the only admin member and the caller is not a global admin."""
    admins = [r["user_id"] for r in await conn.fetch(ADMINS, workspace_id)]
    if admins == [user_id] and not global_admin:
        raise conflict(LAST_ADMIN)
