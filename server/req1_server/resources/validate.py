"""Module validation (spec §4.15): two set-based reads, rules evaluated by domain.validation."""

from __future__ import annotations

from typing import Any

import asyncpg
from aiohttp import web

from req1_server.apischema import INT, STR, UUID, array, nullable, obj
from req1_server.db import database
from req1_server.domain.validation import VLink, VObject, validate
from req1_server.errors import not_found
from req1_server.http import json_response, path_uuid
from req1_server.routing import Routes

routes = Routes(tag="validate")

MODULE = "SELECT id, required_attributes FROM module WHERE id = $1"
OBJECTS = """
SELECT id, parent_id, level, heading, body, classification, attributes,
       reviewed_fingerprint IS NOT DISTINCT FROM content_fingerprint AS reviewed
FROM object WHERE module_id = $1 AND deleted_at IS NULL ORDER BY level_path, id
"""
LINKS = """
SELECT l.id, l.source_object_id, l.target_object_id, l.suspect,
       coalesce(s.deleted_at IS NULL, false) AS source_live, coalesce(t.deleted_at IS NULL, false) AS target_live
FROM link l LEFT JOIN object s ON s.id = l.source_object_id LEFT JOIN object t ON t.id = l.target_object_id
WHERE l.source_object_id IN (SELECT id FROM object WHERE module_id = $1 AND deleted_at IS NULL)
   OR l.target_object_id IN (SELECT id FROM object WHERE module_id = $1 AND deleted_at IS NULL)
ORDER BY l.created_at, l.id
"""


@routes.get("/api/v1/modules/{module_id}/validate", response=obj(
    ["module_id", "issues", "object_count", "link_count"], module_id=UUID, object_count=INT, link_count=INT,
    issues=array(obj(["rule", "severity", "object_id", "link_id", "message"], rule=STR, severity=STR,
                     object_id=nullable(UUID), link_id=nullable(UUID), message=STR))))
async def validate_module(request: web.Request) -> web.Response:
    """Rule findings over live objects and their links."""
    module_id = path_uuid(request, "module_id")

    async def compute(conn: asyncpg.Connection) -> dict[str, Any]:
        module = await conn.fetchrow(MODULE, module_id)
        if module is None:
            raise not_found("module", module_id)
        objects = [VObject(**dict(r)) for r in await conn.fetch(OBJECTS, module_id)]
        links = [
            VLink(r["id"], r["source_object_id"], r["target_object_id"], r["suspect"], r["source_live"],
                  r["target_live"])
            for r in await conn.fetch(LINKS, module_id)
        ]
        return {"module_id": module_id, "issues": validate(objects, links, module["required_attributes"]),
                "object_count": len(objects), "link_count": len(links)}

    return json_response(await database(request).read(request, compute))
