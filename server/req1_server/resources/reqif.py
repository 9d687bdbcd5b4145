"""ReqIF 1.2 import into a project and export of a module (spec §4.13).

Parsing and writing are pure (domain.reqif, run in a worker thread); the import (store.reqif_import) is one
transaction with bulk inserts, so a bad file changes nothing and gets a 400 naming what is wrong.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any, Literal

import asyncpg
from aiohttp import web
from pydantic import Field

from req1_server.apischema import INT, MULTIPART_FILE, UUID, array, obj
from req1_server.config import SETTINGS
from req1_server.db import database
from req1_server.domain.reqif.model import ReqifError
from req1_server.domain.reqif.parse import parse_file
from req1_server.domain.reqif.serialize import serialize, to_reqifz
from req1_server.errors import bad_request
from req1_server.http import json_response
from req1_server.routing import Routes, user_of
from req1_server.store import audit, exports, reqif_import
from req1_server.store.rows import require_project
from req1_server.typed import InModule, PathId, PathModel, QueryModel, query_check, reject
from req1_server.uploads import spool_file

routes = Routes(tag="reqif")


class InProject(PathModel):
    project_id: PathId


def _format(value: str, name: str) -> str:
    if value not in ("reqif", "reqifz"):
        raise reject(f"unsupported format '{value}', expected reqif or reqifz")
    return value


class ExportFormat(QueryModel):
    format: Annotated[Literal["reqif", "reqifz"], query_check(_format)] = Field("reqif", description="default reqif")


@routes.post("/api/v1/projects/{project_id}/reqif/import", params=InProject, body=MULTIPART_FILE, status=201,
             response=obj(["module_id", "module_ids", "objects_created", "links_created"], module_id=UUID,
                          module_ids=array(UUID), objects_created=INT, links_created=INT,
                          attribute_definitions_created=INT, object_types_created=INT, link_types_created=INT))
async def import_reqif(request: web.Request, path: InProject) -> web.Response:
    """One module per SPECIFICATION, objects with hierarchy, attribute definitions and links (201)."""
    user = user_of(request)
    db = database(request)
    async with db.acquire() as conn:
        await require_project(conn, path.project_id)
    limit = request.app[SETTINGS].max_upload_bytes
    spool, file_name = await spool_file(request, limit)
    try:
        document = await asyncio.to_thread(parse_file, spool, file_name, 10 * limit)  # streamed: see domain.reqif
    except ReqifError as exc:
        raise bad_request(str(exc)) from None
    finally:
        spool.close()

    async def run(conn: asyncpg.Connection) -> dict[str, Any]:
        result = await reqif_import.store(conn, path.project_id, document, user.id)
        await audit.record(conn, "import", "module", result["module_id"], user_id=user.id, details={
            "format": "reqif", "objects_created": result["objects_created"], "objects_updated": 0,
            "links_created": result["links_created"], "module_ids": [str(m) for m in result["module_ids"]]})
        return result

    return json_response(await db.transaction(run), status=201)


@routes.get("/api/v1/modules/{module_id}/reqif/export", query_token=True, params=InModule, query=ExportFormat)
async def export_reqif(request: web.Request, path: InModule, query: ExportFormat) -> web.Response:
    """The module as `.reqif` (XML) or `.reqifz` (zip)."""
    export = await database(request).read(request, lambda conn: exports.reqif_module(conn, path.module_id))
    xml = await asyncio.to_thread(serialize, export)
    if query.format == "reqifz":
        body, ctype = await asyncio.to_thread(to_reqifz, xml, str(path.module_id)), "application/zip"
    else:
        body, ctype = xml, "application/xml"
    return web.Response(body=body, headers={
        "Content-Type": ctype, "Content-Disposition": f'attachment; filename="{path.module_id}.{query.format}"'})
