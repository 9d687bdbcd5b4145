"""Row helpers every repository uses: fetch-or-404, one page plus its total, parent existence."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import asyncpg

from req1_server.errors import not_found
from req1_server.http import Page

MODULE_EXISTS = "SELECT id FROM module WHERE id = $1"
PROJECT_EXISTS = "SELECT id FROM project WHERE id = $1"
WORKSPACE_EXISTS = "SELECT id FROM workspace WHERE id = $1"
LIVE_OBJECT = "SELECT id, module_id, content_fingerprint FROM object WHERE id = $1 AND deleted_at IS NULL"


async def paged(
    conn: asyncpg.Connection, list_sql: str, count_sql: str, args: Sequence[Any], page: Page
) -> tuple[list[asyncpg.Record], int]:
    """Rows of one page (`list_sql` takes the args then OFFSET/LIMIT) and the total (`count_sql`)."""
    rows = await conn.fetch(list_sql, *args, page.offset, page.limit)
    if page.offset == 0 and len(rows) < page.limit:
        return rows, len(rows)
    total = await conn.fetchval(count_sql, *args)
    return rows, int(total)


async def require_row(conn: asyncpg.Connection, sql: str, entity: str, key: uuid.UUID, *args: Any) -> asyncpg.Record:
    row = await conn.fetchrow(sql, key, *args)
    if row is None:
        raise not_found(entity, key)
    return row


async def require_module(conn: asyncpg.Connection, module_id: uuid.UUID) -> None:
    await require_row(conn, MODULE_EXISTS, "module", module_id)


async def require_project(conn: asyncpg.Connection, project_id: uuid.UUID) -> None:
    await require_row(conn, PROJECT_EXISTS, "project", project_id)


async def live_object(conn: asyncpg.Connection, object_id: uuid.UUID) -> asyncpg.Record:
    """The live (not soft-deleted) object's id, module and fingerprint, or 404."""
    return await require_row(conn, LIVE_OBJECT, "object", object_id)
