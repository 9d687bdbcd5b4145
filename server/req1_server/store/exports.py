"""Reads of a module's whole content for the documents made from it: ReqIF export, publishing and
validation (each on the read replica when it is up)."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg

from req1_server.domain.object_types import required_names
from req1_server.domain.publish import PubObject
from req1_server.domain.reqif.model import AttrSpec, ExportLink, ExportModule, ExportObject, ExportType
from req1_server.domain.validation import VLink, VObject, validate
from req1_server.errors import not_found
from req1_server.store import object_types

EXPORT_MODULE = "SELECT id, name FROM module WHERE id = $1"
EXPORT_DEFINITIONS = """
SELECT DISTINCT ON (name) id, name, data_type, enum_values, multi_select FROM attribute_definition
WHERE module_id = $1 OR module_id IS NULL ORDER BY name, (module_id IS NULL), id
"""
EXPORT_OBJECTS = """
SELECT id, parent_id, heading, body, attributes, object_type_id FROM object
WHERE module_id = $1 AND deleted_at IS NULL ORDER BY level_path, id
"""
EXPORT_LINKS = """
SELECT l.id, l.source_object_id, l.target_object_id, l.link_type_id, lt.name AS type_name
FROM link l JOIN link_type lt ON lt.id = l.link_type_id
JOIN object s ON s.id = l.source_object_id JOIN object t ON t.id = l.target_object_id
WHERE s.module_id = $1 AND t.module_id = $1 AND s.deleted_at IS NULL AND t.deleted_at IS NULL
ORDER BY l.created_at, l.id
"""

PUBLISH_DEFINITIONS = """
SELECT name FROM attribute_definition WHERE module_id = $1 OR module_id IS NULL
ORDER BY (module_id IS NULL), name
"""
PUBLISH_OBJECTS = """
SELECT id, level, heading, body, classification, current_version, attributes
FROM object WHERE module_id = $1 AND deleted_at IS NULL ORDER BY level_path, id
"""
VALIDATE_MODULE = "SELECT id, required_attributes FROM module WHERE id = $1"
VALIDATE_OBJECTS = """
SELECT o.id, o.parent_id, o.level, o.heading, o.body, o.classification, o.attributes,
       o.reviewed_fingerprint IS NOT DISTINCT FROM o.content_fingerprint AS reviewed,
       t.name AS type_name, t.required_attributes, t.attribute_schema
FROM object o LEFT JOIN object_type t ON t.id = o.object_type_id
WHERE o.module_id = $1 AND o.deleted_at IS NULL ORDER BY o.level_path, o.id
"""
VALIDATE_LINKS = """
SELECT l.id, l.source_object_id, l.target_object_id, l.suspect,
       coalesce(s.deleted_at IS NULL, false) AS source_live, coalesce(t.deleted_at IS NULL, false) AS target_live
FROM link l LEFT JOIN object s ON s.id = l.source_object_id LEFT JOIN object t ON t.id = l.target_object_id
WHERE l.source_object_id IN (SELECT id FROM object WHERE module_id = $1 AND deleted_at IS NULL)
   OR l.target_object_id IN (SELECT id FROM object WHERE module_id = $1 AND deleted_at IS NULL)
ORDER BY l.created_at, l.id
"""


async def module_name(conn: asyncpg.Connection, module_id: uuid.UUID) -> str:
    module = await conn.fetchrow(EXPORT_MODULE, module_id)
    if module is None:
        raise not_found("module", module_id)
    return str(module["name"])


async def reqif_module(conn: asyncpg.Connection, module_id: uuid.UUID) -> ExportModule:
    """The module as the ReqIF writer takes it: definitions, object types, the object tree and the links inside it."""
    name = await module_name(conn, module_id)
    specs = [(str(r["id"]), AttrSpec(r["name"], r["data_type"], r["enum_values"], r["multi_select"]))
             for r in await conn.fetch(EXPORT_DEFINITIONS, module_id)]
    nodes: dict[Any, ExportObject] = {}
    roots: list[ExportObject] = []
    for r in await conn.fetch(EXPORT_OBJECTS, module_id):
        type_id = None if r["object_type_id"] is None else str(r["object_type_id"])
        node = ExportObject(str(r["id"]), r["heading"], r["body"], r["attributes"] or {}, type_id=type_id)
        nodes[r["id"]] = node
        parent = nodes.get(r["parent_id"])
        (parent.children if parent is not None else roots).append(node)
    links = [ExportLink(str(r["id"]), str(r["source_object_id"]), str(r["target_object_id"]),
                        str(r["link_type_id"]), r["type_name"]) for r in await conn.fetch(EXPORT_LINKS, module_id)]
    types = [ExportType(str(r["id"]), r["name"], r["description"])
             for r in await object_types.of_module(conn, module_id)]
    return ExportModule(str(module_id), name, specs, roots, links, types)


async def publishable(conn: asyncpg.Connection, module_id: uuid.UUID) -> tuple[str, list[PubObject], list[str]]:
    """The module's name, live objects in document order, and attribute names (module ones first)."""
    name = await module_name(conn, module_id)
    names = list(dict.fromkeys(r["name"] for r in await conn.fetch(PUBLISH_DEFINITIONS, module_id)))
    objects = [
        PubObject(str(r["id"]), r["level"], r["heading"], r["body"], r["classification"], r["current_version"],
                  r["attributes"] or {})
        for r in await conn.fetch(PUBLISH_OBJECTS, module_id)
    ]
    return name, objects, names


async def validation(conn: asyncpg.Connection, module_id: uuid.UUID) -> dict[str, Any]:
    """Rule findings over live objects and their links (rules in domain.validation)."""
    module = await conn.fetchrow(VALIDATE_MODULE, module_id)
    if module is None:
        raise not_found("module", module_id)
    objects = [VObject(r["id"], r["parent_id"], r["level"], r["heading"], r["body"], r["classification"],
                       r["attributes"] or {}, r["reviewed"], r["type_name"],
                       tuple(required_names(r["required_attributes"] or [], r["attribute_schema"])))
               for r in await conn.fetch(VALIDATE_OBJECTS, module_id)]
    links = [VLink(r["id"], r["source_object_id"], r["target_object_id"], r["suspect"], r["source_live"],
                   r["target_live"]) for r in await conn.fetch(VALIDATE_LINKS, module_id)]
    return {"module_id": module_id, "issues": validate(objects, links, module["required_attributes"]),
            "object_count": len(objects), "link_count": len(links)}
