"""Links between objects (spec §4.6): fingerprints of both ends stored; suspect resolution."""

from __future__ import annotations

import asyncpg
from aiohttp import web

from req1_server.apischema import BOOL, JSON_OBJ, PAGE, UUID, envelope, nullable, obj, ref
from req1_server.db import database
from req1_server.domain.ids import new_id
from req1_server.errors import bad_request, not_found, not_found_message
from req1_server.http import (
    has,
    json_response,
    no_content,
    opt_bool,
    opt_dict,
    page_envelope,
    page_params,
    path_uuid,
    query_uuid,
    read_json,
    req_uuid,
)
from req1_server.resources.common import require_row
from req1_server.routing import Role, Routes, insufficient_role, user_of

routes = Routes(tag="links")

COLUMNS = (
    "id, source_object_id, target_object_id, link_type_id, attributes, suspect, source_fingerprint, "
    "target_fingerprint, created_at, updated_at"
)
FILTER = """
($1::uuid IS NULL OR l.source_object_id = $1) AND ($2::uuid IS NULL OR l.target_object_id = $2)
AND ($3::uuid IS NULL OR l.link_type_id = $3)
AND ($4::uuid IS NULL OR l.source_object_id IN (SELECT id FROM object WHERE module_id = $4)
                      OR l.target_object_id IN (SELECT id FROM object WHERE module_id = $4))
"""
LIST = f"SELECT {COLUMNS} FROM link l WHERE {FILTER} ORDER BY l.created_at, l.id OFFSET $5 LIMIT $6"
COUNT = f"SELECT count(*) FROM link l WHERE {FILTER}"
GET = f"SELECT {COLUMNS} FROM link WHERE id = $1"
LIVE = "SELECT content_fingerprint FROM object WHERE id = $1 AND deleted_at IS NULL"
TYPE = "SELECT 1 FROM link_type WHERE id = $1"
DUPLICATE = "SELECT 1 FROM link WHERE source_object_id = $1 AND target_object_id = $2 AND link_type_id = $3"
INSERT = f"""
INSERT INTO link (id, source_object_id, target_object_id, link_type_id, attributes, source_fingerprint,
                  target_fingerprint)
VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING RETURNING {COLUMNS}
"""
RESOLVE = f"""
UPDATE link l SET suspect = false, source_fingerprint = s.content_fingerprint,
       target_fingerprint = t.content_fingerprint, attributes = CASE WHEN $3 THEN $2 ELSE l.attributes END,
       updated_at = now()
FROM object s, object t WHERE l.id = $1 AND s.id = l.source_object_id AND t.id = l.target_object_id
RETURNING {", ".join("l." + c.strip() for c in COLUMNS.split(","))}
"""
UPDATE = f"""
UPDATE link SET suspect = coalesce($2, suspect), attributes = CASE WHEN $4 THEN $3 ELSE attributes END,
       updated_at = now()
WHERE id = $1 RETURNING {COLUMNS}
"""
DUPLICATE_MESSAGE = "a link with this source, target, and type already exists"


@routes.get("/api/v1/links", response=envelope("Link"), query={
    "source_object_id": UUID, "target_object_id": UUID, "link_type_id": UUID, "module_id": UUID, **PAGE})
async def list_links(request: web.Request) -> web.Response:
    """Links filtered by ends, type, or module (either end), by creation."""
    args = [query_uuid(request, n) for n in ("source_object_id", "target_object_id", "link_type_id", "module_id")]
    page = page_params(request, default_limit=1000)
    async with database(request).acquire() as conn:
        rows = await conn.fetch(LIST, *args, page.offset, page.limit)
        total = len(rows) if page.offset == 0 and len(rows) < page.limit else await conn.fetchval(COUNT, *args)
    return json_response(page_envelope(rows, total, page))


@routes.post("/api/v1/links", status=201, response=ref("Link"), body=obj(
    ["source_object_id", "target_object_id", "link_type_id"], source_object_id=UUID, target_object_id=UUID,
    link_type_id=UUID, attributes=nullable(JSON_OBJ)))
async def create_link(request: web.Request) -> web.Response:
    """Link two live objects (modules may differ)."""
    body = await read_json(request)
    source = req_uuid(body, "source_object_id")
    target = req_uuid(body, "target_object_id")
    link_type = req_uuid(body, "link_type_id")
    attributes = opt_dict(body, "attributes")
    if source == target:
        raise bad_request("source and target must be different objects")

    async def run(conn: asyncpg.Connection) -> asyncpg.Record:
        source_fp = await conn.fetchval(LIVE, source)
        if source_fp is None:
            raise not_found_message(f"source object {source} not found")
        target_fp = await conn.fetchval(LIVE, target)
        if target_fp is None:
            raise not_found_message(f"target object {target} not found")
        if await conn.fetchval(TYPE, link_type) is None:
            raise not_found("link type", link_type)
        row = await conn.fetchrow(INSERT, new_id(), source, target, link_type, attributes, source_fp, target_fp)
        if row is None:
            raise bad_request(DUPLICATE_MESSAGE)
        return row

    return json_response(await database(request).transaction(run), status=201)


@routes.get("/api/v1/links/{id}", response=ref("Link"))
async def get_link(request: web.Request) -> web.Response:
    """One link."""
    link_id = path_uuid(request, "id")
    async with database(request).acquire() as conn:
        row = await require_row(conn, GET, "link", link_id)
    return json_response(row)


@routes.patch("/api/v1/links/{id}", role=Role.REVIEWER, body=obj(suspect=BOOL, attributes=nullable(JSON_OBJ)),
               response=ref("Link"))
async def update_link(request: web.Request) -> web.Response:
    """`suspect:false` resolves (fingerprints refreshed); reviewers may only change `suspect`."""
    link_id = path_uuid(request, "id")
    body = await read_json(request)
    if has(body, "attributes") and not user_of(request).role.at_least(Role.EDITOR):
        raise insufficient_role(Role.EDITOR)
    suspect = opt_bool(body, "suspect")
    attributes = opt_dict(body, "attributes")
    async with database(request).acquire() as conn:
        if suspect is False:
            row = await conn.fetchrow(RESOLVE, link_id, attributes, has(body, "attributes"))
        else:
            row = await conn.fetchrow(UPDATE, link_id, suspect, attributes, has(body, "attributes"))
    if row is None:
        raise not_found("link", link_id)
    return json_response(row)


@routes.delete("/api/v1/links/{id}")
async def delete_link(request: web.Request) -> web.Response:
    """Delete a link."""
    link_id = path_uuid(request, "id")
    async with database(request).acquire() as conn:
        if await conn.execute("DELETE FROM link WHERE id = $1", link_id) == "DELETE 0":
            raise not_found("link", link_id)
    return no_content()
