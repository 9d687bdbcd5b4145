"""CSV import into a module (spec §4.14): all rows or none, levels from the `level` column, defaults and
required attributes applied per row, appended in file order with `create` history."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg

from req1_server.domain.attributes import AttrDef, AttributeError_, check_required, parse_default
from req1_server.domain.csv_import import CsvImportError, CsvRow, parse_rows
from req1_server.domain.fingerprint import content_fingerprint
from req1_server.domain.ids import new_id
from req1_server.domain.sanitize import html_to_text, sanitize_html
from req1_server.errors import bad_request
from req1_server.store.definitions import visible
from req1_server.store.outline import NewObject, create_objects, lock_module


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


async def import_rows(conn: asyncpg.Connection, module_id: uuid.UUID, text: str, user_id: uuid.UUID) -> int:
    """Create one object per row under the module lock; returns how many."""
    module = await lock_module(conn, module_id)
    definitions = await visible(conn, module_id)
    try:
        rows = parse_rows(text, definitions)
    except CsvImportError as exc:
        raise bad_request(str(exc)) from None
    latest: dict[int, Any] = {}  # the last object seen at each depth: the parent of the next deeper row
    objects: list[NewObject] = []
    for row in rows:
        attributes = with_defaults(row, definitions, module["required_attributes"])
        body = sanitize_html(row.body)
        obj = NewObject(
            id=new_id(), parent_id=latest.get(row.depth - 1) if row.depth else None, heading=row.heading,
            body=body, body_text=html_to_text(body), attributes=attributes,
            classification=row.classification or module["default_classification"],
            fingerprint=content_fingerprint(row.heading, body, attributes),
        )
        latest[row.depth] = obj.id
        for deeper in [d for d in latest if d > row.depth]:
            del latest[deeper]
        objects.append(obj)
    await create_objects(conn, module_id, objects, user_id)
    return len(objects)
