"""Links between objects (spec §4.6): fingerprints of both ends stored; suspect resolution."""

from __future__ import annotations

from aiohttp import web
from pydantic import Field

from req1_server.access import visible_workspaces
from req1_server.apischema import envelope, ref
from req1_server.db import database
from req1_server.domain.ids import new_id
from req1_server.errors import bad_request
from req1_server.http import json_response, no_content
from req1_server.resources.crud import page_response
from req1_server.routing import Role, Routes
from req1_server.scope import body as in_body
from req1_server.scope import path as in_path
from req1_server.scope import query as in_query
from req1_server.store import crud
from req1_server.store import links as store
from req1_server.store.patch import changes
from req1_server.typed import BodyModel, ById, Id, LongPaged, OptBool, OptObject, QId

routes = Routes(tag="links")


class LinkQuery(LongPaged):
    source_object_id: QId = None
    target_object_id: QId = None
    link_type_id: QId = None
    module_id: QId = Field(None, description="links with either end in this module")


class LinkCreate(BodyModel):
    source_object_id: Id
    target_object_id: Id
    link_type_id: Id
    attributes: OptObject = None


class LinkPatch(BodyModel):
    field_roles = {"attributes": "editor"}  # reviewers resolve suspect links, editors change them
    suspect: OptBool = None
    attributes: OptObject = None


ITEM = (in_path("link"),)


@routes.get("/api/v1/links", query=LinkQuery, response=envelope("Link"), scope=(
    in_query("object", "source_object_id"), in_query("object", "target_object_id"), in_query("module", "module_id")))
async def list_links(request: web.Request, query: LinkQuery) -> web.Response:
    """Links filtered by ends, type, or module (either end), by creation."""
    ends = (query.source_object_id, query.target_object_id, query.link_type_id, query.module_id)
    within = await visible_workspaces(request)
    return await page_response(request, query.page, lambda conn, page: store.page(conn, ends, page, within))


@routes.post("/api/v1/links", body=LinkCreate, status=201, response=ref("Link"),
             scope=(in_body("object", "source_object_id"), in_body("object", "target_object_id")))
async def create_link(request: web.Request, body: LinkCreate) -> web.Response:
    """Link two live objects (modules may differ)."""
    if body.source_object_id == body.target_object_id:
        raise bad_request("source and target must be different objects")
    row = await database(request).transaction(lambda conn: store.create(
        conn, new_id(), body.source_object_id, body.target_object_id, body.link_type_id, body.attributes))
    return json_response(row, status=201)


@routes.get("/api/v1/links/{id}", params=ById, response=ref("Link"), scope=ITEM)
async def get_link(request: web.Request, path: ById) -> web.Response:
    """One link."""
    async with database(request).acquire() as conn:
        return json_response(await crud.get(conn, store.LINKS, path.id))


@routes.patch("/api/v1/links/{id}", role=Role.REVIEWER, params=ById, body=LinkPatch, response=ref("Link"),
              scope=ITEM)
async def update_link(request: web.Request, path: ById, body: LinkPatch) -> web.Response:
    """`suspect:false` resolves (fingerprints refreshed); reviewers may only change `suspect`."""
    async with database(request).acquire() as conn:
        return json_response(await store.update(conn, path.id, changes(body, store.LINKS.nullable)))


@routes.delete("/api/v1/links/{id}", params=ById, scope=ITEM)
async def delete_link(request: web.Request, path: ById) -> web.Response:
    """Delete a link."""
    async with database(request).acquire() as conn:
        await crud.delete(conn, store.LINKS, path.id, None)
    return no_content()
