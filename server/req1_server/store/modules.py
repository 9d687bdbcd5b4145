"""Modules (spec §4.2): settings rows, the module list, cascading delete, and creation from a template
(settings, attribute definitions and, on request, live objects and the links between them)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from typing import Any

import asyncpg

from req1_server.domain.ids import new_id
from req1_server.http import Page
from req1_server.store import crud
from req1_server.store.access import module_in_workspaces
from req1_server.store.outline import NewObject, create_objects
from req1_server.store.rows import paged, require_project

MODULES = crud.Table(
    "module", "module",
    "id, project_id, name, description, prefix, separator, digits, required_attributes, default_classification, "
    "publish_template, default_lifecycle_model_id, signature_config, created_at, updated_at",
    "name, id", nullable=frozenset({"description", "publish_template"}), touch=True,
)
WITHIN = module_in_workspaces("id", 2)
LIST = f"""
SELECT {MODULES.columns} FROM module WHERE ($1::uuid IS NULL OR project_id = $1) AND {WITHIN}
ORDER BY name, id OFFSET $3 LIMIT $4
"""
COUNT = f"SELECT count(*) FROM module WHERE ($1::uuid IS NULL OR project_id = $1) AND {WITHIN}"
ATTACHMENT_KEYS = "SELECT a.storage_path FROM attachment a JOIN object o ON o.id = a.object_id WHERE o.module_id = $1"
SETTINGS = ("description", "prefix", "separator", "digits", "required_attributes", "default_classification",
            "publish_template", "signature_config")
COPY_DEFINITIONS = """
INSERT INTO attribute_definition (id, module_id, name, data_type, default_value, enum_values, multi_select,
                                  dependency_mapping)
SELECT u.new_id, $2, d.name, d.data_type, d.default_value, d.enum_values, d.multi_select, d.dependency_mapping
FROM attribute_definition d JOIN unnest($3::uuid[], $4::uuid[]) AS u(old_id, new_id) ON u.old_id = d.id
WHERE d.module_id = $1
"""
TEMPLATE_DEFINITIONS = "SELECT id FROM attribute_definition WHERE module_id = $1"
# object types and lifecycle models (§1, §2): copied with new ids; $3/$4 map old ids to new ones
COPY_TYPES = """
INSERT INTO object_type (id, module_id, name, description, default_classification, required_attributes,
                         attribute_schema)
SELECT u.new_id, $2, t.name, t.description, t.default_classification, t.required_attributes, t.attribute_schema
FROM object_type t JOIN unnest($3::uuid[], $4::uuid[]) AS u(old_id, new_id) ON u.old_id = t.id WHERE t.module_id = $1
"""
COPY_MODELS = """
INSERT INTO lifecycle_model (id, module_id, name, description, initial_state, states, transitions)
SELECT u.new_id, $2, m.name, m.description, m.initial_state, m.states, m.transitions
FROM lifecycle_model m JOIN unnest($3::uuid[], $4::uuid[]) AS u(old_id, new_id) ON u.old_id = m.id
WHERE m.module_id = $1
"""
SET_DEFAULT_MODEL = "UPDATE module SET default_lifecycle_model_id = $2 WHERE id = $1 RETURNING " + MODULES.columns
SET_TYPES_AND_MODELS = """
UPDATE object o SET object_type_id = u.type_id, lifecycle_model_id = u.model_id
FROM unnest($1::uuid[], $2::uuid[], $3::uuid[]) AS u(id, type_id, model_id) WHERE o.id = u.id
"""
TEMPLATE_OBJECTS = """
SELECT id, parent_id, position, heading, body, body_text, attributes, classification, content_fingerprint,
       references_, lifecycle_state, object_type_id, lifecycle_model_id
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


async def page(conn: asyncpg.Connection, project_id: uuid.UUID | None, window: Page,
               within: list[uuid.UUID] | None = None) -> tuple[list[Any], int]:
    """Modules (of one project) in the caller's workspaces (``within``; None: every one)."""
    return await paged(conn, LIST, COUNT, (project_id, within), window)


async def create(conn: asyncpg.Connection, values: Mapping[str, Any]) -> asyncpg.Record:
    await require_project(conn, values["project_id"])
    return await crud.insert(conn, MODULES, values)


async def has_baselines(conn: asyncpg.Connection, module_id: uuid.UUID) -> bool:
    """Whether deleting the module would take baselines with it (only admins delete baselines)."""
    return bool(await conn.fetchval("SELECT EXISTS (SELECT 1 FROM baseline WHERE module_id = $1)", module_id))


async def delete(conn: asyncpg.Connection, module_id: uuid.UUID) -> list[str]:
    """Delete the module and its contents (history stays); returns the attachment keys to remove after commit."""
    keys = [r["storage_path"] for r in await conn.fetch(ATTACHMENT_KEYS, module_id)]
    await crud.delete(conn, MODULES, module_id, None)
    return keys


async def from_template(conn: asyncpg.Connection, template_id: uuid.UUID, values: Mapping[str, Any],
                        copy_objects: bool, user_id: uuid.UUID) -> asyncpg.Record:
    """A new module with the template's settings (``values`` win) and definitions, optionally its content."""
    await require_project(conn, values["project_id"])
    template = await crud.get(conn, MODULES, template_id)
    row = await crud.insert(conn, MODULES, {**{k: template[k] for k in SETTINGS}, **values})
    old_ids = [r["id"] for r in await conn.fetch(TEMPLATE_DEFINITIONS, template_id)]
    await conn.execute(COPY_DEFINITIONS, template_id, row["id"], old_ids, [new_id() for _ in old_ids])
    types = await copy_rows(conn, COPY_TYPES, "SELECT id FROM object_type WHERE module_id = $1", template_id, row["id"])
    models = await copy_rows(conn, COPY_MODELS, "SELECT id FROM lifecycle_model WHERE module_id = $1", template_id,
                             row["id"])
    if template["default_lifecycle_model_id"] in models:
        row = await conn.fetchrow(SET_DEFAULT_MODEL, row["id"], models[template["default_lifecycle_model_id"]])
    if copy_objects:
        await copy_content(conn, template_id, row["id"], user_id, types, models)
    return row


async def copy_rows(conn: asyncpg.Connection, copy_sql: str, ids_sql: str, source: uuid.UUID,
                    target: uuid.UUID) -> dict[uuid.UUID, uuid.UUID]:
    """Copy the source module's rows of one table with new ids; old id → new id."""
    mapping = {r["id"]: new_id() for r in await conn.fetch(ids_sql, source)}
    if mapping:
        await conn.execute(copy_sql, source, target, list(mapping), list(mapping.values()))
    return mapping


async def copy_content(conn: asyncpg.Connection, source: uuid.UUID, target: uuid.UUID, user_id: uuid.UUID,
                       types: Mapping[uuid.UUID, uuid.UUID], models: Mapping[uuid.UUID, uuid.UUID]) -> None:
    rows = await conn.fetch(TEMPLATE_OBJECTS, source)
    mapping = {r["id"]: new_id() for r in rows}
    objects = [
        NewObject(
            id=mapping[r["id"]], parent_id=mapping.get(r["parent_id"]), heading=r["heading"], body=r["body"],
            body_text=r["body_text"] or "", attributes=r["attributes"], classification=r["classification"],
            fingerprint=r["content_fingerprint"], references=r["references_"], lifecycle_state=r["lifecycle_state"],
        )
        for r in rows
    ]
    # rows come in document order: parents before children, siblings in order
    await create_objects(conn, target, objects, user_id)
    typed = [r for r in rows if r["object_type_id"] in types or r["lifecycle_model_id"] in models]
    if typed:  # the copies keep their type and model, the copied ones
        await conn.execute(SET_TYPES_AND_MODELS, [mapping[r["id"]] for r in typed],
                           [types.get(r["object_type_id"]) for r in typed],
                           [models.get(r["lifecycle_model_id"]) for r in typed])
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
