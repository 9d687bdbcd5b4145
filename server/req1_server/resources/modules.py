"""Modules (spec §4.2): settings, create from a template (settings, attribute definitions, optionally
live objects and the links between them), cascading delete (history stays)."""

from __future__ import annotations

import json
import uuid
from typing import Any

import asyncpg
from aiohttp import web

from req1_server.apischema import (
    BOOL,
    CLASSIFICATION,
    INT,
    JSON_OBJ,
    PAGE,
    STR,
    STR_LIST,
    UUID,
    envelope,
    nullable,
    obj,
    ref,
)
from req1_server.db import database
from req1_server.domain.ids import new_id
from req1_server.errors import bad_request, not_found
from req1_server.http import (
    has,
    json_response,
    no_content,
    opt_bool,
    opt_dict,
    opt_int,
    opt_list_str,
    opt_str,
    page_envelope,
    page_params,
    path_uuid,
    query_uuid,
    read_json,
    req_str,
    req_uuid,
)
from req1_server.resources.cleanup import delete_attachment_blobs
from req1_server.resources.common import checked_name, paged, require_row
from req1_server.routing import Routes, user_of
from req1_server.store import outline

routes = Routes(tag="modules")
MODULE_FIELDS = {
    "name": STR, "description": nullable(STR), "prefix": STR, "separator": STR, "digits": INT,
    "required_attributes": STR_LIST, "default_classification": CLASSIFICATION, "publish_template": nullable(STR),
    "default_lifecycle_model_id": nullable(UUID), "signature_config": JSON_OBJ,
}
MODULE_CREATE = obj(["name", "project_id"], project_id=UUID, **MODULE_FIELDS)

COLUMNS = (
    "id, project_id, name, description, prefix, separator, digits, required_attributes, default_classification, "
    "publish_template, default_lifecycle_model_id, signature_config, created_at, updated_at"
)
CLASSIFICATIONS = ("normative", "informative", "heading")
PROJECT = "SELECT id FROM project WHERE id = $1"
LIST = f"""
SELECT {COLUMNS} FROM module WHERE ($1::uuid IS NULL OR project_id = $1) ORDER BY name, id OFFSET $2 LIMIT $3
"""
COUNT = "SELECT count(*) FROM module WHERE ($1::uuid IS NULL OR project_id = $1)"
GET = f"SELECT {COLUMNS} FROM module WHERE id = $1"
INSERT = f"""
INSERT INTO module (id, project_id, name, description, prefix, separator, digits, required_attributes,
                    default_classification, publish_template, signature_config)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING {COLUMNS}
"""
UPDATE = f"""
UPDATE module SET name = $2, description = $3, prefix = $4, separator = $5, digits = $6, required_attributes = $7,
       default_classification = $8, publish_template = $9, signature_config = $10, updated_at = now()
WHERE id = $1 RETURNING {COLUMNS}
"""
ATTACHMENT_KEYS = "SELECT a.storage_path FROM attachment a JOIN object o ON o.id = a.object_id WHERE o.module_id = $1"
DELETE = "DELETE FROM module WHERE id = $1"
COPY_DEFINITIONS = """
INSERT INTO attribute_definition (id, module_id, name, data_type, default_value, enum_values, multi_select,
                                  dependency_mapping)
SELECT u.new_id, $2, d.name, d.data_type, d.default_value, d.enum_values, d.multi_select, d.dependency_mapping
FROM attribute_definition d JOIN unnest($3::uuid[], $4::uuid[]) AS u(old_id, new_id) ON u.old_id = d.id
WHERE d.module_id = $1
"""
TEMPLATE_DEFINITIONS = "SELECT id FROM attribute_definition WHERE module_id = $1"
TEMPLATE_OBJECTS = """
SELECT id, parent_id, position, heading, body, body_text, attributes, classification, content_fingerprint,
       references_, lifecycle_state
FROM object WHERE module_id = $1 AND deleted_at IS NULL ORDER BY level_path, id
"""
TEMPLATE_LINKS = """
SELECT l.source_object_id, l.target_object_id, l.link_type_id, l.attributes FROM link l
JOIN object s ON s.id = l.source_object_id JOIN object t ON t.id = l.target_object_id
WHERE s.module_id = $1 AND t.module_id = $1 AND s.deleted_at IS NULL AND t.deleted_at IS NULL
"""
INSERT_LINKS = """
INSERT INTO link (id, source_object_id, target_object_id, link_type_id, attributes, source_fingerprint,
                  target_fingerprint)
SELECT u.id, u.s, u.t, u.ty, u.a::jsonb, s.content_fingerprint, t.content_fingerprint
FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::uuid[], $5::text[]) AS u(id, s, t, ty, a)
JOIN object s ON s.id = u.s JOIN object t ON t.id = u.t
"""


def classification_of(value: str | None) -> str | None:
    if value is not None and value not in CLASSIFICATIONS:
        raise bad_request(f"invalid classification '{value}', must be one of: normative, informative, heading")
    return value


def lifecycle_must_be_null(body: dict[str, Any]) -> None:
    value = body.get("default_lifecycle_model_id")
    if value is not None:
        raise bad_request(f"lifecycle model '{value}' not found")


async def require_project(conn: asyncpg.Connection, project_id: uuid.UUID) -> None:
    if await conn.fetchval(PROJECT, project_id) is None:
        raise not_found("project", project_id)


@routes.get("/api/v1/modules", query={"project_id": UUID, **PAGE}, response=envelope("Module"))
async def list_modules(request: web.Request) -> web.Response:
    """Modules (optionally of one project), by name."""
    project_id = query_uuid(request, "project_id")
    page = page_params(request)
    async with database(request).acquire() as conn:
        items, total = await paged(conn, LIST, COUNT, (project_id,), page)
    return json_response(page_envelope(items, total, page))


def settings_of(body: dict[str, Any]) -> tuple[Any, ...]:
    lifecycle_must_be_null(body)
    digits = opt_int(body, "digits", 3)
    return (
        opt_str(body, "description"),
        opt_str(body, "prefix", ""),
        opt_str(body, "separator", "-"),
        digits,
        opt_list_str(body, "required_attributes", []),
        classification_of(opt_str(body, "default_classification")) or "normative",
        opt_str(body, "publish_template"),
        opt_dict(body, "signature_config", {}),
    )


@routes.post("/api/v1/modules", body=MODULE_CREATE, status=201, response=ref("Module"))
async def create_module(request: web.Request) -> web.Response:
    """Create a module in a project."""
    body = await read_json(request)
    name = checked_name(req_str(body, "name"))
    project_id = req_uuid(body, "project_id")
    settings = settings_of(body)
    async with database(request).acquire() as conn:
        await require_project(conn, project_id)
        row = await conn.fetchrow(INSERT, new_id(), project_id, name, *settings)
    return json_response(row, status=201)


@routes.post("/api/v1/modules/from-template", status=201, response=ref("Module"),
              body=obj(["name", "project_id", "template_module_id"], name=STR, project_id=UUID,
                       description=nullable(STR), template_module_id=UUID, copy_objects=BOOL))
async def create_from_template(request: web.Request) -> web.Response:
    """Copy a module's settings and attribute definitions (and with copy_objects, its live objects and links)."""
    body = await read_json(request)
    name = checked_name(req_str(body, "name"))
    project_id = req_uuid(body, "project_id")
    template_id = req_uuid(body, "template_module_id")
    copy_objects = bool(opt_bool(body, "copy_objects", False))
    description = opt_str(body, "description")
    user = user_of(request)

    async def run(conn: asyncpg.Connection) -> asyncpg.Record:
        await require_project(conn, project_id)
        template = await conn.fetchrow(GET, template_id)
        if template is None:
            raise not_found("module", template_id)
        module_id = new_id()
        row = await conn.fetchrow(
            INSERT, module_id, project_id, name, description if has(body, "description") else template["description"],
            template["prefix"], template["separator"], template["digits"], template["required_attributes"],
            template["default_classification"], template["publish_template"], template["signature_config"],
        )
        old_ids = [r["id"] for r in await conn.fetch(TEMPLATE_DEFINITIONS, template_id)]
        await conn.execute(COPY_DEFINITIONS, template_id, module_id, old_ids, [new_id() for _ in old_ids])
        if copy_objects:
            await copy_content(conn, template_id, module_id, user.id)
        return row

    row = await database(request).transaction(run)
    return json_response(row, status=201)


async def copy_content(conn: asyncpg.Connection, source: uuid.UUID, target: uuid.UUID, user_id: uuid.UUID) -> None:
    rows = await conn.fetch(TEMPLATE_OBJECTS, source)
    mapping = {r["id"]: new_id() for r in rows}
    objects = [
        outline.NewObject(
            id=mapping[r["id"]], parent_id=mapping.get(r["parent_id"]), heading=r["heading"], body=r["body"],
            body_text=r["body_text"] or "", attributes=r["attributes"], classification=r["classification"],
            fingerprint=r["content_fingerprint"], references=r["references_"], lifecycle_state=r["lifecycle_state"],
        )
        for r in rows
    ]
    # rows come in document order: parents before children, siblings in order
    await outline.create_objects(conn, target, objects, user_id)
    links = await conn.fetch(TEMPLATE_LINKS, source)
    if links:
        await conn.execute(
            INSERT_LINKS,
            [new_id() for _ in links],
            [mapping[r["source_object_id"]] for r in links],
            [mapping[r["target_object_id"]] for r in links],
            [r["link_type_id"] for r in links],
            [None if r["attributes"] is None else json.dumps(r["attributes"]) for r in links],
        )


@routes.get("/api/v1/modules/{id}", response=ref("Module"))
async def get_module(request: web.Request) -> web.Response:
    """One module."""
    module_id = path_uuid(request, "id")
    async with database(request).acquire() as conn:
        row = await require_row(conn, GET, "module", module_id)
    return json_response(row)


@routes.patch("/api/v1/modules/{id}", body=obj(**MODULE_FIELDS), response=ref("Module"))
async def update_module(request: web.Request) -> web.Response:
    """Update settings; null clears nullable fields."""
    module_id = path_uuid(request, "id")
    body = await read_json(request)
    name = checked_name(opt_str(body, "name"))
    lifecycle_must_be_null(body)
    classification = classification_of(opt_str(body, "default_classification"))

    async def run(conn: asyncpg.Connection) -> asyncpg.Record:
        row = await conn.fetchrow(GET + " FOR UPDATE", module_id)
        if row is None:
            raise not_found("module", module_id)

        def pick(field: str, value: Any, nullable: bool = False) -> Any:
            if not has(body, field) or (value is None and not nullable):
                return row[field]
            return value

        return await conn.fetchrow(
            UPDATE, module_id, name or row["name"],
            pick("description", opt_str(body, "description"), nullable=True),
            pick("prefix", opt_str(body, "prefix")),
            pick("separator", opt_str(body, "separator")),
            pick("digits", opt_int(body, "digits")),
            pick("required_attributes", opt_list_str(body, "required_attributes")),
            classification or row["default_classification"],
            pick("publish_template", opt_str(body, "publish_template"), nullable=True),
            pick("signature_config", opt_dict(body, "signature_config")),
        )

    row = await database(request).transaction(run)
    return json_response(row)


@routes.delete("/api/v1/modules/{id}")
async def delete_module(request: web.Request) -> web.Response:
    """Delete a module and its contents (history stays); attachment content goes after commit."""
    module_id = path_uuid(request, "id")

    async def run(conn: asyncpg.Connection) -> list[str]:
        keys = [r["storage_path"] for r in await conn.fetch(ATTACHMENT_KEYS, module_id)]
        if await conn.execute(DELETE, module_id) == "DELETE 0":
            raise not_found("module", module_id)
        return keys

    keys = await database(request).transaction(run)
    await delete_attachment_blobs(request, keys)
    return no_content()
