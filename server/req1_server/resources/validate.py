"""Module validation (spec §4.15): two set-based reads (store.exports), rules in domain.validation."""

from __future__ import annotations

from aiohttp import web

from req1_server.apischema import INT, STR, UUID, array, nullable, obj
from req1_server.db import database
from req1_server.http import json_response
from req1_server.routing import Routes
from req1_server.store import exports
from req1_server.typed import InModule

routes = Routes(tag="validate")


@routes.get("/api/v1/modules/{module_id}/validate", params=InModule, response=obj(
    ["module_id", "issues", "object_count", "link_count"], module_id=UUID, object_count=INT, link_count=INT,
    issues=array(obj(["rule", "severity", "object_id", "link_id", "message"], rule=STR, severity=STR,
                     object_id=nullable(UUID), link_id=nullable(UUID), message=STR))))
async def validate_module(request: web.Request, path: InModule) -> web.Response:
    """Rule findings over live objects and their links."""
    return json_response(await database(request).read(request, lambda conn: exports.validation(conn, path.module_id)))
