"""Stubs so req1-style single-page apps load their main screens (§5), and 501s for the rest.

Scripts answer 404 for an unknown module once the domain's ``module`` table exists; before that every
module is unknown.
"""

from __future__ import annotations

from aiohttp import web

from req1_server.apischema import JSON_OBJ, array
from req1_server.db import database
from req1_server.errors import not_found, not_implemented
from req1_server.http import json_response
from req1_server.routing import Role, Routes
from req1_server.typed import InModule

routes = Routes(tag="stubs")


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
    "dashboards": "/api/v1/dashboards",
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
