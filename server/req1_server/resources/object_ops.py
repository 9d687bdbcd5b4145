"""Object persistence shared by every writer of objects (API, CSV, ReqIF, templates, demo seed).

One place for the rules that must hold whichever way an object changes: levels and positions derived
from the outline, a full history snapshot per mutation in the same transaction, suspect flagging when
a fingerprint changes. All statements are set-based (unnest arrays), never one query per row.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg

from req1_server.domain.attributes import AttrDef
from req1_server.domain.outline import Outline, Placement, level_text
from req1_server.resources.common import require_row

OBJECT_COLUMNS = (
    "id, module_id, parent_id, position, level, heading, body, attributes, current_version, classification, "
    "content_fingerprint, reviewed_fingerprint, reviewed_at, reviewed_by, references_, object_type_id, "
    "lifecycle_state, lifecycle_model_id, source_object_id, source_module_id, is_placeholder, docx_source_id, "
    "deleted_at, created_at, updated_at"
)


def prefixed(alias: str) -> str:
    return ", ".join(f"{alias}.{c.strip()}" for c in OBJECT_COLUMNS.split(","))


MODULE_LOCK = "SELECT * FROM module WHERE id = $1 FOR UPDATE"
MODULE_GET = "SELECT * FROM module WHERE id = $1"
SKELETON = "SELECT id, parent_id, position, level_path FROM object WHERE module_id = $1 AND deleted_at IS NULL"
WRITE_PLACEMENTS = """
UPDATE object o SET parent_id = u.parent_id, position = u.position, level = u.level,
       level_path = string_to_array(u.level, '.')::int[]
FROM unnest($1::uuid[], $2::uuid[], $3::int[], $4::text[]) AS u(id, parent_id, position, level)
WHERE o.id = u.id
"""
HISTORY = """
INSERT INTO object_history (object_id, module_id, version, attribute_values, heading, body, changed_by, change_type,
                            content_fingerprint, parent_id, position, level, classification, deleted_at, changed_at)
SELECT id, module_id, current_version, attributes, heading, body, $2, $3, content_fingerprint, parent_id, position,
       level, classification, deleted_at, now()
FROM object WHERE id = ANY($1::uuid[])
"""
SUSPECT = """
UPDATE link l SET suspect = true, updated_at = now()
FROM unnest($1::uuid[], $2::text[]) AS u(id, fingerprint)
WHERE NOT l.suspect AND (
      (l.source_object_id = u.id AND l.source_fingerprint IS DISTINCT FROM u.fingerprint)
   OR (l.target_object_id = u.id AND l.target_fingerprint IS DISTINCT FROM u.fingerprint))
"""
ATTR_DEFS = """
SELECT name, data_type, enum_values, multi_select, default_value, module_id FROM attribute_definition
WHERE module_id = $1 OR module_id IS NULL ORDER BY (module_id IS NULL) DESC
"""
BUMP_MOVE = """
UPDATE object SET current_version = current_version + 1, updated_at = now() WHERE id = ANY($1::uuid[])
"""


async def lock_module(conn: asyncpg.Connection, module_id: uuid.UUID) -> asyncpg.Record:
    """The module row, locked: structural changes serialize per module (spec §4.3.1)."""
    return await require_row(conn, MODULE_LOCK, "module", module_id)


@dataclass
class Skeleton:
    """The live outline of a module plus what is stored, so only changed rows are written."""

    outline: Outline[uuid.UUID]
    stored: dict[uuid.UUID, tuple[uuid.UUID | None, int, tuple[int, ...]]]


async def load_skeleton(conn: asyncpg.Connection, module_id: uuid.UUID) -> Skeleton:
    rows = await conn.fetch(SKELETON, module_id)
    outline = Outline.from_rows((r["id"], r["parent_id"], r["position"]) for r in rows)
    stored = {r["id"]: (r["parent_id"], r["position"], tuple(r["level_path"])) for r in rows}
    return Skeleton(outline, stored)


async def write_skeleton(
    conn: asyncpg.Connection, skeleton: Skeleton, placements: dict[uuid.UUID, Placement[uuid.UUID]] | None = None
) -> list[uuid.UUID]:
    """Persist parents, positions and levels that differ from what is stored; returns the changed ids.
    `placements` is the outline's current `placements()` when the caller already has it."""
    ids: list[uuid.UUID] = []
    parents: list[uuid.UUID | None] = []
    positions: list[int] = []
    levels: list[str] = []
    if placements is None:
        placements = skeleton.outline.placements()
    for node, place in placements.items():
        if skeleton.stored.get(node) != (place.parent_id, place.position, place.level_path):
            ids.append(node)
            parents.append(place.parent_id)
            positions.append(place.position)
            levels.append(level_text(place.level_path))
    if ids:
        await conn.execute(WRITE_PLACEMENTS, ids, parents, positions, levels)
        for node, parent, position, level in zip(ids, parents, positions, levels, strict=True):
            skeleton.stored[node] = (parent, position, tuple(int(p) for p in level.split(".")))
    return ids


async def write_history(
    conn: asyncpg.Connection, ids: Sequence[uuid.UUID], user_id: uuid.UUID | None, change_type: str
) -> None:
    """Snapshot the current state of `ids` (call after the mutation, in its transaction)."""
    if ids:
        await conn.execute(HISTORY, list(ids), user_id, change_type)


async def bump_and_record(
    conn: asyncpg.Connection, ids: Iterable[uuid.UUID], user_id: uuid.UUID | None, change_type: str
) -> None:
    """A version bump plus a history row for objects that changed only structurally."""
    id_list = list(ids)
    if id_list:
        await conn.execute(BUMP_MOVE, id_list)
        await write_history(conn, id_list, user_id, change_type)


async def flag_suspects(conn: asyncpg.Connection, changed: Sequence[tuple[uuid.UUID, str]]) -> None:
    """Suspect rule (spec §4.6): links at either end of a changed fingerprint become suspect."""
    if changed:
        await conn.execute(SUSPECT, [c[0] for c in changed], [c[1] for c in changed])


async def attribute_definitions(conn: asyncpg.Connection, module_id: uuid.UUID) -> dict[str, AttrDef]:
    """Definitions visible in a module by name; a module definition shadows a global one."""
    return definitions_from(await conn.fetch(ATTR_DEFS, module_id))


def definitions_from(rows: Iterable[asyncpg.Record | dict[str, Any]]) -> dict[str, AttrDef]:
    """`ATTR_DEFS` rows (or the same fields aggregated as JSON, in the same order) by name."""
    out: dict[str, AttrDef] = {}
    for row in rows:
        if row["name"] in out:
            continue
        enum_values = tuple(row["enum_values"]) if row["enum_values"] is not None else None
        out[row["name"]] = AttrDef(row["name"], row["data_type"], enum_values, row["multi_select"],
                                   row["default_value"])
    return out


def object_json(row: asyncpg.Record | dict[str, Any]) -> dict[str, Any]:
    """The wire shape of an object (extra columns such as rank are kept by callers)."""
    return {key: row[key] for key in OBJECT_KEYS}


OBJECT_KEYS = [c.strip() for c in OBJECT_COLUMNS.split(",")]


@dataclass
class NewObject:
    """A fully validated object to insert (body sanitized, fingerprint computed)."""

    id: uuid.UUID
    parent_id: uuid.UUID | None
    heading: str | None
    body: str | None
    body_text: str
    attributes: dict[str, Any]
    classification: str
    fingerprint: str
    references: Any = None
    lifecycle_state: str | None = None
    source_object_id: uuid.UUID | None = None
    source_module_id: uuid.UUID | None = None
    is_placeholder: bool = False


# the `create` history snapshot comes from the inserted rows themselves (no second read of `object`)
INSERT_MANY = """
WITH inserted AS (
INSERT INTO object (id, module_id, parent_id, heading, body, body_text, attributes, classification,
                    content_fingerprint, references_, lifecycle_state, source_object_id, source_module_id,
                    is_placeholder, position, level, level_path)
SELECT u.id, $1, u.parent_id, u.heading, u.body, u.body_text, u.attributes::jsonb, u.classification, u.fingerprint,
       u.refs::jsonb, u.lifecycle_state, u.source_object_id, u.source_module_id, u.is_placeholder, u.position,
       u.level, string_to_array(u.level, '.')::int[]
FROM unnest($2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[],
            $10::text[], $11::text[], $12::uuid[], $13::uuid[], $14::bool[], $15::int[], $16::text[])
     AS u(id, parent_id, heading, body, body_text, attributes, classification, fingerprint, refs, lifecycle_state,
          source_object_id, source_module_id, is_placeholder, position, level)
RETURNING id, module_id, current_version, attributes, heading, body, content_fingerprint, parent_id, position,
          level, classification, deleted_at)
INSERT INTO object_history (object_id, module_id, version, attribute_values, heading, body, changed_by, change_type,
                            content_fingerprint, parent_id, position, level, classification, deleted_at, changed_at)
SELECT id, module_id, current_version, attributes, heading, body, $17, 'create', content_fingerprint, parent_id,
       position, level, classification, deleted_at, now()
FROM inserted
"""


async def insert_objects(
    conn: asyncpg.Connection,
    module_id: uuid.UUID,
    objects: Sequence[NewObject],
    placements: dict[Any, Any],
    user_id: uuid.UUID | None,
) -> None:
    """Bulk insert (version 1) at their final place, so no row is written twice, with `create` history."""
    if not objects:
        return
    await conn.execute(
        INSERT_MANY,
        module_id,
        [o.id for o in objects],
        [o.parent_id for o in objects],
        [o.heading for o in objects],
        [o.body for o in objects],
        [o.body_text for o in objects],
        [json.dumps(o.attributes) for o in objects],
        [o.classification for o in objects],
        [o.fingerprint for o in objects],
        [json.dumps(o.references if o.references is not None else []) for o in objects],
        [o.lifecycle_state for o in objects],
        [o.source_object_id for o in objects],
        [o.source_module_id for o in objects],
        [o.is_placeholder for o in objects],
        [placements[o.id].position for o in objects],
        [placements[o.id].level for o in objects],
        user_id,
    )


async def create_objects(
    conn: asyncpg.Connection,
    module_id: uuid.UUID,
    objects: Sequence[NewObject],
    user_id: uuid.UUID | None,
    position: int | None = None,
) -> None:
    """Add new objects (parents before children; appended, or the first at `position`) with levels and
    `create` history; siblings shifted by an insertion are renumbered in the same transaction."""
    if not objects:
        return
    skeleton = await load_skeleton(conn, module_id)
    for index, obj in enumerate(objects):
        skeleton.outline.insert(obj.id, obj.parent_id, position if index == 0 else None)
    placements = skeleton.outline.placements()
    # new objects are inserted at their final place (and snapshotted there), so write_skeleton only
    # renumbers siblings an insertion at `position` shifted
    await insert_objects(conn, module_id, objects, placements, user_id)
    for obj in objects:
        place = placements[obj.id]
        skeleton.stored[obj.id] = (place.parent_id, place.position, place.level_path)
    await write_skeleton(conn, skeleton, placements)


class NewModuleFiller:
    """Fills a module created in the same transaction, batch by batch (parents before children, each object
    appended under its parent): what `create_objects` does for an empty module, with placements kept
    incrementally so a batch costs its own size, and a batch can be inserted while the next is prepared."""

    def __init__(self, module_id: uuid.UUID, user_id: uuid.UUID | None) -> None:
        self.module_id = module_id
        self.user_id = user_id
        self.outline: Outline[uuid.UUID] = Outline()
        self.placements: dict[uuid.UUID, Placement[uuid.UUID]] = {}

    async def add(self, conn: asyncpg.Connection, objects: Sequence[NewObject]) -> None:
        for obj in objects:
            self.outline.append(obj.id, obj.parent_id, self.placements)
        await insert_objects(conn, self.module_id, objects, self.placements, self.user_id)
