"""CSV import into a module (spec §4.14): all rows or none, levels from the `level` column."""

from __future__ import annotations

from typing import Any

import asyncpg
from aiohttp import web

from req1_server.apischema import INT, STR, Body, obj
from req1_server.config import SETTINGS
from req1_server.db import database
from req1_server.domain.attributes import AttributeError_, check_required, parse_default
from req1_server.domain.csv_import import CsvImportError, decode, parse_rows
from req1_server.domain.fingerprint import content_fingerprint
from req1_server.domain.ids import new_id
from req1_server.domain.sanitize import html_to_text, sanitize_html
from req1_server.errors import bad_request, not_found, unsupported_media_type
from req1_server.http import json_response, path_uuid, read_body_limited
from req1_server.routing import Routes, user_of
from req1_server.store import outline
from req1_server.store.definitions import visible

routes = Routes(tag="csv-import")


@routes.post("/api/v1/modules/{module_id}/import/csv", body=Body(STR, "text/csv"),
              response=obj(["objects_created"], objects_created=INT))
async def import_csv(request: web.Request) -> web.Response:
    """Create one object per row (appended in file order), with `create` history."""
    module_id = path_uuid(request, "module_id")
    if request.content_type != "text/csv":
        raise unsupported_media_type("Content-Type must be text/csv")
    user = user_of(request)
    db = database(request)
    async with db.acquire() as conn:
        if await conn.fetchval("SELECT 1 FROM module WHERE id = $1", module_id) is None:
            raise not_found("module", module_id)
    data = await read_body_limited(request, request.app[SETTINGS].max_upload_bytes)
    try:
        text = decode(data)
    except CsvImportError as exc:
        raise bad_request(str(exc)) from None

    async def run(conn: asyncpg.Connection) -> int:
        module = await outline.lock_module(conn, module_id)
        definitions = await visible(conn, module_id)
        try:
            rows = parse_rows(text, definitions)
        except CsvImportError as exc:
            raise bad_request(str(exc)) from None
        latest: dict[int, Any] = {}
        objects: list[outline.NewObject] = []
        for row in rows:
            attributes = dict(row.attributes)
            try:
                for name, definition in definitions.items():
                    if name not in attributes and definition.default_value is not None:
                        attributes[name] = parse_default(definition, definition.default_value)
                check_required(attributes, module["required_attributes"])
            except AttributeError_ as exc:
                raise bad_request(f"row {row.row}: {exc}") from None
            body = sanitize_html(row.body)
            obj = outline.NewObject(
                id=new_id(), parent_id=latest.get(row.depth - 1) if row.depth else None, heading=row.heading,
                body=body, body_text=html_to_text(body), attributes=attributes,
                classification=row.classification or module["default_classification"],
                fingerprint=content_fingerprint(row.heading, body, attributes),
            )
            latest[row.depth] = obj.id
            for deeper in [d for d in latest if d > row.depth]:
                del latest[deeper]
            objects.append(obj)
        await outline.create_objects(conn, module_id, objects, user.id)
        return len(objects)

    created = await db.transaction(run)
    return json_response({"objects_created": created})
