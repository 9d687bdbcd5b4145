"""Modules (spec §4.2): settings, create from a template (settings, attribute definitions, optionally
live objects and the links between them), cascading delete (history stays)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import asyncpg
from aiohttp import web
from pydantic import Field

from req1_server.access import visible_workspaces
from req1_server.apischema import envelope, ref
from req1_server.db import database
from req1_server.domain.ids import new_id
from req1_server.http import json_response, no_content
from req1_server.resources.cleanup import delete_attachment_blobs
from req1_server.resources.crud import page_response
from req1_server.routing import Role, Routes, require_role, user_of
from req1_server.scope import body as in_body
from req1_server.scope import path as in_path
from req1_server.scope import query as in_query
from req1_server.store import crud, lifecycle
from req1_server.store import modules as store
from req1_server.store.patch import changes
from req1_server.typed import (
    BodyModel,
    ById,
    Classification,
    Id,
    Name,
    OptBool,
    OptId,
    OptInt,
    OptName,
    OptObject,
    OptStrList,
    OptText,
    Paged,
    QId,
    must_be,
)

routes = Routes(tag="modules")
Lifecycle = Annotated[uuid.UUID | None, must_be("lifecycle model '{value}' not found")]


class ModuleQuery(Paged):
    project_id: QId = None


class Settings(BodyModel):
    """Module settings; on create, absent or null ones take their defaults."""

    description: OptText = None
    prefix: OptText = ""
    separator: OptText = "-"
    digits: OptInt = 3
    required_attributes: OptStrList = []
    default_classification: Classification = "normative"
    publish_template: OptText = None
    default_lifecycle_model_id: Lifecycle = None
    signature_config: OptObject = {}

    def values(self) -> dict[str, Any]:
        """Column values for a new module (null means the default)."""
        fields = type(self).model_fields
        return {name: fields[name].default if getattr(self, name) is None else getattr(self, name)
                for name in store.SETTINGS}


class ModuleCreate(Settings):
    name: Name
    project_id: Id

    check_order = ("name", "project_id", "default_lifecycle_model_id", "digits", "description", "prefix",
                   "separator", "required_attributes", "default_classification")


class TemplateCopy(BodyModel):
    name: Name
    project_id: Id
    description: OptText = None
    template_module_id: Id
    copy_objects: OptBool = False

    check_order = ("name", "project_id", "template_module_id", "copy_objects")


class ModulePatch(Settings):
    name: OptName = None
    default_lifecycle_model_id: OptId = Field(None, description="one of this module's lifecycle models (§2)")

    check_order = ("name", "default_lifecycle_model_id", "default_classification")


ITEM = (in_path("module"),)


@routes.get("/api/v1/modules", query=ModuleQuery, response=envelope("Module"),
            scope=(in_query("project", "project_id"),))
async def list_modules(request: web.Request, query: ModuleQuery) -> web.Response:
    """Modules (optionally of one project), by name."""
    within = await visible_workspaces(request)
    return await page_response(request, query.page,
                               lambda conn, page: store.page(conn, query.project_id, page, within))


@routes.post("/api/v1/modules", body=ModuleCreate, status=201, response=ref("Module"),
             scope=(in_body("project", "project_id"),))
async def create_module(request: web.Request, body: ModuleCreate) -> web.Response:
    """Create a module in a project."""
    values = {"id": new_id(), "project_id": body.project_id, "name": body.name, **body.values()}
    async with database(request).acquire() as conn:
        return json_response(await store.create(conn, values), status=201)


@routes.post("/api/v1/modules/from-template", body=TemplateCopy, status=201, response=ref("Module"),
             scope=(in_body("project", "project_id"), in_body("module", "template_module_id")))
async def create_from_template(request: web.Request, body: TemplateCopy) -> web.Response:
    """Copy a module's settings and attribute definitions (and with copy_objects, its live objects and links)."""
    values = {"id": new_id(), "project_id": body.project_id, "name": body.name,
              **({"description": body.description} if body.given("description") else {})}
    user_id = user_of(request).id
    row = await database(request).transaction(lambda conn: store.from_template(
        conn, body.template_module_id, values, bool(body.copy_objects), user_id))
    return json_response(row, status=201)


@routes.get("/api/v1/modules/{id}", params=ById, response=ref("Module"), scope=ITEM)
async def get_module(request: web.Request, path: ById) -> web.Response:
    """One module."""
    async with database(request).acquire() as conn:
        return json_response(await crud.get(conn, store.MODULES, path.id))


@routes.patch("/api/v1/modules/{id}", params=ById, body=ModulePatch, response=ref("Module"), scope=ITEM)
async def update_module(request: web.Request, path: ById, body: ModulePatch) -> web.Response:
    """Update settings; null clears nullable fields; a default lifecycle model must be the module's own."""
    updates = changes(body, store.MODULES.nullable | {"default_lifecycle_model_id"})

    async def run(conn: asyncpg.Connection) -> asyncpg.Record:
        model_id = updates.get("default_lifecycle_model_id")
        if model_id is not None:
            await lifecycle.in_module(conn, model_id, path.id)
        return await crud.update(conn, store.MODULES, path.id, None, updates)

    return json_response(await database(request).transaction(run))


@routes.delete("/api/v1/modules/{id}", params=ById, scope=ITEM)
async def delete_module(request: web.Request, path: ById) -> web.Response:
    """Delete a module and its contents (history stays); attachment content goes after commit. A module with
    baselines takes them along, so only an admin (who alone deletes baselines) may delete it."""
    user = user_of(request)

    async def run(conn: asyncpg.Connection) -> list[str]:
        if await store.has_baselines(conn, path.id):
            require_role(user, Role.ADMIN)
        return await store.delete(conn, path.id)

    keys = await database(request).transaction(run)
    await delete_attachment_blobs(request, keys)
    return no_content()
