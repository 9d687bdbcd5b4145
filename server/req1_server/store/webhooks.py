"""Webhook subscriptions and their delivery queue (migration 0030): the table declaration for the generic CRUD,
and the SQL of the queue — claim, record an outcome, list, redeliver, purge."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import asyncpg

from req1_server.http import Page
from req1_server.store.crud import Table
from req1_server.store.rows import paged, require_row

WEBHOOKS = Table("webhook", "webhook", "id, module_id, name, url, secret, events, active, created_at, updated_at",
                 "created_at, id", parent="module_id", nullable=frozenset({"secret"}), touch=True)

DELIVERY_COLUMNS = ("id, webhook_id, event, payload, status, attempts, last_status_code, last_error, "
                    "next_attempt_at, created_at, delivered_at")

# The oldest due deliveries whose webhook has no earlier pending delivery for the same object (per-object order),
# locked with SKIP LOCKED so that processes running side by side never take the same row, and leased: their next
# attempt moves past the send's timeout, so a process that dies mid-send leaves them to be retried, not lost.
CLAIM = f"""
WITH due AS (
    SELECT d.id FROM webhook_delivery d
    WHERE d.status = 'pending' AND d.next_attempt_at <= now()
      AND NOT EXISTS (SELECT 1 FROM webhook_delivery e
                      WHERE e.webhook_id = d.webhook_id AND e.object_id = d.object_id
                        AND e.status = 'pending' AND e.seq < d.seq)
    ORDER BY d.next_attempt_at, d.seq
    LIMIT $1
    FOR UPDATE OF d SKIP LOCKED
)
UPDATE webhook_delivery w SET attempts = w.attempts + 1, next_attempt_at = now() + make_interval(secs => $2)
FROM due, webhook h
WHERE w.id = due.id AND h.id = w.webhook_id
RETURNING {", ".join("w." + c.strip() for c in DELIVERY_COLUMNS.split(","))}, h.url, h.secret, h.active
"""
NEXT_DUE = "SELECT min(next_attempt_at) FROM webhook_delivery WHERE status = 'pending'"
SUCCEEDED = """
UPDATE webhook_delivery SET status = 'success', last_status_code = $2, last_error = NULL, next_attempt_at = NULL,
       delivered_at = now()
WHERE id = $1
"""
# $3: seconds until the next attempt, or NULL when there is none (the delivery failed for good)
FAILED = """
UPDATE webhook_delivery SET last_status_code = $2, last_error = $4,
       status = CASE WHEN $3::float8 IS NULL THEN 'failed' ELSE 'pending' END,
       next_attempt_at = CASE WHEN $3::float8 IS NULL THEN NULL ELSE now() + make_interval(secs => $3::float8) END
WHERE id = $1
"""
LIST = f"""
SELECT {DELIVERY_COLUMNS} FROM webhook_delivery WHERE webhook_id = $1 ORDER BY created_at DESC, id DESC
OFFSET $2 LIMIT $3
"""
COUNT = "SELECT count(*) FROM webhook_delivery WHERE webhook_id = $1"
WEBHOOK_OF_MODULE = "SELECT id FROM webhook WHERE id = $1 AND module_id = $2"
REDELIVER = f"""
UPDATE webhook_delivery SET status = 'pending', next_attempt_at = now(), delivered_at = NULL
WHERE id = $1 AND webhook_id = $2
RETURNING {DELIVERY_COLUMNS}
"""
PURGE = """
DELETE FROM webhook_delivery WHERE status <> 'pending' AND created_at < now() - make_interval(days => $1)
"""


@dataclass(frozen=True)
class Claimed:
    """One delivery taken for sending, with what its webhook says now."""

    id: uuid.UUID
    event: str
    payload: dict[str, Any]
    attempts: int
    url: str
    secret: str | None
    active: bool


async def claim(conn: asyncpg.Connection, limit: int, lease_seconds: float) -> list[Claimed]:
    rows = await conn.fetch(CLAIM, limit, lease_seconds)
    return [Claimed(r["id"], r["event"], r["payload"], r["attempts"], r["url"], r["secret"], r["active"])
            for r in rows]


async def seconds_until_due(conn: asyncpg.Connection) -> float | None:
    """How long until the earliest pending delivery is due (0 when overdue), None when none is pending."""
    value = await conn.fetchval(f"SELECT extract(epoch FROM ({NEXT_DUE}) - now())")
    return None if value is None else max(0.0, float(value))


async def succeeded(conn: asyncpg.Connection, delivery_id: uuid.UUID, status_code: int) -> None:
    await conn.execute(SUCCEEDED, delivery_id, status_code)


async def failed(conn: asyncpg.Connection, delivery_id: uuid.UUID, status_code: int | None, error: str,
                 retry_in: float | None) -> None:
    await conn.execute(FAILED, delivery_id, status_code, retry_in, error[:1000])


async def require_webhook(conn: asyncpg.Connection, module_id: uuid.UUID, webhook_id: uuid.UUID) -> None:
    """404 for an unknown module, then for a webhook that is not the module's."""
    await require_row(conn, "SELECT id FROM module WHERE id = $1", "module", module_id)
    await require_row(conn, WEBHOOK_OF_MODULE, "webhook", webhook_id, module_id)


async def deliveries(conn: asyncpg.Connection, webhook_id: uuid.UUID, window: Page
                     ) -> tuple[list[asyncpg.Record], int]:
    return await paged(conn, LIST, COUNT, [webhook_id], window)


async def redeliver(conn: asyncpg.Connection, webhook_id: uuid.UUID, delivery_id: uuid.UUID) -> asyncpg.Record:
    """Queue a new attempt of a delivery now (its attempt count goes on), and wake the dispatchers."""
    row = await require_row(conn, REDELIVER, "webhook delivery", delivery_id, webhook_id)
    await conn.execute("SELECT pg_notify('req1_webhooks', '')")
    return row


async def purge(conn: asyncpg.Connection, days: int) -> int:
    status = await conn.execute(PURGE, days)
    return int(status.split()[-1])
