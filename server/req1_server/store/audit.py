"""The audit log (spec §7): filtered pages of entries and the verification of their hash chain.

Entries are written by the database (migration 0017: a trigger per audited table, the caller from
``actor.py``), never here. Verification recomputes every entry's hash in one ordered scan and checks that
each entry links to the one before, ids run without a gap from 1, and the chain head (moved only by the
insert trigger) points at the last entry — so an altered, deleted or truncated entry is found.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

import asyncpg

from req1_server.http import Page
from req1_server.store.rows import paged

COLUMNS = "id, user_id, action, entity_type, entity_id, details, ip_address, created_at"
FILTERS = ("user_id", "entity_type", "entity_id", "action")

# The first entry that breaks the chain, in id order: its content does not match its hash, it does not link
# to the entry before it, or its id does not follow that entry's.
FIRST_BREAK = """
WITH chain AS (
    SELECT a.id, a.hash, a.prev_hash, req1_audit_hash(a.prev_hash, a) AS recomputed,
           lag(a.id, 1, 0::bigint) OVER w AS prev_id,
           lag(a.hash, 1, req1_audit_genesis()) OVER w AS expected_prev
    FROM audit_log a WINDOW w AS (ORDER BY a.id)
)
SELECT id, CASE WHEN id <> prev_id + 1 THEN 'missing entries before this one'
                WHEN prev_hash <> expected_prev THEN 'does not link to the entry before it'
                ELSE 'content does not match its hash' END AS problem
FROM chain
WHERE id <> prev_id + 1 OR prev_hash <> expected_prev OR hash <> recomputed
ORDER BY id LIMIT 1
"""
SUMMARY = """
SELECT h.last_id, h.last_hash, (SELECT count(*) FROM audit_log) AS entries,
       (SELECT a.id FROM audit_log a ORDER BY a.id DESC LIMIT 1) AS tail_id,
       (SELECT a.hash FROM audit_log a ORDER BY a.id DESC LIMIT 1) AS tail_hash
FROM audit_chain_head h
"""


@dataclass(frozen=True)
class Filters:
    """Exact filters, ANDed; ``since``/``until`` bound ``created_at`` inclusively."""

    user_id: uuid.UUID | None = None
    entity_type: str | None = None
    entity_id: uuid.UUID | None = None
    action: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None

    def where(self) -> tuple[str, list[Any]]:
        clauses, args = [], []
        for name in FILTERS:
            value = getattr(self, name)
            if value is not None:
                args.append(value)
                clauses.append(f"{name} = ${len(args)}")
        for op, value in ((">=", self.since), ("<=", self.until)):
            if value is not None:
                args.append(value)
                clauses.append(f"created_at {op} ${len(args)}")
        return ("WHERE " + " AND ".join(clauses)) if clauses else "", args


async def page(conn: asyncpg.Connection, filters: Filters, window: Page) -> tuple[list[asyncpg.Record], int]:
    """Newest first (the chain order, which is also time order)."""
    where, args = filters.where()
    n = len(args)
    list_sql = f"SELECT {COLUMNS} FROM audit_log {where} ORDER BY id DESC OFFSET ${n + 1} LIMIT ${n + 2}"
    return await paged(conn, list_sql, f"SELECT count(*) FROM audit_log {where}", args, window)


async def verify(conn: asyncpg.Connection) -> dict[str, Any]:
    """``{valid, entries, head: {id, hash}, first_invalid: {id, problem} | null}`` of the whole chain."""
    async with conn.transaction(isolation="repeatable_read", readonly=True):  # one snapshot for both reads
        broken = await conn.fetchrow(FIRST_BREAK)
        summary = await conn.fetchrow(SUMMARY)
    problem: dict[str, Any] | None = dict(broken) if broken is not None else None
    if problem is None and (summary["tail_id"] or 0, summary["tail_hash"]) != (
            summary["last_id"], summary["last_hash"] if summary["last_id"] else None):
        problem = {"id": summary["last_id"], "problem": "the last entries are missing"}
    return {"valid": problem is None, "entries": summary["entries"],
            "head": {"id": summary["last_id"], "hash": summary["last_hash"].hex()}, "first_invalid": problem}


RECORD = """
INSERT INTO audit_log (user_id, action, entity_type, entity_id, details, ip_address)
VALUES ($1, $2, $3, $4, $5, coalesce($6, nullif(current_setting('req1.ip', true), '')))
"""


async def record(conn: asyncpg.Connection, action: str, entity_type: str, entity_id: uuid.UUID | None, *,
                 user_id: uuid.UUID | None, details: dict[str, Any] | None = None, ip: str | None = None) -> None:
    """An entry for an event that is no row change (a login, a logout, an import), chained like the rest."""
    await conn.execute(RECORD, user_id, action, entity_type, entity_id, details, ip)
