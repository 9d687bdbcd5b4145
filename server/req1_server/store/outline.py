"""A module's outline in the database: the module lock, the live skeleton (parents, positions, levels) and
the bulk insert of new objects at their final place, with `create` history.

Levels and positions are derived from the outline (domain.outline) and only changed rows are written back.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg

from req1_server.domain.outline import Outline, Placement, level_text
from req1_server.store.history import snapshot
from req1_server.store.rows import require_row

MODULE_LOCK = "SELECT * FROM module WHERE id = $1 FOR UPDATE"
SKELETON = "SELECT id, parent_id, position, level_path FROM object WHERE module_id = $1 AND deleted_at IS NULL"
WRITE_PLACEMENTS = """
UPDATE object o SET parent_id = u.parent_id, position = u.position, level = u.level,
       level_path = string_to_array(u.level, '.')::int[]
FROM unnest($1::uuid[], $2::uuid[], $3::int[], $4::text[]) AS u(id, parent_id, position, level)
WHERE o.id = u.id
"""
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
          level, classification, deleted_at)""" + snapshot("inserted", "$17", "'create'")


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


@dataclass
class NewObject:
    """A fully validated object to insert (body sanitized, fingerprint computed)."""

    id: uuid.UUID
    parent_id: uuid.UUID | None
    heading: str | None
    body: str | None
    body_text: str
    attributes: dict[str, Any] | None
    classification: str
    fingerprint: str
    references: Any = None
    lifecycle_state: str | None = None
    source_object_id: uuid.UUID | None = None
    source_module_id: uuid.UUID | None = None
    is_placeholder: bool = False


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
        [None if o.attributes is None else json.dumps(o.attributes) for o in objects],
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


# appending moves nothing: only the new objects' parents (their level) and how many live children each has
# already are needed; the top level's count is the first level component of the module's last object
LAST_TOP_LEVEL = """
SELECT level_path[1] FROM object WHERE module_id = $1 AND deleted_at IS NULL ORDER BY level_path DESC LIMIT 1
"""
APPEND_PARENTS = """
SELECT p.id, p.level_path,
       (SELECT coalesce(max(c.position) + 1, 0) FROM object c WHERE c.parent_id = p.id AND c.deleted_at IS NULL)
         AS next_position
FROM object p WHERE p.id = ANY($1::uuid[]) AND p.module_id = $2 AND p.deleted_at IS NULL
"""


async def append_objects(conn: asyncpg.Connection, module_id: uuid.UUID, objects: Sequence[NewObject],
                         user_id: uuid.UUID | None) -> bool:
    """Append new objects (parents before children) reading only their parents and sibling counts, so the
    cost does not grow with the module. False (nothing done) when a parent is not a live object of the module;
    the caller then takes the general path."""
    new = {o.id for o in objects}
    outside = {o.parent_id for o in objects if o.parent_id is not None and o.parent_id not in new}
    next_position: dict[uuid.UUID | None, int] = {}
    prefix: dict[uuid.UUID | None, tuple[int, ...]] = {None: ()}
    if any(o.parent_id is None for o in objects):
        last = await conn.fetchval(LAST_TOP_LEVEL, module_id)
        next_position[None] = int(last or 0)
    if outside:
        rows = await conn.fetch(APPEND_PARENTS, list(outside), module_id)
        if len(rows) != len(outside):
            return False
        for r in rows:
            prefix[r["id"]] = tuple(r["level_path"])
            next_position[r["id"]] = int(r["next_position"])
    placements: dict[uuid.UUID, Placement[uuid.UUID]] = {}
    for obj in objects:
        position = next_position[obj.parent_id]
        next_position[obj.parent_id] = position + 1
        path = (*prefix[obj.parent_id], position + 1)
        placements[obj.id] = Placement(obj.parent_id, position, path)
        prefix[obj.id], next_position[obj.id] = path, 0
    await insert_objects(conn, module_id, objects, placements, user_id)
    return True


async def create_objects(
    conn: asyncpg.Connection,
    module_id: uuid.UUID,
    objects: Sequence[NewObject],
    user_id: uuid.UUID | None,
    position: int | None = None,
) -> None:
    """Add new objects (parents before children; appended, or the first at `position`) with levels and
    `create` history; siblings shifted by an insertion are renumbered in the same transaction. Appends touch
    only the new rows (``append_objects``); an insertion at a position loads the module's outline."""
    if not objects:
        return
    if position is None and await append_objects(conn, module_id, objects, user_id):
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
