"""The caller's notifications (migration 0035 writes them): a page, the unread count, marking read.

Every statement is scoped to the caller, so another user's notification is simply not found (404), never
shown or changed. Each row carries, as an added field, where its comment sits (`target`: workspace, project,
module and object), so a client can open it without further requests.
"""

from __future__ import annotations

import uuid

import asyncpg

from req1_server.http import Page
from req1_server.store.rows import paged

COLUMNS = ("n.id, n.user_id, n.notification_type, n.title, n.body, n.entity_type, n.entity_id, n.read, "
           "n.created_at")
TARGET = """
(SELECT jsonb_build_object('workspace_id', p.workspace_id, 'project_id', p.id, 'module_id', m.id,
                           'object_id', o.id)
 FROM comment c JOIN object o ON o.id = c.object_id JOIN module m ON m.id = o.module_id
 JOIN project p ON p.id = m.project_id
 WHERE n.entity_type = 'comment' AND c.id = n.entity_id) AS target
"""
SCOPE = "n.user_id = $1 AND (NOT $2::bool OR NOT n.read)"
LIST = f"""
SELECT {COLUMNS}, {TARGET} FROM notification n WHERE {SCOPE}
ORDER BY n.created_at DESC, n.id DESC OFFSET $3 LIMIT $4
"""
COUNT = f"SELECT count(*) FROM notification n WHERE {SCOPE}"
UNREAD = "SELECT count(*) FROM notification WHERE user_id = $1 AND NOT read"
READ_ONE = f"""
WITH done AS (UPDATE notification SET read = true WHERE id = $1 AND user_id = $2 RETURNING *)
SELECT {COLUMNS}, {TARGET} FROM done n
"""
READ_ALL = "UPDATE notification SET read = true WHERE user_id = $1 AND NOT read"


async def page(conn: asyncpg.Connection, user_id: uuid.UUID, unread_only: bool, window: Page
               ) -> tuple[list[asyncpg.Record], int]:
    return await paged(conn, LIST, COUNT, [user_id, unread_only], window)


async def unread(conn: asyncpg.Connection, user_id: uuid.UUID) -> int:
    return int(await conn.fetchval(UNREAD, user_id))


async def mark_read(conn: asyncpg.Connection, user_id: uuid.UUID, notification_id: uuid.UUID
                    ) -> asyncpg.Record | None:
    """The notification, now read (idempotent); None when it is not the caller's."""
    return await conn.fetchrow(READ_ONE, notification_id, user_id)


async def mark_all_read(conn: asyncpg.Connection, user_id: uuid.UUID) -> int:
    status = await conn.execute(READ_ALL, user_id)
    return int(status.split()[-1])
