"""Publish a module (spec §4.16) as HTML, Markdown, CSV, text or YAML; rendering is in domain.publish."""

from __future__ import annotations

from typing import Any

import asyncpg
from aiohttp import web

from req1_server.apischema import STR
from req1_server.db import database
from req1_server.domain.publish import CONTENT_TYPES, PublishError, PubObject, render, resolve_format
from req1_server.errors import bad_request, not_found
from req1_server.http import path_uuid
from req1_server.routing import Routes

routes = Routes(tag="publish")

HTML_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'"
MODULE = "SELECT id, name FROM module WHERE id = $1"
DEFINITIONS = """
SELECT name FROM attribute_definition WHERE module_id = $1 OR module_id IS NULL
ORDER BY (module_id IS NULL), name
"""
OBJECTS = """
SELECT id, level, heading, body, classification, current_version, attributes
FROM object WHERE module_id = $1 AND deleted_at IS NULL ORDER BY level_path, id
"""


async def load(conn: asyncpg.Connection, module_id: Any) -> tuple[str, list[PubObject], list[str]]:
    module = await conn.fetchrow(MODULE, module_id)
    if module is None:
        raise not_found("module", module_id)
    names = list(dict.fromkeys(r["name"] for r in await conn.fetch(DEFINITIONS, module_id)))
    objects = [
        PubObject(str(r["id"]), r["level"], r["heading"], r["body"], r["classification"], r["current_version"],
                  r["attributes"] or {})
        for r in await conn.fetch(OBJECTS, module_id)
    ]
    return module["name"], objects, names


@routes.get("/api/v1/modules/{module_id}/publish", query_token=True, query={"format": STR})
async def publish(request: web.Request) -> web.Response:
    """The module's live objects in document order, rendered in the requested format."""
    module_id = path_uuid(request, "module_id")
    try:
        fmt = resolve_format(request.query.get("format"))
    except PublishError as exc:
        raise bad_request(str(exc)) from None

    async def compute(conn: asyncpg.Connection) -> tuple[str, list[PubObject], list[str]]:
        return await load(conn, module_id)

    name, objects, attribute_names = await database(request).read(request, compute)
    text = render(fmt, name, objects, attribute_names)
    headers = {"Content-Type": CONTENT_TYPES[fmt]}
    if fmt == "html":
        headers["Content-Security-Policy"] = HTML_CSP
    if fmt == "csv":
        headers["Content-Disposition"] = 'attachment; filename="objects.csv"'
    return web.Response(body=text.encode("utf-8"), headers=headers)
