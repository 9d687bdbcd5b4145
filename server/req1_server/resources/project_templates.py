"""Project templates (extended contract §11): a plain array (built-ins first, then by name), GET any role, writes
and instantiation admin only. Built-ins (seeded by migration 0040) refuse PATCH and DELETE. ``template_data`` is
checked on every write (domain/templates.py), so a stored template instantiates as it reads."""

from __future__ import annotations

from typing import Annotated, Any

import asyncpg
from aiohttp import web
from pydantic import Field

from req1_server.apischema import BOOL, COMPONENTS, INT, JSON_OBJ, STR, TIME, UUID, array, nullable, obj, ref
from req1_server.db import database
from req1_server.errors import bad_request
from req1_server.http import json_response
from req1_server.resources.crud import Resource, Values, declare
from req1_server.routing import CurrentUser, Role, Routes, user_of
from req1_server.scope import body as in_body
from req1_server.store import project_templates as store
from req1_server.typed import BodyModel, ById, Id, Name, OptBool, OptName, OptObject, OptText, as_object, checked

routes = Routes(tag="project templates")
COLLECTION = "/api/v1/project-templates"
TEMPLATE_DATA = ('{modules: [{name, prefix, separator, digits, default_classification, attribute_definitions, '
                 'object_types, lifecycle_model, seed_objects}], link_types: [{name, description}]}')

COMPONENTS.update({  # this feature's response shapes, kept beside it
    "ProjectTemplate": obj(["id", "name", "description", "standard", "version", "template_data", "is_builtin",
                            "created_by", "created_at", "updated_at"],
                           id=UUID, name=STR, description=nullable(STR), standard=nullable(STR),
                           version=nullable(STR), template_data=JSON_OBJ, is_builtin=BOOL, created_by=nullable(UUID),
                           created_at=TIME, updated_at=TIME),
    "TemplateInstance": obj(["project_id", "modules_created", "module_ids", "objects_created", "link_types_created"],
                            project_id=UUID, modules_created=INT, module_ids=array(UUID), objects_created=INT,
                            link_types_created=INT),
})

TemplateData = Annotated[dict[str, Any], checked(as_object, required=True)]


class TemplateCreate(BodyModel):
    check_order = ("name", "template_data")
    name: Name
    description: OptText = None
    standard: OptText = None
    version: OptText = None
    template_data: TemplateData = Field(description=TEMPLATE_DATA)


class TemplatePatch(BodyModel):
    """Any field; null clears ``description``, ``standard`` and ``version``."""

    check_order = ("name", "template_data")
    name: OptName = None
    description: OptText = None
    standard: OptText = None
    version: OptText = None
    template_data: OptObject = Field(None, description=TEMPLATE_DATA)


class InstantiateBody(BodyModel):
    check_order = ("workspace_id", "project_name")
    workspace_id: Id
    project_name: Name
    project_description: OptText = None
    include_seed_objects: OptBool = False


async def on_create(conn: asyncpg.Connection, user: CurrentUser, values: Values) -> Values:
    await store.refuse_duplicate(conn, values["name"])
    return {**values, "template_data": await store.checked_data(conn, values["template_data"]), "is_builtin": False,
            "created_by": user.id}


async def on_update(conn: asyncpg.Connection, user: CurrentUser, row: asyncpg.Record, updates: Values) -> Values:
    if row["is_builtin"]:
        raise bad_request("cannot modify a built-in template")
    if "name" in updates:
        await store.refuse_duplicate(conn, updates["name"], row["id"])
    if "template_data" in updates:
        updates = {**updates, "template_data": await store.checked_data(conn, updates["template_data"])}
    return updates


async def on_delete(conn: asyncpg.Connection, user: CurrentUser, row: asyncpg.Record) -> None:
    if row["is_builtin"]:
        raise bad_request("cannot delete a built-in template")


declare(routes, COLLECTION, Resource(
    store.TABLE, TemplateCreate, TemplatePatch, "project template", "project templates", "ProjectTemplate",
    write_role=Role.ADMIN, paging=None, on_create=on_create, on_update=on_update, on_delete=on_delete,
    docs={"list": "Every project template, built-ins first, then by name (a plain array).",
          "create": "Create a template; template_data is checked like the parts it creates.",
          "update": "Change a template (not a built-in one).",
          "delete": "Delete a template (not a built-in one)."},
), __name__)


@routes.post(COLLECTION + "/{id}/instantiate", role=Role.ADMIN, params=ById, body=InstantiateBody, status=201,
             scope=(in_body("workspace", "workspace_id"),),
             response=ref("TemplateInstance"))
async def instantiate(request: web.Request, path: ById, body: InstantiateBody) -> web.Response:
    """Create a project from the template in one transaction: its modules with their attribute definitions,
    object types and lifecycle model (the module default), the link types it names, and seed objects if asked."""
    ask = store.Instantiation(body.workspace_id, body.project_name, body.project_description,
                              bool(body.include_seed_objects), user_of(request).id)
    result = await database(request).transaction(lambda conn: store.instantiate(conn, path.id, ask))
    return json_response(result, status=201)
