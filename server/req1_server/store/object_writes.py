"""Creating and editing an object (spec §4.3, §4.4): attribute validation, sanitizing, fingerprint, review
state, suspect flagging and history, in one transaction — or, for a content-only PATCH, in one statement.

A content-only PATCH runs optimistically: read the row with what validation needs, then one statement that
updates, flags suspects and writes history only if the version is still the one read (no transaction block,
no row lock held in between). Contended or structural edits take the module lock in a transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from req1_server.db import Database
from req1_server.domain.attributes import AttrDef, AttributeError_, check_required, validate_attributes
from req1_server.domain.fingerprint import content_fingerprint
from req1_server.domain.ids import new_id
from req1_server.domain.lifecycle import LifecycleError, Model, initial, transition
from req1_server.domain.object_types import TypeRule
from req1_server.domain.outline import MoveError
from req1_server.domain.sanitize import html_to_text, sanitize_html
from req1_server.errors import bad_request, conflict, forbidden, not_found
from req1_server.store import lifecycle, object_types, objects
from req1_server.store.definitions import definitions_from, visible
from req1_server.store.history import flag_suspects, snapshot, write_history
from req1_server.store.objects import OBJECT_COLUMNS, check_version, prefixed
from req1_server.store.outline import NewObject, create_objects, load_skeleton, lock_module, write_skeleton
from req1_server.store.rows import LIVE_OBJECT

SOURCE_OBJECT = "SELECT id, module_id, heading, body, attributes, is_placeholder FROM object WHERE id = $1"
REQUIRED_ATTRIBUTES = "SELECT required_attributes FROM module WHERE id = $1"
SET_TYPE_AND_MODEL = "UPDATE object SET object_type_id = $2, lifecycle_model_id = $3 WHERE id = $1"
TYPE_COLUMNS = ", ".join(f"t.{c} AS type_{c}" for c in (
    "id", "module_id", "name", "default_classification", "required_attributes", "attribute_schema"))
MODEL_COLUMNS = ", ".join(f"lm.{c} AS lm_{c}" for c in ("name", "initial_state", "states", "transitions"))
SET_CONTENT = """
UPDATE object SET heading = $2, body = $3, body_text = $4, attributes = $5, classification = $6,
       content_fingerprint = $7,
       reviewed_fingerprint = CASE $8 WHEN 'set' THEN $7 WHEN 'clear' THEN NULL ELSE reviewed_fingerprint END,
       reviewed_at = CASE $8 WHEN 'set' THEN now() WHEN 'clear' THEN NULL ELSE reviewed_at END,
       reviewed_by = CASE $8 WHEN 'set' THEN $9 WHEN 'clear' THEN NULL ELSE reviewed_by END,
       references_ = $10, lifecycle_state = $11, object_type_id = $12, current_version = current_version + 1,
       updated_at = now()
"""
UPDATE_CONTENT = f"{SET_CONTENT}WHERE id = $1"
# $3: whether the attribute definitions are wanted; $4: whether the edit names a type, $5: that type
EDIT_READ = f"""
SELECT {prefixed("o")}, {TYPE_COLUMNS}, {MODEL_COLUMNS}, m.required_attributes AS module_required_attributes,
       m.definitions_version AS module_definitions_version,
       CASE WHEN $3 THEN (
         SELECT json_agg(json_build_object('name', d.name, 'data_type', d.data_type, 'enum_values', d.enum_values,
                                           'multi_select', d.multi_select, 'default_value', d.default_value)
                         ORDER BY (d.module_id IS NULL) DESC)
         FROM attribute_definition d WHERE d.module_id = $2 OR d.module_id IS NULL) END AS module_definitions
FROM object o JOIN module m ON m.id = o.module_id
LEFT JOIN object_type t ON t.id = CASE WHEN $4 THEN $5::uuid ELSE o.object_type_id END
LEFT JOIN lifecycle_model lm ON lm.id = o.lifecycle_model_id
WHERE o.id = $1 AND o.module_id = $2 AND o.deleted_at IS NULL
"""
EDIT_READ_LOCKED = EDIT_READ + "FOR UPDATE OF o"
# $13: flag suspects; $14: the version read; $15: the module's definitions version the attributes were
# validated against (NULL: attributes unchanged), $16: the module. The guard holds the module row FOR SHARE
# (a definition change holds it updated) and rechecks the version once a concurrent change has committed.
EDIT_WRITE = f"""
WITH guard AS (SELECT 1 FROM module WHERE id = $16 AND definitions_version = $15 FOR SHARE),
updated AS ({SET_CONTENT.strip()}
  WHERE id = $1 AND current_version = $14 AND deleted_at IS NULL
    AND ($15::bigint IS NULL OR EXISTS (SELECT 1 FROM guard)) RETURNING {OBJECT_COLUMNS}),
suspect AS (
  UPDATE link l SET suspect = true, updated_at = now()
  WHERE $13 AND NOT l.suspect AND EXISTS (SELECT 1 FROM updated)
    AND ((l.source_object_id = $1 AND l.source_fingerprint IS DISTINCT FROM $7)
      OR (l.target_object_id = $1 AND l.target_fingerprint IS DISTINCT FROM $7))),
history AS ({snapshot("updated", "$9", "'update'").strip()})
SELECT * FROM updated
"""
OPTIMISTIC_ATTEMPTS = 2  # content-only PATCH: version-guarded tries before falling back to row locking


def checked_attributes(raw: Mapping[str, Any], definitions: dict[str, AttrDef], required: list[str] | None,
                       defaults: bool = False) -> dict[str, Any]:
    try:
        attributes = validate_attributes(raw, definitions, apply_defaults=defaults)
        if required is not None:
            check_required(attributes, required)
    except AttributeError_ as exc:
        raise bad_request(str(exc)) from None
    return attributes


def required_present(attributes: dict[str, Any] | None, required: list[str]) -> None:
    try:
        check_required(attributes or {}, required)
    except AttributeError_ as exc:
        raise bad_request(str(exc)) from None


def lifecycle_checked(check: Any, *args: Any) -> Any:
    """A lifecycle rule (domain/lifecycle.py) as the API answers it: 400, or 403 for a transition's role."""
    try:
        return check(*args)
    except LifecycleError as exc:
        raise (forbidden(str(exc)) if exc.role else bad_request(str(exc))) from None


def type_satisfied(rule: TypeRule | None, module_id: uuid.UUID, attributes: dict[str, Any] | None) -> None:
    """400 unless the object's type (if any) is of its module and finds its required attributes (§1)."""
    problem = rule.problem(module_id, attributes) if rule is not None else None
    if problem is not None:
        raise bad_request(problem)


async def live_parent(conn: asyncpg.Connection, module_id: uuid.UUID, parent_id: uuid.UUID) -> None:
    parent = await conn.fetchrow(LIVE_OBJECT, parent_id)
    if parent is None:
        raise not_found("object", parent_id)
    if parent["module_id"] != module_id:
        raise bad_request("parent must belong to the same module")


# ---- create ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Draft:
    """A new object as the client asked for it (types already checked)."""

    parent_id: uuid.UUID | None = None
    position: int | None = None
    heading: str | None = None
    body: str | None = None
    attributes: dict[str, Any] | None = None
    classification: str | None = None
    references: list[Any] = field(default_factory=list)
    lifecycle_state: str | None = None
    source_object_id: uuid.UUID | None = None
    source_module_id: uuid.UUID | None = None
    is_placeholder: bool = False
    object_type_id: uuid.UUID | None = None
    lifecycle_model_id: uuid.UUID | None = None


async def from_source(conn: asyncpg.Connection, draft: Draft) -> tuple[Draft, Any]:
    """A placeholder copies heading, body and attributes the client left out from its source (the source's
    attributes are returned beside the draft)."""
    if draft.source_object_id is None:
        raise bad_request("a placeholder requires source_object_id")
    source = await conn.fetchrow(SOURCE_OBJECT, draft.source_object_id)
    if source is None:
        raise not_found("object", draft.source_object_id)
    if source["is_placeholder"]:
        raise bad_request("source object is itself a placeholder")
    return Draft(**{**draft.__dict__, "heading": source["heading"] if draft.heading is None else draft.heading,
                    "body": source["body"] if draft.body is None else draft.body,
                    "source_module_id": draft.source_module_id or source["module_id"]}), source["attributes"]


async def create(db: Database, module_id: uuid.UUID, draft: Draft, user_id: uuid.UUID) -> asyncpg.Record:
    """Create an object (appended, or inserted at `position`), with history and levels."""

    async def run(conn: asyncpg.Connection) -> asyncpg.Record:
        nonlocal draft
        module = await lock_module(conn, module_id)
        if draft.parent_id is not None:
            await live_parent(conn, module_id, draft.parent_id)
        copy, source_attributes = False, None
        if draft.is_placeholder:
            draft, source_attributes = await from_source(conn, draft)
            copy = draft.attributes is None
        rule = None
        if draft.object_type_id is not None:
            rule = TypeRule.of(await object_types.for_object(conn, draft.object_type_id, module_id))
        model_id = draft.lifecycle_model_id or module["default_lifecycle_model_id"]
        state = draft.lifecycle_state
        if model_id is not None:  # a model: the state must be one of its own, or starts as its initial one
            state = lifecycle_checked(initial, await lifecycle.in_module(conn, model_id, module_id), state)
        definitions = await visible(conn, module_id)
        attributes: dict[str, Any] | None
        if copy:
            attributes = None if source_attributes is None else dict(source_attributes)
            required_present(attributes, module["required_attributes"])
        else:
            attributes = checked_attributes(draft.attributes or {}, definitions, module["required_attributes"], True)
            if draft.attributes is None and not attributes:
                attributes = None  # absent and no defaults: null, as the original (and its fingerprint)
        type_satisfied(rule, module_id, attributes)
        classification = draft.classification or (rule.default_classification if rule is not None
                                                   else module["default_classification"])  # body > type > module
        clean = sanitize_html(draft.body)
        obj = NewObject(
            id=new_id(), parent_id=draft.parent_id, heading=draft.heading, body=clean, body_text=html_to_text(clean),
            attributes=attributes, classification=classification,
            fingerprint=content_fingerprint(draft.heading, clean, attributes), references=draft.references,
            lifecycle_state=state, source_object_id=draft.source_object_id,
            source_module_id=draft.source_module_id, is_placeholder=draft.is_placeholder,
        )
        await create_objects(conn, module_id, [obj], user_id, draft.position)
        if rule is not None or model_id is not None:
            await conn.execute(SET_TYPE_AND_MODEL, obj.id, rule.id if rule is not None else None, model_id)
        return await objects.reread(conn, obj.id)

    return await db.transaction(run)


# ---- edit ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Edit:
    """A PATCH of an object: the present fields (``store.patch.changes``) plus review and version."""

    updates: dict[str, Any]
    reviewed: bool | None = None
    expected_version: int | None = None
    role: str = "viewer"  # the caller's, for transitions that require one

    @property
    def structural(self) -> bool:
        return "parent_id" in self.updates or "position" in self.updates


async def edit(db: Database, module_id: uuid.UUID, object_id: uuid.UUID, change: Edit,
               user_id: uuid.UUID) -> asyncpg.Record:
    """One version bump and one `update` history row; optimistic first when only content changes."""
    editor = Editor(module_id, object_id, change, user_id)
    if not change.structural:  # two round trips, no BEGIN/COMMIT
        for _ in range(OPTIMISTIC_ATTEMPTS):
            try:
                async with db.acquire() as conn:
                    row = await editor.content_only(conn, lock=False)
            except (asyncpg.SerializationError, asyncpg.DeadlockDetectedError):
                row = None
            if row is not None:
                return row
        return await db.transaction(editor.content_locked)  # contended: serialize with the other writers
    return await db.transaction(editor.structural)


@dataclass(frozen=True)
class Content:
    """The object's content after the edit, and what the edit does to its review state."""

    values: tuple[Any, ...]  # $2…$12 of SET_CONTENT
    fingerprint: str
    changed: bool


class Editor:
    def __init__(self, module_id: uuid.UUID, object_id: uuid.UUID, change: Edit, user_id: uuid.UUID) -> None:
        self.module_id, self.object_id, self.change, self.user_id = module_id, object_id, change, user_id

    def content(self, row: asyncpg.Record, definitions: dict[str, AttrDef] | None, required: list[str],
                rule: TypeRule | None, model: Model | None) -> Content:
        updates = self.change.updates
        heading = updates["heading"] if "heading" in updates else row["heading"]
        text = sanitize_html(updates["body"]) if "body" in updates else row["body"]
        classification = updates.get("classification", row["classification"])
        attributes = row["attributes"]
        if definitions is not None:
            attributes = checked_attributes(updates["attributes"], definitions, None)
        if "attributes" in updates or "classification" in updates:
            required_present(attributes, required)
        if "attributes" in updates or "object_type_id" in updates:
            type_satisfied(rule, self.module_id, attributes)
        fingerprint = content_fingerprint(heading, text, attributes)
        changed = fingerprint != row["content_fingerprint"]
        review = "clear" if changed or self.change.reviewed is False else "set" if self.change.reviewed else "keep"
        lifecycle = updates["lifecycle_state"] if "lifecycle_state" in updates else row["lifecycle_state"]
        if model is not None and "lifecycle_state" in updates:
            lifecycle_checked(transition, model, row["lifecycle_state"], lifecycle, self.change.role)
        values = (heading, text, html_to_text(text), attributes, classification, fingerprint, review, self.user_id,
                  updates.get("references_", row["references_"]), lifecycle, rule.id if rule is not None else None)
        return Content(values, fingerprint, changed)

    async def content_only(self, conn: asyncpg.Connection, lock: bool) -> asyncpg.Record | None:
        """None when a concurrent writer changed the object between the read and the write."""
        wants_definitions = "attributes" in self.change.updates
        read = EDIT_READ_LOCKED if lock else EDIT_READ
        names_type = "object_type_id" in self.change.updates
        row = check_version(await conn.fetchrow(read, self.object_id, self.module_id, wants_definitions, names_type,
                                                self.change.updates.get("object_type_id")),
                            self.object_id, self.change.expected_version)
        definitions = definitions_from(row["module_definitions"] or []) if wants_definitions else None
        model = Model.of(row, "lm_") if row["lifecycle_model_id"] is not None else None
        content = self.content(row, definitions, row["module_required_attributes"], self.type_rule(row), model)
        validated_against = row["module_definitions_version"] if wants_definitions else None
        written = await conn.fetchrow(EDIT_WRITE, self.object_id, *content.values, content.changed,
                                      row["current_version"], validated_against, self.module_id)
        if written is not None and content.changed and not lock:
            # a link created while this statement waited for the row is invisible to its snapshot: flag again
            await flag_suspects(conn, [(self.object_id, content.fingerprint)])
        return written

    def type_rule(self, row: asyncpg.Record) -> TypeRule | None:
        """The type the object will have, joined by EDIT_READ (400 when the edit names an unknown one)."""
        rule = TypeRule.of(row, "type_")
        named = self.change.updates.get("object_type_id")
        if named is not None and rule is None:
            raise bad_request(f"object type '{named}' not found")
        return rule

    async def content_locked(self, conn: asyncpg.Connection) -> asyncpg.Record:
        for _ in range(OPTIMISTIC_ATTEMPTS):  # the row is locked; only a definition change can intervene
            row = await self.content_only(conn, lock=True)
            if row is not None:
                return row
        raise conflict("concurrent update, please retry")

    async def structural(self, conn: asyncpg.Connection) -> asyncpg.Record:
        await lock_module(conn, self.module_id)
        row = await objects.locked(conn, self.module_id, self.object_id, self.change.expected_version)
        updates = self.change.updates
        definitions = await visible(conn, self.module_id) if "attributes" in updates else None
        checks_required = "attributes" in updates or "classification" in updates
        required = await conn.fetchval(REQUIRED_ATTRIBUTES, self.module_id) if checks_required else []
        type_id = updates["object_type_id"] if "object_type_id" in updates else row["object_type_id"]
        rule = TypeRule.of(await object_types.for_object(conn, type_id, self.module_id)) if type_id else None
        model = None
        if "lifecycle_state" in updates and row["lifecycle_model_id"] is not None:
            model = await lifecycle.in_module(conn, row["lifecycle_model_id"], self.module_id)
        content = self.content(row, definitions, required, rule, model)
        await conn.execute(UPDATE_CONTENT, self.object_id, *content.values)
        await self.place(conn, row)
        if content.changed:
            await flag_suspects(conn, [(self.object_id, content.fingerprint)])
        await write_history(conn, [self.object_id], self.user_id, "update")
        return await objects.reread(conn, self.object_id)

    async def place(self, conn: asyncpg.Connection, row: asyncpg.Record) -> None:
        updates = self.change.updates
        skeleton = await load_skeleton(conn, self.module_id)
        target = updates["parent_id"] if "parent_id" in updates else row["parent_id"]
        if target is not None and target not in skeleton.outline and await conn.fetchrow(LIVE_OBJECT, target) is None:
            raise not_found("object", target)
        try:
            if target != row["parent_id"] or updates.get("position") is not None:
                skeleton.outline.move(self.object_id, "move_to", target, updates.get("position"))
        except MoveError as exc:
            raise bad_request(str(exc)) from None
        await write_skeleton(conn, skeleton)

