"""Per-object counts a module grid shows as indicators: comments (and how many are open) and attachments.

One set-based read per module, so a grid of 10,000 rows costs one query, not one per row; objects
with nothing to show are left out.
"""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg

from req1_server.errors import not_found

MODULE_EXISTS = "SELECT EXISTS (SELECT 1 FROM module WHERE id = $1)"

COUNTS = """
WITH live AS (SELECT id FROM object WHERE module_id = $1 AND deleted_at IS NULL),
comments AS (
    SELECT object_id, count(*) AS n, count(*) FILTER (WHERE NOT resolved) AS open
    FROM comment WHERE object_id IN (SELECT id FROM live) GROUP BY object_id
),
attachments AS (
    SELECT object_id, count(*) AS n FROM attachment WHERE object_id IN (SELECT id FROM live) GROUP BY object_id
)
SELECT live.id AS object_id, coalesce(c.n, 0) AS comments, coalesce(c.open, 0) AS open_comments,
       coalesce(a.n, 0) AS attachments
FROM live
LEFT JOIN comments c ON c.object_id = live.id
LEFT JOIN attachments a ON a.object_id = live.id
WHERE c.n IS NOT NULL OR a.n IS NOT NULL
ORDER BY live.id
"""


async def module_counts(conn: asyncpg.Connection, module_id: uuid.UUID) -> dict[str, Any]:
    if not await conn.fetchval(MODULE_EXISTS, module_id):
        raise not_found("module", module_id)
    return {"module_id": module_id, "items": [dict(r) for r in await conn.fetch(COUNTS, module_id)]}
