"""ReqIF import into a project (spec §4.13): one module per SPECIFICATION, with an object type per
SPEC-OBJECT-TYPE (extended spec §1), planned in a worker thread in
batches (validation, sanitizing, fingerprints) while PostgreSQL inserts the previous batch, all in the
import's one transaction, so a bad file changes nothing."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import asyncpg

from req1_server.domain.attributes import AttrDef, AttributeError_, validate_attributes
from req1_server.domain.fingerprint import content_fingerprint
from req1_server.domain.ids import new_id
from req1_server.domain.reqif.model import AttrSpec, HierNode, ObjectTypeSpec, ReqifDocument
from req1_server.domain.reqif.types import type_layout, unique_names
from req1_server.domain.sanitize import html_to_text, sanitize_html
from req1_server.errors import bad_request, not_found
from req1_server.store import object_types
from req1_server.store.outline import NewModuleFiller, NewObject

PROJECT = "SELECT 1 FROM project WHERE id = $1"
LINK_TYPES = "SELECT DISTINCT ON (name) id, name FROM link_type ORDER BY name, id"
INSERT_LINK_TYPE = "INSERT INTO link_type (id, name) VALUES ($1, $2)"
INSERT_MODULE = "INSERT INTO module (id, project_id, name, prefix) VALUES ($1, $2, $3, 'REQ')"
INSERT_DEFINITIONS = """
INSERT INTO attribute_definition (id, module_id, name, data_type, enum_values, multi_select)
SELECT u.id, $1, u.name, u.data_type, u.enum_values::jsonb, u.multi
FROM unnest($2::uuid[], $3::text[], $4::text[], $5::text[], $6::bool[]) AS u(id, name, data_type, enum_values, multi)
"""
INSERT_LINKS = """
INSERT INTO link (id, source_object_id, target_object_id, link_type_id, source_fingerprint, target_fingerprint)
SELECT u.id, u.s, u.t, u.ty, s.content_fingerprint, t.content_fingerprint
FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::uuid[]) AS u(id, s, t, ty)
JOIN object s ON s.id = u.s JOIN object t ON t.id = u.t
ON CONFLICT DO NOTHING
"""
# as an object create does: the row first, then its type (history snapshots do not carry the type)
SET_TYPES = """
UPDATE object o SET object_type_id = u.type_id
FROM unnest($1::uuid[], $2::uuid[]) AS u(id, type_id) WHERE o.id = u.id
"""


BATCH = 1000  # objects validated/sanitized/fingerprinted per worker-thread step


@dataclass
class PlannedModule:
    id: uuid.UUID
    name: str


class ImportPlanner:
    """Objects per module in document order (parents first), IDs assigned, links resolved to those IDs.

    Validation, sanitizing and fingerprints are CPU work done in a worker thread, in batches, so that
    PostgreSQL inserts one batch while the next is prepared (the two overlap on separate cores). A bad
    object raises a 400 from `batches()` and the import's transaction rolls back: nothing is stored.
    """

    def __init__(self, doc: ReqifDocument) -> None:
        self.doc = doc
        self.definitions = {name: AttrDef(name, spec.data_type, tuple(spec.enum_values or ()) or None,
                                          spec.multi_select) for name, spec in doc.attributes.items()}
        self.placed: dict[str, uuid.UUID] = {}
        self.modules = [PlannedModule(new_id(), spec.name[:500] or "ReqIF import") for spec in doc.specifications]
        self.objects_planned = 0
        self.typed: list[tuple[uuid.UUID, int, str]] = []  # (object id, module index, SPEC-OBJECT-TYPE ref)

    def batches(self) -> Iterator[tuple[int, list[NewObject]]]:
        """(module index, up to BATCH objects); a module's batches come in order, parents first."""
        doc = self.doc
        referenced = referenced_objects(doc)
        for index, spec in enumerate(doc.specifications):
            objects: list[NewObject] = []
            stack: list[tuple[HierNode, uuid.UUID | None]] = [(node, None) for node in reversed(spec.roots)]
            while stack:
                node, parent = stack.pop()
                if node.object_ref in self.placed:
                    continue  # an object shown twice is created once, where it first appears
                obj = self.place(node.object_ref, parent, index)
                objects.append(obj)
                stack.extend((child, obj.id) for child in reversed(node.children))
                if len(objects) == BATCH:
                    yield index, objects
                    objects = []
            if index == 0:  # unreferenced objects go to the first module's root (Δ)
                for ref in doc.objects:
                    if ref not in referenced:
                        obj = self.place(ref, None, index)
                        objects.append(obj)
            if objects:
                yield index, objects

    def place(self, ref: str, parent: uuid.UUID | None, index: int) -> NewObject:
        """The object planned, its id and its type reference noted."""
        obj = new_object(self.doc, ref, parent, self.definitions)
        self.placed[ref] = obj.id
        type_ref = self.doc.objects[ref].type_ref
        if type_ref is not None:
            self.typed.append((obj.id, index, type_ref))
        return obj

    def links(self) -> list[tuple[uuid.UUID, uuid.UUID, str]]:
        """(source id, target id, relation type name), once every batch has been planned."""
        placed = self.placed
        return [(placed[r.source], placed[r.target], r.type_name) for r in self.doc.relations
                if r.source in placed and r.target in placed and r.source != r.target]


async def store_objects(conn: asyncpg.Connection, planner: ImportPlanner, user_id: uuid.UUID) -> int:
    """Plan batch n+1 in a worker thread while batch n is inserted; returns the number of objects."""
    fillers = [NewModuleFiller(module.id, user_id) for module in planner.modules]
    batches = planner.batches()

    def step() -> tuple[int, list[NewObject]] | None:
        return next(batches, None)

    created = 0
    pending = asyncio.ensure_future(asyncio.to_thread(step))
    try:
        while (batch := await pending) is not None:
            pending = asyncio.ensure_future(asyncio.to_thread(step))
            index, objects = batch
            await fillers[index].add(conn, objects)
            created += len(objects)
    finally:
        if not pending.done():  # an insert failed: let the thread finish, its outcome no longer matters
            await asyncio.wait([pending])
        if not pending.cancelled():
            pending.exception()  # retrieved: an abandoned planning error is not logged as unhandled
    return created


async def store(conn: asyncpg.Connection, project_id: uuid.UUID, doc: ReqifDocument,
                user_id: uuid.UUID) -> dict[str, Any]:
    """Link types (reused by name), modules, definitions, objects and links of the document; the counts."""
    planner = ImportPlanner(doc)
    if await conn.fetchval(PROJECT + " FOR SHARE", project_id) is None:
        raise not_found("project", project_id)
    # link types: reuse by name, create the missing ones
    existing = {r["name"]: r["id"] for r in await conn.fetch(LINK_TYPES)}
    types_created = 0
    for name in doc.relation_types:
        if name not in existing:
            existing[name] = new_id()
            await conn.execute(INSERT_LINK_TYPE, existing[name], name)
            types_created += 1
    definitions_created = 0
    module_types: list[dict[str, uuid.UUID]] = []
    for module in planner.modules:
        await conn.execute(INSERT_MODULE, module.id, project_id, module.name)
        definitions_created += await insert_definitions(conn, module.id, doc.attributes)
        module_types.append(await insert_object_types(conn, module.id, doc.object_types))
    objects_created = await store_objects(conn, planner, user_id)
    typed = [(obj, module_types[index][ref]) for obj, index, ref in planner.typed if ref in module_types[index]]
    if typed:
        await conn.execute(SET_TYPES, [obj for obj, _ in typed], [ty for _, ty in typed])
    links = planner.links()
    links_created = 0
    if links:
        status = await conn.execute(INSERT_LINKS, [new_id() for _ in links], [s for s, _, _ in links],
                                    [t for _, t, _ in links], [existing[ty] for _, _, ty in links])
        links_created = int(status.split()[-1])
    return {
        "module_id": planner.modules[-1].id, "module_ids": [m.id for m in planner.modules],
        "objects_created": objects_created, "links_created": links_created,
        "attribute_definitions_created": definitions_created,
        "object_types_created": sum(len(types) for types in module_types),
        "link_types_created": types_created,
    }


def referenced_objects(doc: ReqifDocument) -> set[str]:
    seen: set[str] = set()
    stack = [node for spec in doc.specifications for node in spec.roots]
    while stack:
        node = stack.pop()
        seen.add(node.object_ref)
        stack.extend(node.children)
    return seen


async def insert_definitions(conn: asyncpg.Connection, module_id: uuid.UUID, specs: dict[str, AttrSpec]) -> int:
    if not specs:
        return 0
    items = list(specs.values())
    await conn.execute(
        INSERT_DEFINITIONS, module_id, [new_id() for _ in items], [s.name for s in items],
        [s.data_type for s in items], [None if s.enum_values is None else json.dumps(s.enum_values) for s in items],
        [s.multi_select for s in items],
    )
    return len(items)


async def insert_object_types(conn: asyncpg.Connection, module_id: uuid.UUID,
                              specs: list[ObjectTypeSpec]) -> dict[str, uuid.UUID]:
    """The module's types, one per SPEC-OBJECT-TYPE, created as the object-type route does (same checks and
    audit); type ids by SPEC-OBJECT-TYPE identifier."""
    created: dict[str, uuid.UUID] = {}
    for spec, name in zip(specs, unique_names(spec.name for spec in specs), strict=True):
        row = await object_types.insert(conn, {
            "id": new_id(), "module_id": module_id, "name": name, "description": spec.description,
            "default_classification": "normative", "required_attributes": [],
            "attribute_schema": type_layout(name, spec.attribute_names)})
        created[spec.identifier] = row["id"]
    return created


def new_object(doc: ReqifDocument, ref: str, parent: uuid.UUID | None,
               definitions: dict[str, AttrDef]) -> NewObject:
    source = doc.objects[ref]
    try:
        attributes = validate_attributes(source.attributes, definitions) or None  # none: null, as created by POST
    except AttributeError_ as exc:
        raise bad_request(f"invalid reqif XML: SPEC-OBJECT {ref}: {exc}") from None
    body = sanitize_html(source.body)
    heading = source.heading
    return NewObject(
        id=new_id(), parent_id=parent, heading=heading, body=body, body_text=html_to_text(body),
        attributes=attributes, classification="normative",
        fingerprint=content_fingerprint(heading, body, attributes),
    )

