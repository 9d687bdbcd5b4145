"""Stubs so req1-style single-page apps load their main screens (§5), and 501s for the rest.

Scripts answer 404 for an unknown module once the domain's ``module`` table exists; before that every
module is unknown.
"""

from __future__ import annotations

from aiohttp import web

from req1_server.apischema import INT, JSON_OBJ, Body, array, obj
from req1_server.db import database
from req1_server.errors import not_found, not_implemented
from req1_server.http import json_response, page_envelope
from req1_server.routing import Role, Routes
from req1_server.typed import ById, InModule, Paged, QBool

routes = Routes(tag="stubs")
IGNORED_BODY = Body(obj(), required=False)  # accepted for the UI's sake and never read


class NotificationQuery(Paged):
    unread_only: QBool = False


@routes.get("/api/v1/notifications", query=NotificationQuery, response=obj(
    ["items", "total", "offset", "limit"], items=array(JSON_OBJ), total=INT, offset=INT, limit=INT))
async def notifications(request: web.Request, query: NotificationQuery) -> web.Response:
    """No notifications in this server: an empty page."""
    return json_response(page_envelope([], 0, query.page))


@routes.get("/api/v1/notifications/unread-count", response=obj(["count"], count=INT))
async def unread_count(request: web.Request) -> web.Response:
    """Always zero."""
    return json_response({"count": 0})


@routes.post("/api/v1/notifications/{id}/read", role=Role.VIEWER, params=ById, body=IGNORED_BODY)
async def read_notification(request: web.Request, path: ById) -> web.Response:
    """No notification exists, so every ID is unknown."""
    raise not_found("notification", path.id)


@routes.post("/api/v1/notifications/read-all", role=Role.VIEWER, body=IGNORED_BODY,
             response=obj(["updated"], updated=INT))
async def read_all(request: web.Request) -> web.Response:
    """Nothing to mark."""
    return json_response({"updated": 0})


async def ensure_module(request: web.Request, module_id: object) -> None:
    async with database(request).acquire() as conn:
        exists = await conn.fetchval("SELECT to_regclass('module') IS NOT NULL")
        if exists:
            exists = await conn.fetchval("SELECT EXISTS (SELECT 1 FROM module WHERE id = $1)", module_id)
    if not exists:
        raise not_found("module", module_id)


@routes.get("/api/v1/modules/{module_id}/scripts", params=InModule, response=array(JSON_OBJ))
async def scripts(request: web.Request, path: InModule) -> web.Response:
    """No layout scripts: a plain empty array, so no script calls follow."""
    await ensure_module(request, path.module_id)
    return json_response([])


UNSUPPORTED = {
    "review packages": "/api/v1/review-packages",
    "change proposals": "/api/v1/change-proposals",
    "test cases": "/api/v1/test-cases",
    "diagrams": "/api/v1/diagrams",
    "dashboards": "/api/v1/dashboards",
    "e-signatures": "/api/v1/e-signatures",
}


def unsupported(feature: str) -> object:
    async def handler(request: web.Request) -> web.Response:
        raise not_implemented(feature)

    handler.__name__ = "unsupported_" + feature.replace(" ", "_").replace("-", "_")
    handler.__doc__ = f"Not supported: {feature} (501)."
    return handler


for _feature, _path in UNSUPPORTED.items():
    for _method in ("GET", "POST"):
        routes.route(_method, _path, role=Role.VIEWER)(unsupported(_feature))  # type: ignore[arg-type]
    for _method in ("GET", "PATCH", "DELETE"):
        routes.route(_method, _path + "/{id}", role=Role.VIEWER)(unsupported(_feature))  # type: ignore[arg-type]
