"""Object types (spec §1): a module's kinds of object, with required attributes and a form layout; the
object routes enforce them (store/object_writes.py). GET any role, writes editor+."""

from __future__ import annotations

from typing import Annotated, Any

from aiohttp import web
from pydantic import Field, model_validator

from req1_server.apischema import envelope, ref
from req1_server.db import database
from req1_server.domain.ids import new_id
from req1_server.domain.object_types import LayoutError, check_layout
from req1_server.http import json_response, no_content, page_envelope
from req1_server.routing import Routes
from req1_server.scope import body as in_body
from req1_server.scope import path as in_path
from req1_server.scope import query as in_query
from req1_server.store import crud, object_types
from req1_server.store.patch import changes
from req1_server.typed import (
    BodyModel,
    ById,
    Classification,
    Id,
    IdParam,
    LongPaged,
    Name,
    OptName,
    OptStrList,
    OptText,
    QueryModel,
    checked,
    reject,
)

routes = Routes(tag="object types")
COLLECTION = "/api/v1/object-types"
ITEM = COLLECTION + "/{id}"
IN_TYPE = (in_path("object_type"),)


def _layout(value: Any, name: str) -> dict[str, Any]:
    try:
        return check_layout(value)
    except LayoutError as exc:
        raise reject(str(exc)) from None


Layout = Annotated[dict[str, Any] | None, checked(_layout)]


class ModuleParam(QueryModel):
    module_id: IdParam

    @model_validator(mode="before")
    @classmethod
    def required(cls, data: Any) -> Any:
        """The contract's wording for an absent ``module_id``."""
        if isinstance(data, dict) and "module_id" not in data:
            raise reject("missing required parameter 'module_id'")
        return data


class ObjectTypeQuery(LongPaged, ModuleParam):
    """``module_id`` is checked before the paging parameters; without ``limit``, up to 1000 (the UI's fetch)."""


class ObjectTypeCreate(BodyModel):
    check_order = ("module_id", "name", "default_classification", "required_attributes", "attribute_schema")
    module_id: Id
    name: Name
    description: OptText = None
    default_classification: Classification = "normative"
    required_attributes: OptStrList = Field(None, description="names of module or global attribute definitions")
    attribute_schema: Layout = Field(None, description='{} or {"sections": [...]} (a form layout)')


class ObjectTypePatch(BodyModel):
    """Any field but ``module_id``; null clears only ``description``."""

    check_order = ("name", "default_classification", "required_attributes", "attribute_schema")
    name: OptName = None
    description: OptText = None
    default_classification: Classification = None
    required_attributes: OptStrList = None
    attribute_schema: Layout = None


@routes.get(COLLECTION, query=ObjectTypeQuery, response=envelope("ObjectType"),
            scope=(in_query("module", "module_id"),))
async def list_object_types(request: web.Request, query: ObjectTypeQuery) -> web.Response:
    """The module's object types by name (``module_id`` required; unknown module 404)."""
    async with database(request).acquire() as conn:
        rows, total = await object_types.page(conn, query.module_id, query.page)
    return json_response(page_envelope(rows, total, query.page))


@routes.post(COLLECTION, body=ObjectTypeCreate, status=201, response=ref("ObjectType"),
             scope=(in_body("module", "module_id"),))
async def create_object_type(request: web.Request, body: ObjectTypeCreate) -> web.Response:
    """Create an object type in a module."""
    values = {"id": new_id(), "module_id": body.module_id, "name": body.name, "description": body.description,
              "default_classification": body.default_classification or "normative",
              "required_attributes": body.required_attributes or [], "attribute_schema": body.attribute_schema or {}}
    row = await database(request).transaction(lambda conn: object_types.insert(conn, values))
    return json_response(row, status=201)


@routes.get(ITEM, params=ById, response=ref("ObjectType"), scope=IN_TYPE)
async def get_object_type(request: web.Request, path: ById) -> web.Response:
    """One object type."""
    async with database(request).acquire() as conn:
        return json_response(await crud.get(conn, object_types.TABLE, path.id))


@routes.patch(ITEM, params=ById, body=ObjectTypePatch, response=ref("ObjectType"), scope=IN_TYPE)
async def update_object_type(request: web.Request, path: ById, body: ObjectTypePatch) -> web.Response:
    """Change any field but the module; objects already stored are not re-checked."""
    updates = changes(body, {"description"})
    row = await database(request).transaction(lambda conn: object_types.update(conn, path.id, updates))
    return json_response(row)


@routes.delete(ITEM, params=ById, scope=IN_TYPE)
async def delete_object_type(request: web.Request, path: ById) -> web.Response:
    """Delete an object type; its objects keep their content and lose the type."""
    await database(request).transaction(lambda conn: crud.delete(conn, object_types.TABLE, path.id, None))
    return no_content()
