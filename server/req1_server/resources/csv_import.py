"""CSV import into a module (spec §4.14): all rows or none; the import itself is store.csv_import."""

from __future__ import annotations

from aiohttp import web

from req1_server.apischema import INT, STR, Body, obj
from req1_server.config import SETTINGS
from req1_server.db import database
from req1_server.errors import unsupported_media_type
from req1_server.http import json_response, read_body_limited
from req1_server.routing import Routes, user_of
from req1_server.store import csv_import
from req1_server.store.rows import require_module
from req1_server.typed import InModule

routes = Routes(tag="csv-import")


@routes.post("/api/v1/modules/{module_id}/import/csv", params=InModule, body=Body(STR, "text/csv"),
             response=obj(["objects_created"], objects_created=INT))
async def import_csv(request: web.Request, path: InModule) -> web.Response:
    """Create one object per row (appended in file order), with `create` history."""
    if request.content_type != "text/csv":
        raise unsupported_media_type("Content-Type must be text/csv")
    user_id = user_of(request).id
    db = database(request)
    async with db.acquire() as conn:
        await require_module(conn, path.module_id)
    data = await read_body_limited(request, request.app[SETTINGS].max_upload_bytes)
    created = await csv_import.import_csv(db, path.module_id, data, user_id)
    return json_response({"objects_created": created})
