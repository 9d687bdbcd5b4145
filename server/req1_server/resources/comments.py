"""Comments on objects (spec §4.11): reviewers comment, authors edit their own, mentions by display name."""

from __future__ import annotations

import uuid

import asyncpg
from pydantic import Field

from req1_server.errors import bad_request
from req1_server.resources.crud import Resource, Values, declare
from req1_server.routing import CurrentUser, Role, Routes, require_role
from req1_server.store.crud import Table
from req1_server.store.rows import live_object
from req1_server.typed import BodyModel, LongPaged, Name, OptBool, OptText

routes = Routes(tag="comments")

MENTIONS = """
SELECT coalesce(array_agg(id ORDER BY id), '{}') FROM app_user
WHERE active AND id <> $2 AND btrim(display_name) <> ''
  AND strpos(lower($1), '@' || lower(display_name)) > 0
"""


class CommentCreate(BodyModel):
    body: Name


class CommentPatch(BodyModel):
    body: OptText = Field(None, description="by its author or an admin; must not be blank")
    resolved: OptBool = None


async def mentions(conn: asyncpg.Connection, text: str, author: uuid.UUID) -> list[uuid.UUID]:
    """Active users whose `@Display Name` appears in the text (never the author)."""
    return list(await conn.fetchval(MENTIONS, text, author))


def own_or_admin(user: CurrentUser, row: asyncpg.Record) -> None:
    if row["author_id"] != user.id:
        require_role(user, Role.ADMIN)


async def on_create(conn: asyncpg.Connection, user: CurrentUser, values: Values) -> Values:
    return {**values, "author_id": user.id, "mentioned_user_ids": await mentions(conn, values["body"], user.id)}


async def on_update(conn: asyncpg.Connection, user: CurrentUser, row: asyncpg.Record, updates: Values) -> Values:
    """`body` by its author or an admin (mentions recomputed); `resolved` by any reviewer+."""
    if "body" in updates:
        own_or_admin(user, row)
        if not updates["body"].strip():
            raise bad_request("body must not be empty")
        updates["mentioned_user_ids"] = await mentions(conn, updates["body"], row["author_id"] or user.id)
    return updates


async def on_delete(conn: asyncpg.Connection, user: CurrentUser, row: asyncpg.Record) -> None:
    own_or_admin(user, row)


COMMENTS = Table("comment", "comment", "id, object_id, author_id, body, mentioned_user_ids, resolved, created_at, "
                 "updated_at", "created_at, id", parent="object_id", touch=True)
declare(routes, "/api/v1/objects/{object_id}/comments", Resource(
    COMMENTS, CommentCreate, CommentPatch, "comment", "comments", "Comment", write_role=Role.REVIEWER,
    parent_param="object_id", parent_check=live_object,
    parent_checked_on=frozenset({"list", "create", "get", "update", "delete"}), paging=LongPaged,
    on_create=on_create, on_update=on_update, on_delete=on_delete,
    docs={"list": "Comments of a live object, by creation.",
          "create": "Comment as the token user; mentions computed from `@Display Name`.",
          "update": "`body` by its author or an admin; `resolved` by any reviewer+.",
          "delete": "Delete by its author or an admin."},
), __name__)
