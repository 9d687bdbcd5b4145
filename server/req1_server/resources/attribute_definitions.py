"""Attribute definitions of a module (spec §4.5): typed, validated, and protected while in use."""

from __future__ import annotations

from typing import Any

import asyncpg
from aiohttp import web
from pydantic import Field
from pydantic.json_schema import JsonDict

from req1_server.apischema import STR, array, envelope, ref
from req1_server.db import database
from req1_server.domain.attributes import DATA_TYPES, AttributeError_, check_definition, normalize_data_type
from req1_server.domain.ids import new_id
from req1_server.errors import bad_request
from req1_server.http import json_response, no_content
from req1_server.resources.crud import page_response
from req1_server.routing import Routes
from req1_server.store import definitions as store
from req1_server.store.patch import changes, merged
from req1_server.typed import (
    BodyModel,
    InModule,
    LongPaged,
    ModuleItem,
    Name,
    OptBool,
    OptId,
    OptName,
    OptObject,
    OptStrList,
    OptText,
    QText,
    QueryModel,
    Text,
)

routes = Routes(tag="attribute-definitions")
DATA_TYPE_NAMES: JsonDict = {"enum": [*sorted(DATA_TYPES), "boolean"]}
NULLABLE = frozenset({"default_value", "enum_values", "depends_on", "dependency_mapping"})


class Definition(BodyModel):
    check_order = ("name", "multi_select", "enum_values", "default_value", "data_type")
    default_value: OptText = Field(None, description="as text; parsed by the data type and applied on create")
    enum_values: OptStrList = Field(None, description="the allowed values of an enum")
    multi_select: OptBool = Field(False, description="an enum value is a list of enum values")
    depends_on: OptId = Field(None, description="the definition whose value selects the allowed values")
    dependency_mapping: OptObject = Field(None, description="allowed values by the parent attribute's value")


class DefinitionCreate(Definition):
    name: Name
    data_type: Text = Field(json_schema_extra=DATA_TYPE_NAMES)


class DefinitionPatch(Definition):
    name: OptName = None
    data_type: OptText = Field(None, json_schema_extra=DATA_TYPE_NAMES)
    multi_select: OptBool = None


class ParentValue(QueryModel):
    parent_value: QText = None


def validated(values: dict[str, Any]) -> dict[str, Any]:
    """The definition with its data type normalized, refused when type, enum values and default disagree."""
    try:
        data_type = normalize_data_type(values["data_type"])
        check_definition(data_type, values["enum_values"], values["default_value"], bool(values["multi_select"]))
    except AttributeError_ as exc:
        raise bad_request(str(exc)) from None
    return {**values, "data_type": data_type, "multi_select": bool(values["multi_select"])}


@routes.get("/api/v1/modules/{module_id}/attribute-definitions", params=InModule, query=LongPaged,
            response=envelope("AttributeDefinition"))
async def list_definitions(request: web.Request, path: InModule, query: LongPaged) -> web.Response:
    """Module definitions then global ones, by name."""
    return await page_response(request, query.page, lambda conn, page: store.page(conn, path.module_id, page))


@routes.post("/api/v1/modules/{module_id}/attribute-definitions", params=InModule, body=DefinitionCreate,
             status=201, response=ref("AttributeDefinition"))
async def create_definition(request: web.Request, path: InModule, body: DefinitionCreate) -> web.Response:
    """Create a definition in the module."""
    values = validated({"id": new_id(), **body.model_dump()})
    row = await database(request).transaction(lambda conn: store.insert(conn, path.module_id, values))
    return json_response(row, status=201)


@routes.get("/api/v1/modules/{module_id}/attribute-definitions/{id}", params=ModuleItem,
            response=ref("AttributeDefinition"))
async def get_definition(request: web.Request, path: ModuleItem) -> web.Response:
    """One definition (module or global)."""
    async with database(request).acquire() as conn:
        return json_response(await store.get(conn, path.module_id, path.id))


@routes.get("/api/v1/modules/{module_id}/attribute-definitions/{id}/allowed-values", params=ModuleItem,
            query=ParentValue, response=array(STR))
async def allowed_values(request: web.Request, path: ModuleItem, query: ParentValue) -> web.Response:
    """`dependency_mapping[parent_value]` or [] (plain array)."""
    async with database(request).acquire() as conn:
        row = await store.get(conn, path.module_id, path.id)
    mapping = row["dependency_mapping"] or {}
    values = mapping.get(query.parent_value or "", []) if isinstance(mapping, dict) else []
    return json_response(values if isinstance(values, list) else [])


@routes.patch("/api/v1/modules/{module_id}/attribute-definitions/{id}", params=ModuleItem, body=DefinitionPatch,
              response=ref("AttributeDefinition"))
async def update_definition(request: web.Request, path: ModuleItem, body: DefinitionPatch) -> web.Response:
    """Update; the result is re-validated and changes that break objects in use → 409."""
    updates = changes(body, NULLABLE)
    if not updates.get("data_type", True):
        del updates["data_type"]  # an empty type keeps the current one

    async def run(conn: asyncpg.Connection) -> asyncpg.Record:
        row = await store.own_locked(conn, path.module_id, path.id)
        return await store.update(conn, row, validated(merged(row, updates)))

    return json_response(await database(request).transaction(run))


@routes.delete("/api/v1/modules/{module_id}/attribute-definitions/{id}", params=ModuleItem)
async def delete_definition(request: web.Request, path: ModuleItem) -> web.Response:
    """Delete, unless live objects still carry the attribute (409)."""
    await database(request).transaction(lambda conn: store.delete(conn, path.module_id, path.id))
    return no_content()
