"""Attachment rows (spec §4.9): file name, type, size and SHA-256 of content kept in S3 under `storage_path`,
always reached through a live object."""

from __future__ import annotations

import uuid

import asyncpg

from req1_server.errors import not_found

COLUMNS = "id, object_id, file_name, content_type, size_bytes, storage_path, sha256, created_at"
A_COLUMNS = ", ".join(f"a.{c.strip()}" for c in COLUMNS.split(","))
# each statement checks that the object is live itself (no separate live-object query first); an object
# without attachments yields one row of NULLs, a missing or deleted object none
LIST = f"""
SELECT {A_COLUMNS} FROM object o LEFT JOIN attachment a ON a.object_id = o.id
WHERE o.id = $1 AND o.deleted_at IS NULL ORDER BY a.created_at, a.id
"""
GET = f"""
SELECT {A_COLUMNS} FROM object o LEFT JOIN attachment a ON a.object_id = o.id AND a.id = $2
WHERE o.id = $1 AND o.deleted_at IS NULL
"""
INSERT = f"""
INSERT INTO attachment (id, object_id, file_name, content_type, size_bytes, storage_path, sha256, created_by)
SELECT $1, $2, $3, $4, $5, $6, $7, $8 WHERE EXISTS (SELECT 1 FROM object WHERE id = $2 AND deleted_at IS NULL)
RETURNING {COLUMNS}
"""


async def of_object(conn: asyncpg.Connection, object_id: uuid.UUID) -> list[asyncpg.Record]:
    rows = await conn.fetch(LIST, object_id)
    if not rows:
        raise not_found("object", object_id)
    return [r for r in rows if r["id"] is not None]


async def get(conn: asyncpg.Connection, object_id: uuid.UUID, attachment_id: uuid.UUID) -> asyncpg.Record:
    row = await conn.fetchrow(GET, object_id, attachment_id)
    if row is None:
        raise not_found("object", object_id)
    if row["id"] is None:
        raise not_found("attachment", attachment_id)
    return row


async def insert(conn: asyncpg.Connection, attachment_id: uuid.UUID, object_id: uuid.UUID, file_name: str,
                 content_type: str, size: int, key: str, sha256: str, user_id: uuid.UUID) -> asyncpg.Record:
    """Record stored content, if its object is still live (404 otherwise)."""
    row = await conn.fetchrow(INSERT, attachment_id, object_id, file_name, content_type, size, key, sha256, user_id)
    if row is None:
        raise not_found("object", object_id)
    return row


async def delete(conn: asyncpg.Connection, attachment_id: uuid.UUID) -> None:
    await conn.execute("DELETE FROM attachment WHERE id = $1", attachment_id)
