"""Objects of a module (spec §4.3): the wire shape, the one live-object lookup with its version check, the
filtered/searched list and the history of one object."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import asyncpg

from req1_server.errors import conflict, not_found
from req1_server.http import Page
from req1_server.store.rows import require_module

OBJECT_COLUMNS = (
    "id, module_id, parent_id, position, level, heading, body, attributes, current_version, classification, "
    "content_fingerprint, reviewed_fingerprint, reviewed_at, reviewed_by, references_, object_type_id, "
    "lifecycle_state, lifecycle_model_id, source_object_id, source_module_id, is_placeholder, docx_source_id, "
    "deleted_at, created_at, updated_at"
)
OBJECT_KEYS = [c.strip() for c in OBJECT_COLUMNS.split(",")]


def prefixed(alias: str) -> str:
    return ", ".join(f"{alias}.{c}" for c in OBJECT_KEYS)


def object_json(row: asyncpg.Record | dict[str, Any]) -> dict[str, Any]:
    """The wire shape of an object (extra columns such as rank are kept by callers)."""
    return {key: row[key] for key in OBJECT_KEYS}


GET = f"SELECT {OBJECT_COLUMNS} FROM object WHERE id = $1 AND module_id = $2"
LIVE_LOCKED = f"{GET} AND deleted_at IS NULL FOR UPDATE"
BY_ID = f"SELECT {OBJECT_COLUMNS} FROM object WHERE id = $1"
HISTORY = """
SELECT id, object_id, module_id, version, attribute_values, heading, body, changed_by, changed_at, change_type,
       content_fingerprint, parent_id, position, level, classification, deleted_at
FROM object_history WHERE object_id = $1 AND module_id = $2 ORDER BY version DESC, id OFFSET $3 LIMIT $4
"""
HISTORY_COUNT = "SELECT count(*) FROM object_history WHERE object_id = $1 AND module_id = $2"
SORT_COLUMNS = {
    "heading": "o.heading", "body": "o.body", "current_version": "o.current_version", "updated_at": "o.updated_at",
    "classification": "o.classification", "level": "o.level_path",
}


def check_version(row: asyncpg.Record | None, object_id: uuid.UUID, expected_version: int | None) -> asyncpg.Record:
    """404 for a missing (or deleted) object, 409 when the client edited an older version."""
    if row is None:
        raise not_found("object", object_id)
    if expected_version is not None and expected_version != row["current_version"]:
        raise conflict(
            f"object {object_id} version conflict: expected {expected_version}, found {row['current_version']}"
        )
    return row


async def locked(conn: asyncpg.Connection, module_id: uuid.UUID, object_id: uuid.UUID,
                 expected_version: int | None = None) -> asyncpg.Record:
    """The live object, locked for update, at the version the client expects."""
    return check_version(await conn.fetchrow(LIVE_LOCKED, object_id, module_id), object_id, expected_version)


async def get(conn: asyncpg.Connection, module_id: uuid.UUID, object_id: uuid.UUID) -> asyncpg.Record:
    """The object, live or soft-deleted."""
    row = await conn.fetchrow(GET, object_id, module_id)
    if row is None:
        raise not_found("object", object_id)
    return row


async def reread(conn: asyncpg.Connection, object_id: uuid.UUID) -> asyncpg.Record:
    """The object as a write left it, inside the write's transaction."""
    return await conn.fetchrow(BY_ID, object_id)


async def history(conn: asyncpg.Connection, module_id: uuid.UUID, object_id: uuid.UUID,
                  window: Page) -> tuple[list[asyncpg.Record], int]:
    """Full snapshots, newest first; 404 when the object never existed in this module."""
    rows = await conn.fetch(HISTORY, object_id, module_id, window.offset, window.limit)
    total = await conn.fetchval(HISTORY_COUNT, object_id, module_id)
    if total == 0:
        raise not_found("object", object_id)
    return rows, total


# ---- the list --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filter:
    """What the object list is narrowed and ordered by (the list route's query, already validated)."""

    search: str | None = None
    include_deleted: bool = False
    heading: str | None = None
    body: str | None = None
    classification: str | None = None
    needs_review: bool = False
    sort_by: str | None = None
    sort_dir: str | None = None


def escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def order_clause(where: Filter) -> str:
    if not where.sort_by:
        return "rank DESC, o.updated_at DESC, o.id" if where.search is not None else "o.level_path, o.id"
    dirs = [d.strip().lower() for d in (where.sort_dir or "").split(",")]
    parts = []
    for index, key in enumerate(k.strip() for k in where.sort_by.split(",")):
        direction = "DESC" if index < len(dirs) and dirs[index] == "desc" else "ASC"
        parts.append(f"{SORT_COLUMNS.get(key, 'o.level_path')} {direction}")
    return ", ".join([*parts, "o.level_path", "o.id"])


def conditions(module_id: uuid.UUID, where: Filter) -> tuple[str, list[Any]]:
    """The WHERE clause and its arguments ($1 is always the search text, $2 the module)."""
    args: list[Any] = [where.search, module_id]
    parts = ["o.module_id = $2"]
    if where.search is not None:
        parts.append("o.search_vector @@ websearch_to_tsquery('english', $1)")
    if not where.include_deleted:
        parts.append("o.deleted_at IS NULL")
    for column, value in (("heading", where.heading), ("body", where.body)):
        if value:
            args.append(f"%{escape_like(value)}%")
            parts.append(f"o.{column} ILIKE ${len(args)} ESCAPE '\\'")
    if where.classification:
        args.append(where.classification)
        parts.append(f"o.classification = ${len(args)}")
    if where.needs_review:
        parts.append("o.reviewed_fingerprint IS DISTINCT FROM o.content_fingerprint")
    return " AND ".join(parts), args


def list_sql(condition: str, order: str, n: int, searching: bool, highlight_columns: str) -> str:
    if searching:
        return f"""
        SELECT p.*, {highlight_columns} FROM (
          SELECT {prefixed("o")}, o.body_text, o.level_path, ts_rank_cd(o.search_vector,
                 websearch_to_tsquery('english', $1)) AS rank
          FROM object o WHERE {condition} ORDER BY {order} OFFSET ${n + 1} LIMIT ${n + 2}) p
        ORDER BY {order.replace("o.", "p.")}
        """
    return (f"SELECT {prefixed('o')} FROM object o WHERE $1::text IS NULL AND {condition} "
            f"ORDER BY {order} OFFSET ${n + 1} LIMIT ${n + 2}")


def iso_sql(column: str) -> str:
    """``http.iso`` in SQL: ISO-8601 in UTC with ``+00:00``, six fraction digits or none when zero."""
    utc = f"({column} AT TIME ZONE 'UTC')"
    return (f"to_char({utc}, 'YYYY-MM-DD\"T\"HH24:MI:SS') || CASE WHEN date_trunc('second', {column}) = {column} "
            f"THEN '' ELSE to_char({utc}, '.US') END || '+00:00'")


TIMESTAMP_KEYS = frozenset({"reviewed_at", "deleted_at", "created_at", "updated_at"})
# the wire shape of an object as PostgreSQL writes it: the keys of object_json, in order, same values
OBJECT_JSON_COLUMNS = ", ".join(
    f"{iso_sql('o.' + key)} AS {key}" if key in TIMESTAMP_KEYS else f"o.{key}" for key in OBJECT_KEYS
)


async def listing_json(conn: asyncpg.Connection, module_id: uuid.UUID, where: Filter,
                       window: Page) -> tuple[str, int]:
    """Like :func:`listing` without a search, but the page comes back as one JSON array PostgreSQL wrote
    (``[object_json(row), …]`` in content), so no row becomes a Python value on the way to the client."""
    condition, args = conditions(module_id, where)
    order = order_clause(where)
    n = len(args)
    sql = f"""
    SELECT coalesce('[' || string_agg(j, ',' ORDER BY n) || ']', '[]') AS items, count(*) AS rows FROM (
      SELECT row_to_json(r)::text AS j, row_number() OVER (ORDER BY {order}) AS n
      FROM object o, LATERAL (SELECT {OBJECT_JSON_COLUMNS}) r
      WHERE $1::text IS NULL AND {condition} ORDER BY {order} OFFSET ${n + 1} LIMIT ${n + 2}) page
    """
    await require_module(conn, module_id)
    row = await conn.fetchrow(sql, *args, window.offset, window.limit)
    assert row is not None
    items, count = row["items"], row["rows"]
    if window.offset == 0 and count < window.limit:
        return items, count
    count_sql = f"SELECT count(*) FROM object o WHERE ($1::text IS NULL OR true) AND {condition}"
    return items, await conn.fetchval(count_sql, *args)


async def listing(conn: asyncpg.Connection, module_id: uuid.UUID, where: Filter, window: Page,
                  highlight_columns: str) -> tuple[list[asyncpg.Record], int]:
    """Objects in document order, filtered; with a search, ranked rows with the highlight columns."""
    condition, args = conditions(module_id, where)
    sql = list_sql(condition, order_clause(where), len(args), where.search is not None, highlight_columns)
    await require_module(conn, module_id)
    rows = await conn.fetch(sql, *args, window.offset, window.limit)
    if window.offset == 0 and len(rows) < window.limit:
        return rows, len(rows)
    count_sql = f"SELECT count(*) FROM object o WHERE ($1::text IS NULL OR true) AND {condition}"
    return rows, await conn.fetchval(count_sql, *args)
