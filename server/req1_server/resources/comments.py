"""Comments on objects (spec §4.11): reviewers comment, authors edit their own, mentions by display name."""

from __future__ import annotations

import uuid

import asyncpg
from aiohttp import web

from req1_server.apischema import BOOL, PAGE, STR, envelope, obj, ref
from req1_server.db import database
from req1_server.domain.ids import new_id
from req1_server.errors import bad_request, not_found
from req1_server.http import (
    json_response,
    no_content,
    opt_bool,
    opt_str,
    page_envelope,
    page_params,
    path_uuid,
    read_json,
    req_str,
)
from req1_server.resources.common import paged, require_row
from req1_server.routing import Role, Routes, require_role, user_of

routes = Routes(tag="comments")

COLUMNS = "id, object_id, author_id, body, mentioned_user_ids, resolved, created_at, updated_at"
LIVE_OBJECT = "SELECT 1 FROM object WHERE id = $1 AND deleted_at IS NULL"
LIST = f"SELECT {COLUMNS} FROM comment WHERE object_id = $1 ORDER BY created_at, id OFFSET $2 LIMIT $3"
COUNT = "SELECT count(*) FROM comment WHERE object_id = $1"
GET = f"SELECT {COLUMNS} FROM comment WHERE id = $1 AND object_id = $2"
MENTIONS = """
SELECT coalesce(array_agg(id ORDER BY id), '{}') FROM app_user
WHERE active AND id <> $2 AND btrim(display_name) <> ''
  AND strpos(lower($1), '@' || lower(display_name)) > 0
"""
INSERT = f"""
INSERT INTO comment (id, object_id, author_id, body, mentioned_user_ids) VALUES ($1, $2, $3, $4, $5)
RETURNING {COLUMNS}
"""
UPDATE = f"""
UPDATE comment SET body = $3, mentioned_user_ids = $4, resolved = $5, updated_at = now()
WHERE id = $1 AND object_id = $2 RETURNING {COLUMNS}
"""


def checked_body(value: str) -> str:
    if not value.strip():
        raise bad_request("body must not be empty")
    return value


async def live_object(conn: asyncpg.Connection, object_id: uuid.UUID) -> None:
    if await conn.fetchval(LIVE_OBJECT, object_id) is None:
        raise not_found("object", object_id)


@routes.get("/api/v1/objects/{object_id}/comments", query=PAGE, response=envelope("Comment"))
async def list_comments(request: web.Request) -> web.Response:
    """Comments of a live object, by creation."""
    object_id = path_uuid(request, "object_id")
    page = page_params(request, default_limit=1000)
    async with database(request).acquire() as conn:
        await live_object(conn, object_id)
        items, total = await paged(conn, LIST, COUNT, (object_id,), page)
    return json_response(page_envelope(items, total, page))


@routes.post("/api/v1/objects/{object_id}/comments", role=Role.REVIEWER, body=obj(["body"], body=STR), status=201,
              response=ref("Comment"))
async def create_comment(request: web.Request) -> web.Response:
    """Comment as the token user; mentions computed from `@Display Name`."""
    object_id = path_uuid(request, "object_id")
    body = checked_body(req_str(await read_json(request), "body"))
    user = user_of(request)
    async with database(request).acquire() as conn:
        await live_object(conn, object_id)
        mentions = await conn.fetchval(MENTIONS, body, user.id)
        row = await conn.fetchrow(INSERT, new_id(), object_id, user.id, body, mentions)
    return json_response(row, status=201)


@routes.get("/api/v1/objects/{object_id}/comments/{id}", response=ref("Comment"))
async def get_comment(request: web.Request) -> web.Response:
    """One comment."""
    object_id, comment_id = path_uuid(request, "object_id"), path_uuid(request, "id")
    async with database(request).acquire() as conn:
        await live_object(conn, object_id)
        row = await require_row(conn, GET, "comment", comment_id, object_id)
    return json_response(row)


@routes.patch("/api/v1/objects/{object_id}/comments/{id}", role=Role.REVIEWER, body=obj(body=STR, resolved=BOOL),
               response=ref("Comment"))
async def update_comment(request: web.Request) -> web.Response:
    """`body` by its author or an admin; `resolved` by any reviewer+."""
    object_id, comment_id = path_uuid(request, "object_id"), path_uuid(request, "id")
    payload = await read_json(request)
    new_body = opt_str(payload, "body")
    resolved = opt_bool(payload, "resolved")
    user = user_of(request)

    async def run(conn: asyncpg.Connection) -> asyncpg.Record:
        await live_object(conn, object_id)
        row = await conn.fetchrow(GET + " FOR UPDATE", comment_id, object_id)
        if row is None:
            raise not_found("comment", comment_id)
        body, mentions = row["body"], row["mentioned_user_ids"]
        if new_body is not None:
            if row["author_id"] != user.id:
                require_role(user, Role.ADMIN)
            body = checked_body(new_body)
            mentions = await conn.fetchval(MENTIONS, body, row["author_id"] or user.id)
        return await conn.fetchrow(UPDATE, comment_id, object_id, body, mentions,
                                   row["resolved"] if resolved is None else resolved)

    return json_response(await database(request).transaction(run))


@routes.delete("/api/v1/objects/{object_id}/comments/{id}", role=Role.REVIEWER)
async def delete_comment(request: web.Request) -> web.Response:
    """Delete by its author or an admin."""
    object_id, comment_id = path_uuid(request, "object_id"), path_uuid(request, "id")
    user = user_of(request)
    async with database(request).acquire() as conn:
        await live_object(conn, object_id)
        row = await require_row(conn, GET, "comment", comment_id, object_id)
        if row["author_id"] != user.id:
            require_role(user, Role.ADMIN)
        await conn.execute("DELETE FROM comment WHERE id = $1", comment_id)
    return no_content()
