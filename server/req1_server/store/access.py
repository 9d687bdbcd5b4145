"""Per-workspace access (#13): which workspace a resource is in, and the caller's role there.

The kinds are those ``req1_workspace_of`` (migration 0070) knows. List queries that are not already scoped to a
module filter by the caller's workspaces with the fragments below; ``None`` for the workspaces means "all" (a
global admin, or ACCESS_MODEL=global), and the fragments then cost one constant comparison.
"""

from __future__ import annotations

import uuid

import asyncpg

RESOLVE = """
SELECT w.ws, m.role FROM (SELECT req1_workspace_of($1, $2) AS ws) w
LEFT JOIN workspace_member m ON m.workspace_id = w.ws AND m.user_id = $3
"""
MEMBERSHIPS = "SELECT workspace_id FROM workspace_member WHERE user_id = $1"
SHARES = """
SELECT EXISTS (SELECT 1 FROM workspace_member a JOIN workspace_member b ON b.workspace_id = a.workspace_id
               WHERE a.user_id = $1 AND b.user_id = $2)
"""


def in_workspaces(workspace_column: str, param: int) -> str:
    """``workspace_column`` is one of the workspaces in parameter ``$param`` (a uuid[]; NULL: every one)."""
    return f"(${param}::uuid[] IS NULL OR {workspace_column} = ANY(${param}::uuid[]))"


def module_in_workspaces(module_column: str, param: int) -> str:
    """The module in ``module_column`` is in one of the workspaces of ``$param`` (NULL: every module)."""
    return (f"(${param}::uuid[] IS NULL OR {module_column} IN (SELECT m.id FROM module m JOIN project p "
            f"ON p.id = m.project_id WHERE p.workspace_id = ANY(${param}::uuid[])))")


def object_in_workspaces(object_column: str, param: int) -> str:
    """The object in ``object_column`` is in one of the workspaces of ``$param`` (NULL: every object)."""
    return (f"(${param}::uuid[] IS NULL OR {object_column} IN (SELECT o.id FROM object o JOIN module m "
            f"ON m.id = o.module_id JOIN project p ON p.id = m.project_id "
            f"WHERE p.workspace_id = ANY(${param}::uuid[])))")


async def workspace_and_role(conn: asyncpg.Connection, kind: str, key: uuid.UUID,
                             user_id: uuid.UUID) -> tuple[uuid.UUID | None, str | None]:
    """(workspace of the resource or None when there is none, the user's member role there or None)."""
    row = await conn.fetchrow(RESOLVE, kind, key, user_id)
    return (row["ws"], row["role"]) if row is not None else (None, None)


async def workspaces_of(conn: asyncpg.Connection, user_id: uuid.UUID) -> list[uuid.UUID]:
    return [r["workspace_id"] for r in await conn.fetch(MEMBERSHIPS, user_id)]


async def share_a_workspace(conn: asyncpg.Connection, user_id: uuid.UUID, other_id: uuid.UUID) -> bool:
    return bool(await conn.fetchval(SHARES, user_id, other_id))
