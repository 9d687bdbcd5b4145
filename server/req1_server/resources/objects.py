"""Objects of a module (spec §4.3, §4.4): list/filter/search, create, update, soft delete, moves,
placeholders and history. Handlers parse and authorize; the rules live in domain/ and object_ops."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
from aiohttp import web

from req1_server.apischema import (
    BOOL_Q,
    INT,
    NO_BODY,
    OBJECT_CREATE,
    OBJECT_MOVE,
    OBJECT_QUERY,
    OBJECT_UPDATE,
    PAGE,
    envelope,
    obj,
    ref,
)
from req1_server.db import database
from req1_server.domain.attributes import AttributeError_, check_required, validate_attributes
from req1_server.domain.fingerprint import content_fingerprint
from req1_server.domain.ids import new_id
from req1_server.domain.outline import MoveError
from req1_server.domain.sanitize import html_to_text, sanitize_html
from req1_server.errors import bad_request, conflict, not_found
from req1_server.http import (
    has,
    json_response,
    no_content,
    opt_bool,
    opt_int,
    opt_str,
    opt_uuid,
    page_envelope,
    page_params,
    path_uuid,
    query_bool,
    read_json,
    read_json_optional,
)
from req1_server.resources import object_ops as ops
from req1_server.resources.common import require_module
from req1_server.resources.search import HIGHLIGHT_COLUMNS, highlight
from req1_server.routing import Role, Routes, insufficient_role, user_of

routes = Routes(tag="objects")

CLASSIFICATIONS = ("normative", "informative", "heading")
SORT_COLUMNS = {
    "heading": "o.heading",
    "body": "o.body",
    "current_version": "o.current_version",
    "updated_at": "o.updated_at",
    "classification": "o.classification",
    "level": "o.level_path",
}
GET = f"SELECT {ops.OBJECT_COLUMNS} FROM object WHERE id = $1 AND module_id = $2"
GET_LIVE_LOCKED = (
    f"SELECT {ops.OBJECT_COLUMNS} FROM object WHERE id = $1 AND module_id = $2 AND deleted_at IS NULL FOR UPDATE"
)
LIVE_OBJECT = "SELECT id, module_id FROM object WHERE id = $1 AND deleted_at IS NULL"
SOURCE_OBJECT = "SELECT id, module_id, heading, body, attributes, is_placeholder FROM object WHERE id = $1"
RETURN = f"SELECT {ops.OBJECT_COLUMNS} FROM object WHERE id = $1"
SET_CONTENT = """
UPDATE object SET heading = $2, body = $3, body_text = $4, attributes = $5, classification = $6,
       content_fingerprint = $7,
       reviewed_fingerprint = CASE $8 WHEN 'set' THEN $7 WHEN 'clear' THEN NULL ELSE reviewed_fingerprint END,
       reviewed_at = CASE $8 WHEN 'set' THEN now() WHEN 'clear' THEN NULL ELSE reviewed_at END,
       reviewed_by = CASE $8 WHEN 'set' THEN $9 WHEN 'clear' THEN NULL ELSE reviewed_by END,
       references_ = $10, lifecycle_state = $11, current_version = current_version + 1, updated_at = now()
"""
UPDATE_CONTENT = f"{SET_CONTENT}WHERE id = $1 RETURNING {ops.OBJECT_COLUMNS}"
REQUIRED_ATTRIBUTES = "SELECT required_attributes FROM module WHERE id = $1"
# a content-only PATCH in two statements: the row with what validation needs ($3: attribute definitions
# wanted), then update + suspect flagging + history snapshot in one statement that applies only if the
# version is still the one read ($13), so it needs no transaction block and no row lock held in between
EDIT_READ = f"""
SELECT {ops.prefixed("o")}, m.required_attributes AS module_required_attributes,
       CASE WHEN $3 THEN (
         SELECT json_agg(json_build_object('name', d.name, 'data_type', d.data_type, 'enum_values', d.enum_values,
                                           'multi_select', d.multi_select, 'default_value', d.default_value)
                         ORDER BY (d.module_id IS NULL) DESC)
         FROM attribute_definition d WHERE d.module_id = $2 OR d.module_id IS NULL) END AS module_definitions
FROM object o JOIN module m ON m.id = o.module_id
WHERE o.id = $1 AND o.module_id = $2 AND o.deleted_at IS NULL
"""
EDIT_READ_LOCKED = EDIT_READ + "FOR UPDATE OF o"
EDIT_WRITE = f"""
WITH updated AS ({SET_CONTENT.strip()}
  WHERE id = $1 AND current_version = $13 AND deleted_at IS NULL RETURNING {ops.OBJECT_COLUMNS}),
suspect AS (
  UPDATE link l SET suspect = true, updated_at = now()
  WHERE $12 AND NOT l.suspect AND EXISTS (SELECT 1 FROM updated)
    AND ((l.source_object_id = $1 AND l.source_fingerprint IS DISTINCT FROM $7)
      OR (l.target_object_id = $1 AND l.target_fingerprint IS DISTINCT FROM $7))),
history AS (
  INSERT INTO object_history (object_id, module_id, version, attribute_values, heading, body, changed_by, change_type,
                              content_fingerprint, parent_id, position, level, classification, deleted_at, changed_at)
  SELECT id, module_id, current_version, attributes, heading, body, $9, 'update', content_fingerprint, parent_id,
         position, level, classification, deleted_at, now()
  FROM updated)
SELECT * FROM updated
"""
SOFT_DELETE = """
UPDATE object SET deleted_at = now(), current_version = current_version + 1, updated_at = now() WHERE id = $1
"""
DELETE_LINKS = "DELETE FROM link WHERE source_object_id = $1 OR target_object_id = $1"
HISTORY = """
SELECT id, object_id, module_id, version, attribute_values, heading, body, changed_by, changed_at, change_type,
       content_fingerprint, parent_id, position, level, classification, deleted_at
FROM object_history WHERE object_id = $1 AND module_id = $2 ORDER BY version DESC, id OFFSET $3 LIMIT $4
"""
HISTORY_COUNT = "SELECT count(*) FROM object_history WHERE object_id = $1 AND module_id = $2"
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
PATCH_FIELDS = {"parent_id", "position", "heading", "body", "attributes", "reviewed", "classification", "references",
                "references_", "object_type_id", "lifecycle_state"}
REVIEWER_FIELDS = {"reviewed", "expected_version"}
OPTIMISTIC_ATTEMPTS = 2  # content-only PATCH: version-guarded tries before falling back to row locking


def escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def classification_of(value: str | None, default: str) -> str:
    if value is None:
        return default
    if value not in CLASSIFICATIONS:
        raise bad_request(f"invalid classification '{value}', must be one of: normative, informative, heading")
    return value


def references_of(body: dict[str, Any], default: Any) -> Any:
    for key in ("references", "references_"):
        value = body.get(key)
        if value is not None:
            if not isinstance(value, list):
                raise bad_request(f"field '{key}' must be an array")
            return value
    return default


def must_be_null(body: dict[str, Any], field: str, entity: str) -> None:
    value = body.get(field)
    if value is not None:
        raise bad_request(f"{entity} '{value}' not found")


# ---- list ------------------------------------------------------------------------------------


def order_clause(request: web.Request, searching: bool) -> str:
    raw_by = request.query.get("sort_by")
    if not raw_by:
        return "rank DESC, o.updated_at DESC, o.id" if searching else "o.level_path, o.id"
    dirs = [d.strip().lower() for d in request.query.get("sort_dir", "").split(",")]
    parts = []
    for index, key in enumerate(k.strip() for k in raw_by.split(",")):
        column = SORT_COLUMNS.get(key, "o.level_path")
        direction = "DESC" if index < len(dirs) and dirs[index] == "desc" else "ASC"
        parts.append(f"{column} {direction}")
    return ", ".join([*parts, "o.level_path", "o.id"])


@routes.get("/api/v1/modules/{module_id}/objects", query=OBJECT_QUERY, response=envelope("Object"))
async def list_objects(request: web.Request) -> web.Response:
    """Objects in document order, filtered; with `search`, ranked and highlighted."""
    module_id = path_uuid(request, "module_id")
    page = page_params(request, default_limit=1000)
    search = request.query.get("search", "").strip() or None
    args: list[Any] = [search, module_id]
    where = ["o.module_id = $2"]
    if search is not None:
        where.append("o.search_vector @@ websearch_to_tsquery('english', $1)")
    if not query_bool(request, "include_deleted"):
        where.append("o.deleted_at IS NULL")
    for name in ("heading", "body"):
        value = request.query.get(name)
        if value:
            args.append(f"%{escape_like(value)}%")
            where.append(f"o.{name} ILIKE ${len(args)} ESCAPE '\\'")
    classification = request.query.get("classification")
    if classification:
        args.append(classification_of(classification, "normative"))
        where.append(f"o.classification = ${len(args)}")
    if query_bool(request, "needs_review"):
        where.append("o.reviewed_fingerprint IS DISTINCT FROM o.content_fingerprint")
    condition = " AND ".join(where)
    order = order_clause(request, search is not None)
    n = len(args)
    if search is not None:
        sql = f"""
        SELECT p.*, {HIGHLIGHT_COLUMNS} FROM (
          SELECT {ops.prefixed("o")}, o.body_text, o.level_path, ts_rank_cd(o.search_vector,
                 websearch_to_tsquery('english', $1)) AS rank
          FROM object o WHERE {condition} ORDER BY {order} OFFSET ${n + 1} LIMIT ${n + 2}) p
        ORDER BY {order.replace("o.", "p.")}
        """
    else:
        sql = (
            f"SELECT {ops.prefixed('o')} FROM object o WHERE $1::text IS NULL AND {condition} "
            f"ORDER BY {order} OFFSET ${n + 1} LIMIT ${n + 2}"
        )
    count_sql = f"SELECT count(*) FROM object o WHERE ($1::text IS NULL OR true) AND {condition}"
    async with database(request).acquire() as conn:
        await require_module(conn, module_id)
        rows = await conn.fetch(sql, *args, page.offset, page.limit)
        total = len(rows) if page.offset == 0 and len(rows) < page.limit else await conn.fetchval(count_sql, *args)
    items = []
    for row in rows:
        item = ops.object_json(row)
        if search is not None:
            item["rank"] = row["rank"]
            item["highlight"] = highlight(row)
        items.append(item)
    return json_response(page_envelope(items, total, page))


# ---- create ----------------------------------------------------------------------------------


@routes.post("/api/v1/modules/{module_id}/objects", body=OBJECT_CREATE, status=201, response=ref("Object"))
async def create_object(request: web.Request) -> web.Response:
    """Create an object (appended, or inserted at `position`), with history and levels."""
    module_id = path_uuid(request, "module_id")
    body = await read_json(request)
    user = user_of(request)
    parent_id = opt_uuid(body, "parent_id")
    position = opt_int(body, "position")
    heading = opt_str(body, "heading")
    text = opt_str(body, "body")
    raw_attributes = body.get("attributes")
    if raw_attributes is not None and not isinstance(raw_attributes, dict):
        raise bad_request("attributes must be a JSON object")
    references = references_of(body, [])
    must_be_null(body, "object_type_id", "object type")
    must_be_null(body, "lifecycle_model_id", "lifecycle model")
    lifecycle_state = opt_str(body, "lifecycle_state")
    source_object_id = opt_uuid(body, "source_object_id")
    source_module_id = opt_uuid(body, "source_module_id")
    is_placeholder = bool(opt_bool(body, "is_placeholder", False))
    classification_raw = opt_str(body, "classification")

    async def run(conn: asyncpg.Connection) -> asyncpg.Record:
        module = await ops.lock_module(conn, module_id)
        if parent_id is not None:
            parent = await conn.fetchrow(LIVE_OBJECT, parent_id)
            if parent is None:
                raise not_found("object", parent_id)
            if parent["module_id"] != module_id:
                raise bad_request("parent must belong to the same module")
        classification = classification_of(classification_raw, module["default_classification"])
        nonlocal heading, text
        copied: dict[str, Any] | None = None
        source_module = source_module_id
        if is_placeholder:
            if source_object_id is None:
                raise bad_request("a placeholder requires source_object_id")
            source = await conn.fetchrow(SOURCE_OBJECT, source_object_id)
            if source is None:
                raise not_found("object", source_object_id)
            if source["is_placeholder"]:
                raise bad_request("source object is itself a placeholder")
            heading = heading if heading is not None else source["heading"]
            text = text if text is not None else source["body"]
            copied = source["attributes"] if raw_attributes is None else None
            source_module = source_module or source["module_id"]
        definitions = await ops.attribute_definitions(conn, module_id)
        try:
            if copied is not None:
                attributes = dict(copied)
            else:
                attributes = validate_attributes(raw_attributes or {}, definitions, apply_defaults=True)
            check_required(attributes, module["required_attributes"])
        except AttributeError_ as exc:
            raise bad_request(str(exc)) from None
        clean = sanitize_html(text)
        obj = ops.NewObject(
            id=new_id(), parent_id=parent_id, heading=heading, body=clean, body_text=html_to_text(clean),
            attributes=attributes, classification=classification,
            fingerprint=content_fingerprint(heading, clean, attributes), references=references,
            lifecycle_state=lifecycle_state, source_object_id=source_object_id, source_module_id=source_module,
            is_placeholder=is_placeholder,
        )
        await ops.create_objects(conn, module_id, [obj], user.id, position)
        return await conn.fetchrow(RETURN, obj.id)

    row = await database(request).transaction(run)
    return json_response(ops.object_json(row), status=201)


# ---- read ------------------------------------------------------------------------------------


@routes.get("/api/v1/modules/{module_id}/objects/{id}", query={"include_deleted": BOOL_Q}, response=ref("Object"))
async def get_object(request: web.Request) -> web.Response:
    """One object (soft-deleted only with include_deleted=true)."""
    module_id, object_id = path_uuid(request, "module_id"), path_uuid(request, "id")
    async with database(request).acquire() as conn:
        row = await conn.fetchrow(GET, object_id, module_id)
    if row is None or (row["deleted_at"] is not None and not query_bool(request, "include_deleted")):
        raise not_found("object", object_id)
    return json_response(ops.object_json(row))


async def locked_object(conn: asyncpg.Connection, module_id: uuid.UUID, object_id: uuid.UUID,
                        expected_version: int | None) -> asyncpg.Record:
    return check_version(await conn.fetchrow(GET_LIVE_LOCKED, object_id, module_id), object_id, expected_version)


def check_version(row: asyncpg.Record | None, object_id: uuid.UUID, expected_version: int | None) -> asyncpg.Record:
    """404 for a missing (or deleted) object, 409 when the client edited an older version."""
    if row is None:
        raise not_found("object", object_id)
    if expected_version is not None and expected_version != row["current_version"]:
        raise conflict(
            f"object {object_id} version conflict: expected {expected_version}, found {row['current_version']}"
        )
    return row


# ---- update ----------------------------------------------------------------------------------


@routes.patch("/api/v1/modules/{module_id}/objects/{id}", role=Role.REVIEWER, body=OBJECT_UPDATE,
               response=ref("Object"))
async def update_object(request: web.Request) -> web.Response:
    """Update content, review state and/or place; one version bump and one `update` history row."""
    module_id, object_id = path_uuid(request, "module_id"), path_uuid(request, "id")
    body = await read_json(request)
    user = user_of(request)
    if not user.role.at_least(Role.EDITOR) and any(k in body for k in PATCH_FIELDS - REVIEWER_FIELDS):
        raise insufficient_role(Role.EDITOR)
    expected_version = opt_int(body, "expected_version")
    new_parent = opt_uuid(body, "parent_id")
    position = opt_int(body, "position")
    structural = has(body, "parent_id") or position is not None
    reviewed = opt_bool(body, "reviewed")
    heading_in = opt_str(body, "heading")
    text_in = opt_str(body, "body")
    lifecycle_in = opt_str(body, "lifecycle_state")
    classification_in = opt_str(body, "classification")
    raw_attributes = body.get("attributes")
    if raw_attributes is not None and not isinstance(raw_attributes, dict):
        raise bad_request("attributes must be a JSON object")
    must_be_null(body, "object_type_id", "object type")

    async def run(conn: asyncpg.Connection, lock: bool = True) -> asyncpg.Record | None:
        """The edit; content-only with `lock=False` it runs outside a transaction block and returns None
        when a concurrent writer changed the object between the read and the write."""
        if structural:
            await ops.lock_module(conn, module_id)
            row = await locked_object(conn, module_id, object_id, expected_version)
        else:
            read = EDIT_READ_LOCKED if lock else EDIT_READ
            row = check_version(await conn.fetchrow(read, object_id, module_id, raw_attributes is not None),
                                object_id, expected_version)
        heading = heading_in if has(body, "heading") else row["heading"]
        text = sanitize_html(text_in) if has(body, "body") else row["body"]
        lifecycle = lifecycle_in if has(body, "lifecycle_state") else row["lifecycle_state"]
        classification = classification_of(classification_in, row["classification"])
        attributes = row["attributes"]
        try:
            if raw_attributes is not None:
                definitions = (await ops.attribute_definitions(conn, module_id) if structural
                               else ops.definitions_from(row["module_definitions"] or []))
                attributes = validate_attributes(raw_attributes, definitions)
            if raw_attributes is not None or classification_in is not None:
                required = (await conn.fetchval(REQUIRED_ATTRIBUTES, module_id) if structural
                            else row["module_required_attributes"])
                check_required(attributes, required)
        except AttributeError_ as exc:
            raise bad_request(str(exc)) from None
        fingerprint = content_fingerprint(heading, text, attributes)
        changed = fingerprint != row["content_fingerprint"]
        review = "keep"
        if changed or reviewed is False:
            review = "clear"
        elif reviewed is True:
            review = "set"
        if not structural:  # one statement: update, suspect flagging, history row
            return await conn.fetchrow(
                EDIT_WRITE, object_id, heading, text, html_to_text(text), attributes, classification, fingerprint,
                review, user.id, references_of(body, row["references_"]), lifecycle, changed, row["current_version"],
            )
        await conn.execute(
            UPDATE_CONTENT, object_id, heading, text, html_to_text(text), attributes, classification, fingerprint,
            review, user.id, references_of(body, row["references_"]), lifecycle,
        )
        if structural:  # always, past the early return above
            skeleton = await ops.load_skeleton(conn, module_id)
            target_parent = new_parent if has(body, "parent_id") else row["parent_id"]
            known = target_parent is None or target_parent in skeleton.outline
            if not known and await conn.fetchrow(LIVE_OBJECT, target_parent) is None:
                raise not_found("object", target_parent)
            try:
                if target_parent != row["parent_id"] or position is not None:
                    skeleton.outline.move(object_id, "move_to", target_parent, position)
            except MoveError as exc:
                raise bad_request(str(exc)) from None
            await ops.write_skeleton(conn, skeleton)
        if changed:
            await ops.flag_suspects(conn, [(object_id, fingerprint)])
        await ops.write_history(conn, [object_id], user.id, "update")
        return await conn.fetchrow(RETURN, object_id)

    db = database(request)
    row: asyncpg.Record | None = None
    if not structural:  # optimistic first: two round trips, no BEGIN/COMMIT
        for _ in range(OPTIMISTIC_ATTEMPTS):
            try:
                async with db.acquire() as conn:
                    row = await run(conn, lock=False)
            except (asyncpg.SerializationError, asyncpg.DeadlockDetectedError):
                row = None
            if row is not None:
                break
    if row is None:  # structural, or contended: the locking transaction serializes with the other writers
        row = await db.transaction(run)
    return json_response(ops.object_json(row))


# ---- delete ----------------------------------------------------------------------------------


@routes.delete("/api/v1/modules/{module_id}/objects/{id}")
async def delete_object(request: web.Request) -> web.Response:
    """Soft delete: version bump, `delete` history, links removed, live children take its place."""
    module_id, object_id = path_uuid(request, "module_id"), path_uuid(request, "id")
    user = user_of(request)

    async def run(conn: asyncpg.Connection) -> None:
        await ops.lock_module(conn, module_id)
        await locked_object(conn, module_id, object_id, None)
        skeleton = await ops.load_skeleton(conn, module_id)
        lifted = skeleton.outline.remove(object_id)
        await conn.execute(SOFT_DELETE, object_id)
        await conn.execute(DELETE_LINKS, object_id)
        await ops.write_history(conn, [object_id], user.id, "delete")
        await ops.write_skeleton(conn, skeleton)
        await ops.bump_and_record(conn, lifted, user.id, "move")

    await database(request).transaction(run)
    return no_content()


# ---- moves -----------------------------------------------------------------------------------


@routes.post("/api/v1/modules/{module_id}/objects/{id}/move", body=OBJECT_MOVE, response=ref("Object"))
async def move_object(request: web.Request) -> web.Response:
    """up / down / indent / dedent / move_to; a version bump and a `move` history row."""
    module_id, object_id = path_uuid(request, "module_id"), path_uuid(request, "id")
    body = await read_json(request)
    user = user_of(request)
    action = body.get("action")
    if action is None:
        raise bad_request("missing required field 'action'")
    if not isinstance(action, str):
        raise bad_request("field 'action' must be a string")
    parent_id = opt_uuid(body, "parent_id")
    position = opt_int(body, "position")
    expected_version = opt_int(body, "expected_version")

    async def run(conn: asyncpg.Connection) -> asyncpg.Record:
        await ops.lock_module(conn, module_id)
        await locked_object(conn, module_id, object_id, expected_version)
        skeleton = await ops.load_skeleton(conn, module_id)
        if action == "move_to" and parent_id is not None and parent_id not in skeleton.outline:
            parent = await conn.fetchrow(LIVE_OBJECT, parent_id)
            if parent is None:
                raise not_found("object", parent_id)
        try:
            skeleton.outline.move(object_id, action, parent_id, position)
        except MoveError as exc:
            raise bad_request(str(exc)) from None
        await ops.write_skeleton(conn, skeleton)
        await ops.bump_and_record(conn, [object_id], user.id, "move")
        return await conn.fetchrow(RETURN, object_id)

    row = await database(request).transaction(run)
    return json_response(ops.object_json(row))


# ---- placeholders ----------------------------------------------------------------------------


async def _sync(conn: asyncpg.Connection, module_id: uuid.UUID, object_id: uuid.UUID | None, force: bool,
                user_id: uuid.UUID) -> int:
    rows = await conn.fetch(SYNC, module_id, object_id, force)
    ids = [r["id"] for r in rows]
    await ops.flag_suspects(conn, [(r["id"], r["content_fingerprint"]) for r in rows])
    await ops.write_history(conn, ids, user_id, "sync")
    return len(ids)


async def locked_placeholder(conn: asyncpg.Connection, module_id: uuid.UUID, object_id: uuid.UUID) -> asyncpg.Record:
    """The object row locked for update, refused unless it is a placeholder (sync and break-link)."""
    row = await locked_object(conn, module_id, object_id, None)
    if not row["is_placeholder"]:
        raise bad_request("object is not a placeholder")
    return row


@routes.post("/api/v1/modules/{module_id}/objects/{id}/sync", body=NO_BODY, response=ref("Object"))
async def sync_object(request: web.Request) -> web.Response:
    """Copy heading, body and attributes from the placeholder's source (history `sync`)."""
    module_id, object_id = path_uuid(request, "module_id"), path_uuid(request, "id")
    await read_json_optional(request)
    user = user_of(request)

    async def run(conn: asyncpg.Connection) -> asyncpg.Record:
        row = await locked_placeholder(conn, module_id, object_id)
        source = await conn.fetchrow(LIVE_OBJECT, row["source_object_id"]) if row["source_object_id"] else None
        if source is None:
            raise not_found("object", row["source_object_id"])
        await _sync(conn, module_id, object_id, True, user.id)
        return await conn.fetchrow(RETURN, object_id)

    row = await database(request).transaction(run)
    return json_response(ops.object_json(row))


@routes.post("/api/v1/modules/{module_id}/objects/{id}/break-link", body=NO_BODY, response=ref("Object"))
async def break_link(request: web.Request) -> web.Response:
    """Turn a placeholder into an ordinary object (history `update`)."""
    module_id, object_id = path_uuid(request, "module_id"), path_uuid(request, "id")
    await read_json_optional(request)
    user = user_of(request)

    async def run(conn: asyncpg.Connection) -> asyncpg.Record:
        await locked_placeholder(conn, module_id, object_id)
        await conn.execute(BREAK_LINK, object_id)
        await ops.write_history(conn, [object_id], user.id, "update")
        return await conn.fetchrow(RETURN, object_id)

    row = await database(request).transaction(run)
    return json_response(ops.object_json(row))


@routes.post("/api/v1/modules/{module_id}/sync-placeholders", body=NO_BODY, response=obj(["synced"], synced=INT))
async def sync_placeholders(request: web.Request) -> web.Response:
    """Sync every placeholder of the module whose source changed."""
    module_id = path_uuid(request, "module_id")
    await read_json_optional(request)
    user = user_of(request)

    async def run(conn: asyncpg.Connection) -> int:
        await ops.lock_module(conn, module_id)
        return await _sync(conn, module_id, None, False, user.id)

    synced = await database(request).transaction(run)
    return json_response({"synced": synced})


# ---- history ---------------------------------------------------------------------------------


@routes.get("/api/v1/modules/{module_id}/objects/{id}/history", query=PAGE, response=envelope("ObjectHistory"))
async def object_history(request: web.Request) -> web.Response:
    """Full snapshots, newest first; kept after soft delete and module deletion."""
    module_id, object_id = path_uuid(request, "module_id"), path_uuid(request, "id")
    page = page_params(request, default_limit=1000)
    async with database(request).acquire() as conn:
        rows = await conn.fetch(HISTORY, object_id, module_id, page.offset, page.limit)
        total = await conn.fetchval(HISTORY_COUNT, object_id, module_id)
    if total == 0:
        raise not_found("object", object_id)
    return json_response(page_envelope(rows, total, page))
