"""Attachment rows (spec §4.9): file name, type, size and SHA-256 of content kept in S3 under `storage_path`,
always reached through a live object."""

from __future__ import annotations

import uuid

import asyncpg

from req1_server.store.rows import live_object, require_row

COLUMNS = "id, object_id, file_name, content_type, size_bytes, storage_path, sha256, created_at"
LIST = f"SELECT {COLUMNS} FROM attachment WHERE object_id = $1 ORDER BY created_at, id"
GET = f"SELECT {COLUMNS} FROM attachment WHERE id = $1 AND object_id = $2"
INSERT = f"""
INSERT INTO attachment (id, object_id, file_name, content_type, size_bytes, storage_path, sha256, created_by)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING {COLUMNS}
"""


async def of_object(conn: asyncpg.Connection, object_id: uuid.UUID) -> list[asyncpg.Record]:
    await live_object(conn, object_id)
    return await conn.fetch(LIST, object_id)


async def get(conn: asyncpg.Connection, object_id: uuid.UUID, attachment_id: uuid.UUID) -> asyncpg.Record:
    await live_object(conn, object_id)
    return await require_row(conn, GET, "attachment", attachment_id, object_id)


async def insert(conn: asyncpg.Connection, attachment_id: uuid.UUID, object_id: uuid.UUID, file_name: str,
                 content_type: str, size: int, key: str, sha256: str, user_id: uuid.UUID) -> asyncpg.Record:
    """Record stored content, if its object is still live."""
    await live_object(conn, object_id)
    return await conn.fetchrow(INSERT, attachment_id, object_id, file_name, content_type, size, key, sha256, user_id)


async def delete(conn: asyncpg.Connection, attachment_id: uuid.UUID) -> None:
    await conn.execute("DELETE FROM attachment WHERE id = $1", attachment_id)
