"""Links between objects (spec §4.6): both ends' fingerprints stored at creation and on resolution, so a
later change of either end makes the link suspect (``store.history.flag_suspects``)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

import asyncpg

from req1_server.errors import bad_request, not_found, not_found_message
from req1_server.http import Page
from req1_server.store import crud
from req1_server.store.access import object_in_workspaces
from req1_server.store.patch import update_sql

LINKS = crud.Table("link", "link", "id, source_object_id, target_object_id, link_type_id, attributes, suspect, "
                   "source_fingerprint, target_fingerprint, created_at, updated_at", "created_at, id",
                   nullable=frozenset({"attributes"}), touch=True)
FILTER = f"""
($1::uuid IS NULL OR l.source_object_id = $1) AND ($2::uuid IS NULL OR l.target_object_id = $2)
AND ($3::uuid IS NULL OR l.link_type_id = $3)
AND ($4::uuid IS NULL OR l.source_object_id IN (SELECT id FROM object WHERE module_id = $4)
                      OR l.target_object_id IN (SELECT id FROM object WHERE module_id = $4))
AND {object_in_workspaces("l.source_object_id", 5)} AND {object_in_workspaces("l.target_object_id", 5)}
"""
LIST = f"SELECT {LINKS.columns} FROM link l WHERE {FILTER} ORDER BY l.created_at, l.id OFFSET $6 LIMIT $7"
COUNT = f"SELECT count(*) FROM link l WHERE {FILTER}"
TYPE = "SELECT 1 FROM link_type WHERE id = $1"
# Both ends locked FOR SHARE until the link commits: a soft delete (FOR UPDATE, then DELETE of its links) or an
# edit of either end waits for it and then sees the link; an end deleted first is not found (rechecked).
LIVE_ENDS = """
SELECT id, content_fingerprint FROM object WHERE id = ANY($1::uuid[]) AND deleted_at IS NULL ORDER BY id FOR SHARE
"""
INSERT = f"""
INSERT INTO link (id, source_object_id, target_object_id, link_type_id, attributes, source_fingerprint,
                  target_fingerprint)
VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING RETURNING {LINKS.columns}
"""
# resolving a suspect link: both ends' current fingerprints become the reviewed ones
RESOLVED = (
    "source_fingerprint = (SELECT content_fingerprint FROM object WHERE id = link.source_object_id)",
    "target_fingerprint = (SELECT content_fingerprint FROM object WHERE id = link.target_object_id)",
)
DUPLICATE_MESSAGE = "a link with this source, target, and type already exists"


async def page(conn: asyncpg.Connection, ends: tuple[uuid.UUID | None, ...], window: Page,
               within: list[uuid.UUID] | None = None) -> tuple[list[asyncpg.Record], int]:
    """Links filtered by (source, target, type, module at either end), both ends in the caller's workspaces
    (``within``); None matches any."""
    rows = await conn.fetch(LIST, *ends, within, window.offset, window.limit)
    if window.offset == 0 and len(rows) < window.limit:
        return rows, len(rows)
    return rows, await conn.fetchval(COUNT, *ends, within)


async def create(conn: asyncpg.Connection, link_id: uuid.UUID, source: uuid.UUID, target: uuid.UUID,
                 link_type: uuid.UUID, attributes: dict[str, Any] | None) -> asyncpg.Record:
    """Link two live objects (modules may differ), recording both fingerprints; run in a transaction."""
    live = {r["id"]: r["content_fingerprint"] for r in await conn.fetch(LIVE_ENDS, [source, target])}
    fingerprints = []
    for end, object_id in (("source", source), ("target", target)):
        if object_id not in live:
            raise not_found_message(f"{end} object {object_id} not found")
        fingerprints.append(live[object_id])
    if await conn.fetchval(TYPE, link_type) is None:
        raise not_found("link type", link_type)
    row = await conn.fetchrow(INSERT, link_id, source, target, link_type, attributes, *fingerprints)
    if row is None:
        raise bad_request(DUPLICATE_MESSAGE)
    return row


async def update(conn: asyncpg.Connection, link_id: uuid.UUID, updates: Mapping[str, Any]) -> asyncpg.Record:
    """A PATCH; ``suspect: false`` resolves the link (fingerprints refreshed)."""
    derived = RESOLVED if updates.get("suspect") is False else ()
    sql, args = update_sql("link", updates, ["id"], LINKS.columns, touch=True, derived=derived)
    row = await conn.fetchrow(sql, link_id, *args)
    if row is None:
        raise not_found("link", link_id)
    return row
