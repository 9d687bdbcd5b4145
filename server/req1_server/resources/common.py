"""Small helpers the domain resources share: paging queries, name checks, row lookups."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import asyncpg

from req1_server.errors import bad_request, not_found
from req1_server.http import Page


async def paged(
    conn: asyncpg.Connection, list_sql: str, count_sql: str, args: Sequence[Any], page: Page
) -> tuple[list[asyncpg.Record], int]:
    """Rows of one page (`list_sql` takes the args then OFFSET/LIMIT) and the total (`count_sql`)."""
    rows = await conn.fetch(list_sql, *args, page.offset, page.limit)
    if page.offset == 0 and len(rows) < page.limit:
        return rows, len(rows)
    total = await conn.fetchval(count_sql, *args)
    return rows, int(total)


def checked_name(value: str | None, field: str = "name") -> str | None:
    """Blank names are refused with the contract's message."""
    if value is not None and not value.strip():
        raise bad_request(f"{field} must not be empty")
    return value


async def require_row(conn: asyncpg.Connection, sql: str, entity: str, key: uuid.UUID, *args: Any) -> asyncpg.Record:
    row = await conn.fetchrow(sql, key, *args)
    if row is None:
        raise not_found(entity, key)
    return row


MODULE_EXISTS = "SELECT id FROM module WHERE id = $1"


async def require_module(conn: asyncpg.Connection, module_id: uuid.UUID) -> None:
    await require_row(conn, MODULE_EXISTS, "module", module_id)
