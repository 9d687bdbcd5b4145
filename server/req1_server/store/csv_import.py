"""CSV import into a module (spec §4.14): all rows or none, levels from the `level` column, defaults and
required attributes applied per row, appended in file order with `create` history."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace
from typing import Any

import asyncpg

from req1_server.db import Database
from req1_server.domain.attributes import AttrDef, AttributeError_, check_required, parse_default
from req1_server.domain.csv_import import CsvImportError, CsvRow, decode, parse_rows
from req1_server.domain.fingerprint import content_fingerprint
from req1_server.domain.ids import new_id
from req1_server.domain.sanitize import html_to_text, sanitize_html
from req1_server.errors import bad_request
from req1_server.store import audit, lifecycle
from req1_server.store.definitions import visible
from req1_server.store.outline import NewObject, create_objects, lock_module
from req1_server.store.rows import require_row

MODULE_RULES = "SELECT required_attributes, default_classification FROM module WHERE id = $1"


def with_defaults(row: CsvRow, definitions: dict[str, AttrDef], required: list[str]) -> dict[str, Any]:
    attributes = dict(row.attributes)
    try:
        for name, definition in definitions.items():
            if name not in attributes and definition.default_value is not None:
                attributes[name] = parse_default(definition, definition.default_value)
        check_required(attributes, required)
    except AttributeError_ as exc:
        raise bad_request(f"row {row.row}: {exc}") from None
    return attributes


def prepare(data: bytes, definitions: dict[str, AttrDef], required: list[str],
            default_classification: str) -> list[NewObject]:
    """The objects a CSV body creates, fully built (decoding, typed cells, defaults, sanitizing, fingerprints):
    CPU work with no I/O, run in a worker thread before the module lock is taken."""
    try:
        rows = parse_rows(decode(data), definitions)
    except CsvImportError as exc:
        raise bad_request(str(exc)) from None
    latest: dict[int, Any] = {}  # the last object seen at each depth: the parent of the next deeper row
    objects: list[NewObject] = []
    for row in rows:
        attributes = with_defaults(row, definitions, required)
        body = sanitize_html(row.body)
        obj = NewObject(
            id=new_id(), parent_id=latest.get(row.depth - 1) if row.depth else None, heading=row.heading,
            body=body, body_text=html_to_text(body), attributes=attributes,
            classification=row.classification or default_classification,
            fingerprint=content_fingerprint(row.heading, body, attributes),
        )
        latest[row.depth] = obj.id
        for deeper in [d for d in latest if d > row.depth]:
            del latest[deeper]
        objects.append(obj)
    return objects


SET_MODEL = "UPDATE object SET lifecycle_model_id = $2 WHERE id = ANY($1::uuid[])"


async def import_csv(db: Database, module_id: uuid.UUID, data: bytes, user_id: uuid.UUID) -> int:
    """Create one object per row, all or none; returns how many. The rows are built off the event loop and
    outside the module lock, then inserted under it (rebuilt there only if the module's definitions, required
    attributes or default classification changed in between)."""
    async with db.acquire() as conn:
        module = await require_row(conn, MODULE_RULES, "module", module_id)
        definitions = await visible(conn, module_id)
    basis = (definitions, list(module["required_attributes"]), module["default_classification"])
    objects = await asyncio.to_thread(prepare, data, *basis)

    async def insert(conn: asyncpg.Connection) -> int:
        nonlocal objects
        locked = await lock_module(conn, module_id)
        now = (await visible(conn, module_id), list(locked["required_attributes"]), locked["default_classification"])
        if now != basis:
            objects = await asyncio.to_thread(prepare, data, *now)
        model_id = locked["default_lifecycle_model_id"]
        if model_id is not None:  # as a single create does: the module's default model, in its initial state
            model = await lifecycle.in_module(conn, model_id, module_id)
            objects = [replace(o, lifecycle_state=model.initial_state) for o in objects]
        await create_objects(conn, module_id, objects, user_id)
        if model_id is not None:
            await conn.execute(SET_MODEL, [o.id for o in objects], model_id)
        await audit.record(conn, "import", "module", module_id, user_id=user_id, details={
            "format": "csv", "objects_created": len(objects), "objects_updated": 0, "links_created": 0})
        return len(objects)

    return await db.transaction(insert)
