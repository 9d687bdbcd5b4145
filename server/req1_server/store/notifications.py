"""The caller's notifications (migration 0035 writes them): a page, the unread count, marking read.

Every statement is scoped to the caller, so another user's notification is simply not found (404), never
shown or changed. Each row carries, as an added field, where its comment sits (`target`: workspace, project,
module and object), so a client can open it without further requests.
"""

from __future__ import annotations

import uuid

import asyncpg

from req1_server.http import Page
from req1_server.store.access import in_workspaces
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

# per-workspace access: only notifications pointing into the caller's workspaces ($n NULL: all of them)
def visible(param: int) -> str:
    return in_workspaces("req1_workspace_of(n.entity_type, n.entity_id)", param)


SCOPE = f"n.user_id = $1 AND (NOT $2::bool OR NOT n.read) AND {visible(3)}"
LIST = f"""
SELECT {COLUMNS}, {TARGET} FROM notification n WHERE {SCOPE}
ORDER BY n.created_at DESC, n.id DESC OFFSET $4 LIMIT $5
"""
COUNT = f"SELECT count(*) FROM notification n WHERE {SCOPE}"
UNREAD = f"SELECT count(*) FROM notification n WHERE n.user_id = $1 AND NOT n.read AND {visible(2)}"
READ_ONE = f"""
WITH done AS (UPDATE notification n SET read = true WHERE n.id = $1 AND n.user_id = $2 AND {visible(3)} RETURNING *)
SELECT {COLUMNS}, {TARGET} FROM done n
"""
READ_ALL = f"UPDATE notification n SET read = true WHERE n.user_id = $1 AND NOT n.read AND {visible(2)}"


Within = list[uuid.UUID] | None  # the caller's workspaces; None: every one


async def page(conn: asyncpg.Connection, user_id: uuid.UUID, unread_only: bool, window: Page,
               within: Within = None) -> tuple[list[asyncpg.Record], int]:
    return await paged(conn, LIST, COUNT, [user_id, unread_only, within], window)


async def unread(conn: asyncpg.Connection, user_id: uuid.UUID, within: Within = None) -> int:
    return int(await conn.fetchval(UNREAD, user_id, within))


async def mark_read(conn: asyncpg.Connection, user_id: uuid.UUID, notification_id: uuid.UUID,
                    within: Within = None) -> asyncpg.Record | None:
    """The notification, now read (idempotent); None when it is not the caller's (or points elsewhere)."""
    return await conn.fetchrow(READ_ONE, notification_id, user_id, within)


async def mark_all_read(conn: asyncpg.Connection, user_id: uuid.UUID, within: Within = None) -> int:
    status = await conn.execute(READ_ALL, user_id, within)
    return int(status.split()[-1])
