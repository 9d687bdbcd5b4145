"""Grid indicators (an extension beyond the core contract): per-object comment and attachment counts."""

from __future__ import annotations

from aiohttp import web

from req1_server.apischema import INT, UUID, array, obj
from req1_server.db import database
from req1_server.http import json_response
from req1_server.routing import Routes
from req1_server.store import indicators
from req1_server.typed import InModule

routes = Routes(tag="indicators")


@routes.get(
    "/api/v1/modules/{module_id}/indicators", params=InModule,
    summary="Comment and attachment counts of the module's live objects (only those with any)",
    response=obj(["module_id", "items"], module_id=UUID, items=array(obj(
        ["object_id", "comments", "open_comments", "attachments"],
        object_id=UUID, comments=INT, open_comments=INT, attachments=INT))),
)
async def module_indicators(request: web.Request, path: InModule) -> web.Response:
    return json_response(await database(request).read(
        request, lambda conn: indicators.module_counts(conn, path.module_id)))
