"""Structural changes of objects (spec §4.3.1, §4.3.3): soft delete, moves, and placeholder sync/unlink.

Each runs under the module lock in one transaction: the outline is changed in memory (domain.outline),
changed placements are written back, and every touched object gets a version bump and a history row.
"""

from __future__ import annotations

import uuid

import asyncpg

from req1_server.db import Database
from req1_server.domain.outline import MoveError
from req1_server.errors import bad_request, not_found
from req1_server.store import objects
from req1_server.store.history import bump_and_record, flag_suspects, write_history
from req1_server.store.outline import load_skeleton, lock_module, write_skeleton
from req1_server.store.rows import LIVE_OBJECT

SOFT_DELETE = """
UPDATE object SET deleted_at = now(), current_version = current_version + 1, updated_at = now() WHERE id = $1
"""
DELETE_LINKS = "DELETE FROM link WHERE source_object_id = $1 OR target_object_id = $1"
SYNC = """
UPDATE object p SET heading = s.heading, body = s.body, body_text = s.body_text, attributes = s.attributes,
       content_fingerprint = s.content_fingerprint,
       reviewed_fingerprint = CASE WHEN p.content_fingerprint = s.content_fingerprint THEN p.reviewed_fingerprint END,
       reviewed_at = CASE WHEN p.content_fingerprint = s.content_fingerprint THEN p.reviewed_at END,
       reviewed_by = CASE WHEN p.content_fingerprint = s.content_fingerprint THEN p.reviewed_by END,
       current_version = p.current_version + 1, updated_at = now()
FROM object s
WHERE p.module_id = $1 AND p.is_placeholder AND p.deleted_at IS NULL AND s.id = p.source_object_id
  AND s.deleted_at IS NULL AND ($2::uuid IS NULL OR p.id = $2)
  AND ($3 OR p.content_fingerprint <> s.content_fingerprint)
RETURNING p.id, p.content_fingerprint
"""
BREAK_LINK = """
UPDATE object SET is_placeholder = false, source_object_id = NULL, source_module_id = NULL,
       current_version = current_version + 1, updated_at = now() WHERE id = $1
"""


async def delete(db: Database, module_id: uuid.UUID, object_id: uuid.UUID, user_id: uuid.UUID) -> None:
    """Soft delete: version bump, `delete` history, links removed, live children take its place."""

    async def run(conn: asyncpg.Connection) -> None:
        await lock_module(conn, module_id)
        await objects.locked(conn, module_id, object_id)
        skeleton = await load_skeleton(conn, module_id)
        lifted = skeleton.outline.remove(object_id)
        await conn.execute(SOFT_DELETE, object_id)
        await conn.execute(DELETE_LINKS, object_id)
        await write_history(conn, [object_id], user_id, "delete")
        await write_skeleton(conn, skeleton)
        await bump_and_record(conn, lifted, user_id, "move")

    await db.transaction(run)


async def move(db: Database, module_id: uuid.UUID, object_id: uuid.UUID, action: str, parent_id: uuid.UUID | None,
               position: int | None, expected_version: int | None, user_id: uuid.UUID) -> asyncpg.Record:
    """up / down / indent / dedent / move_to; a version bump and a `move` history row."""

    async def run(conn: asyncpg.Connection) -> asyncpg.Record:
        await lock_module(conn, module_id)
        await objects.locked(conn, module_id, object_id, expected_version)
        skeleton = await load_skeleton(conn, module_id)
        outside = action == "move_to" and parent_id is not None and parent_id not in skeleton.outline
        if outside and await conn.fetchrow(LIVE_OBJECT, parent_id) is None:
            raise not_found("object", parent_id)
        try:
            skeleton.outline.move(object_id, action, parent_id, position)
        except MoveError as exc:
            raise bad_request(str(exc)) from None
        await write_skeleton(conn, skeleton)
        await bump_and_record(conn, [object_id], user_id, "move")
        return await objects.reread(conn, object_id)

    return await db.transaction(run)


async def sync(conn: asyncpg.Connection, module_id: uuid.UUID, object_id: uuid.UUID | None, force: bool,
               user_id: uuid.UUID) -> int:
    """Copy content from the sources of the module's placeholders (one, or every changed one)."""
    rows = await conn.fetch(SYNC, module_id, object_id, force)
    ids = [r["id"] for r in rows]
    await flag_suspects(conn, [(r["id"], r["content_fingerprint"]) for r in rows])
    await write_history(conn, ids, user_id, "sync")
    return len(ids)


async def locked_placeholder(conn: asyncpg.Connection, module_id: uuid.UUID, object_id: uuid.UUID) -> asyncpg.Record:
    """The object row locked for update, refused unless it is a placeholder (sync and break-link)."""
    row = await objects.locked(conn, module_id, object_id)
    if not row["is_placeholder"]:
        raise bad_request("object is not a placeholder")
    return row


async def sync_one(db: Database, module_id: uuid.UUID, object_id: uuid.UUID, user_id: uuid.UUID) -> asyncpg.Record:
    """Copy heading, body and attributes from the placeholder's source (history `sync`)."""

    async def run(conn: asyncpg.Connection) -> asyncpg.Record:
        row = await locked_placeholder(conn, module_id, object_id)
        source = await conn.fetchrow(LIVE_OBJECT, row["source_object_id"]) if row["source_object_id"] else None
        if source is None:
            raise not_found("object", row["source_object_id"])
        await sync(conn, module_id, object_id, True, user_id)
        return await objects.reread(conn, object_id)

    return await db.transaction(run)


async def sync_all(db: Database, module_id: uuid.UUID, user_id: uuid.UUID) -> int:
    """Sync every placeholder of the module whose source changed."""

    async def run(conn: asyncpg.Connection) -> int:
        await lock_module(conn, module_id)
        return await sync(conn, module_id, None, False, user_id)

    return await db.transaction(run)


async def break_link(db: Database, module_id: uuid.UUID, object_id: uuid.UUID, user_id: uuid.UUID) -> asyncpg.Record:
    """Turn a placeholder into an ordinary object (history `update`)."""

    async def run(conn: asyncpg.Connection) -> asyncpg.Record:
        await locked_placeholder(conn, module_id, object_id)
        await conn.execute(BREAK_LINK, object_id)
        await write_history(conn, [object_id], user_id, "update")
        return await objects.reread(conn, object_id)

    return await db.transaction(run)
