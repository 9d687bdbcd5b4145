"""Objects of a module (spec §4.3, §4.4): list/filter/search, create, update, soft delete, moves,
placeholders and history. Handlers parse, authorize, call the store and respond."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

from aiohttp import web
from pydantic import BeforeValidator, Field

from req1_server.apischema import INT, envelope, obj, ref
from req1_server.db import database
from req1_server.errors import not_found
from req1_server.http import json_response, no_content, page_envelope, raw_page_response
from req1_server.resources.crud import page_response
from req1_server.routing import Role, Routes, user_of
from req1_server.scope import body as in_body
from req1_server.store import object_moves, objects
from req1_server.store.object_writes import Draft, Edit, create, edit
from req1_server.store.objects import Filter, object_json
from req1_server.store.patch import changes
from req1_server.store.search import HIGHLIGHT_COLUMNS, highlight
from req1_server.typed import (
    BodyModel,
    Classification,
    EmptyBody,
    InModule,
    LongPaged,
    ModuleItem,
    OptBool,
    OptId,
    OptInt,
    OptList,
    OptText,
    QBool,
    QText,
    QueryModel,
    Text,
    checked,
    classification_of,
    flag,
    query_check,
    reject,
)

routes = Routes(tag="objects")
COLLECTION = "/api/v1/modules/{module_id}/objects"
ITEM = COLLECTION + "/{id}"


def _attributes(value: Any, name: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise reject("attributes must be a JSON object")
    return value


Attributes = Annotated[dict[str, Any] | None, checked(_attributes)]
QClassification = Annotated[str | None, query_check(classification_of)]
Search = Annotated[str | None, BeforeValidator(lambda v: v.strip() or None if isinstance(v, str) else v)]


class ObjectQuery(LongPaged):
    heading: QText = Field(None, description="objects whose heading contains this text (case-insensitive)")
    body: QText = Field(None, description="objects whose body contains this text (case-insensitive)")
    search: Search = Field(None, description="ranked full-text search (websearch syntax), with highlights")
    classification: QClassification = None
    needs_review: QBool = Field(False, description="only objects whose content changed since their review")
    include_deleted: QBool = Field(False, description="soft-deleted objects too")
    sort_by: QText = Field(None, description="comma-separated: heading, body, current_version, updated_at, "
                                             "classification, level")
    sort_dir: QText = Field(None, description="comma-separated asc|desc, paired with sort_by")


class Content(BodyModel):
    """The fields an object is written with, on create and on PATCH."""

    parent_id: OptId = Field(None, description="the parent object (null: top level)")
    position: OptInt = Field(None, description="0-based place among the siblings (absent: last)")
    heading: OptText = None
    body: OptText = Field(None, description="XHTML, sanitized on write")
    attributes: Attributes = Field(None, description="values by attribute definition name, validated by type")
    classification: Classification = None
    references: OptList = None
    references_: OptList = Field(None, description="older name of `references`")
    object_type_id: OptId = Field(None, description="the object's type (§1): its module's; PATCH null clears it")
    lifecycle_state: OptText = None

    @property
    def refs(self) -> list[Any] | None:
        return self.references if self.references is not None else self.references_


class ObjectCreate(Content):
    check_order = ("parent_id", "position", "heading", "body", "attributes", "references", "references_",
                   "object_type_id", "lifecycle_model_id", "lifecycle_state", "source_object_id",
                   "source_module_id", "is_placeholder")
    lifecycle_model_id: OptId = Field(None, description="one of the module's lifecycle models (absent: its default)")
    source_object_id: OptId = None
    source_module_id: OptId = None
    is_placeholder: OptBool = False


class ObjectPatch(Content):
    reviewed: OptBool = Field(None, description="true marks the current content reviewed, false clears it")
    expected_version: OptInt = Field(None, description="409 unless the object is still at this version")

    check_order = ("expected_version", "parent_id", "position", "reviewed", "heading", "body", "lifecycle_state",
                   "classification", "attributes", "object_type_id")
    NULLABLE: ClassVar[frozenset[str]] = frozenset({"parent_id", "heading", "body", "lifecycle_state",
                                                    "object_type_id"})
    REVIEWER_FIELDS: ClassVar[frozenset[str]] = frozenset({"reviewed", "expected_version"})
    field_roles = {name: "editor" for name in Content.model_fields}  # a reviewer only reviews

    def edit(self, role: str) -> Edit:
        """The PATCH as the store takes it: present fields by column, null clearing only nullable ones."""
        skip = {"references", "references_", *self.REVIEWER_FIELDS}
        updates = changes(self, self.NULLABLE, skip=skip)
        if self.refs is not None:
            updates["references_"] = self.refs
        return Edit(updates, self.reviewed, self.expected_version, role)


class Move(BodyModel):
    action: Text = Field(json_schema_extra={"enum": ["up", "down", "indent", "dedent", "move_to"]})
    parent_id: OptId = None
    position: OptInt = None
    expected_version: OptInt = None


class IncludeDeleted(QueryModel):
    """Read only when the object is deleted: a live object ignores the parameter, whatever its value."""

    include_deleted: QText = Field(None, json_schema_extra={"enum": ["true", "false", "1", "0", "yes", "no"]})


@routes.get(COLLECTION, params=InModule, query=ObjectQuery, response=envelope("Object"))
async def list_objects(request: web.Request, path: InModule, query: ObjectQuery) -> web.Response:
    """Objects in document order, filtered; with `search`, ranked and highlighted."""
    where = Filter(**query.model_dump(exclude={"offset", "limit"}))
    if where.search is None:  # the page as PostgreSQL writes it: no per-row Python work
        async with database(request).acquire() as conn:
            items_json, total = await objects.listing_json(conn, path.module_id, where, query.page)
        return raw_page_response(items_json, total, query.page)
    async with database(request).acquire() as conn:
        rows, total = await objects.listing(conn, path.module_id, where, query.page, HIGHLIGHT_COLUMNS)
    items = [object_json(r) | ({"rank": r["rank"], "highlight": highlight(r)} if where.search else {}) for r in rows]
    return json_response(page_envelope(items, total, query.page))


@routes.post(COLLECTION, params=InModule, body=ObjectCreate, status=201, response=ref("Object"),
             scope=(in_body("object", "source_object_id"), in_body("module", "source_module_id")))
async def create_object(request: web.Request, path: InModule, body: ObjectCreate) -> web.Response:
    """Create an object (appended, or inserted at `position`), with history and levels."""
    fields = body.model_dump(include=set(Draft.__dataclass_fields__) - {"references", "is_placeholder"})
    draft = Draft(**fields, references=body.refs or [], is_placeholder=bool(body.is_placeholder))
    row = await create(database(request), path.module_id, draft, user_of(request).id)
    return json_response(object_json(row), status=201)


@routes.get(ITEM, params=ModuleItem, query=IncludeDeleted, response=ref("Object"))
async def get_object(request: web.Request, path: ModuleItem, query: IncludeDeleted) -> web.Response:
    """One object (soft-deleted only with include_deleted=true)."""
    async with database(request).acquire() as conn:
        row = await objects.get(conn, path.module_id, path.id)
    if row["deleted_at"] is not None and not flag(query.include_deleted, "include_deleted"):
        raise not_found("object", path.id)
    return json_response(object_json(row))


@routes.patch(ITEM, role=Role.REVIEWER, params=ModuleItem, body=ObjectPatch, response=ref("Object"))
async def update_object(request: web.Request, path: ModuleItem, body: ObjectPatch) -> web.Response:
    """Update content, review state and/or place; one version bump and one `update` history row."""
    user = user_of(request)
    row = await edit(database(request), path.module_id, path.id, body.edit(user.role.value), user.id)
    return json_response(object_json(row))


@routes.delete(ITEM, params=ModuleItem)
async def delete_object(request: web.Request, path: ModuleItem) -> web.Response:
    """Soft delete: version bump, `delete` history, links removed, live children take its place."""
    await object_moves.delete(database(request), path.module_id, path.id, user_of(request).id)
    return no_content()


@routes.post(ITEM + "/move", params=ModuleItem, body=Move, response=ref("Object"))
async def move_object(request: web.Request, path: ModuleItem, body: Move) -> web.Response:
    """up / down / indent / dedent / move_to; a version bump and a `move` history row."""
    row = await object_moves.move(database(request), path.module_id, path.id, body.action, body.parent_id,
                                  body.position, body.expected_version, user_of(request).id)
    return json_response(object_json(row))


@routes.post(ITEM + "/sync", params=ModuleItem, body=EmptyBody, response=ref("Object"))
async def sync_object(request: web.Request, path: ModuleItem, body: EmptyBody) -> web.Response:
    """Copy heading, body and attributes from the placeholder's source (history `sync`)."""
    row = await object_moves.sync_one(database(request), path.module_id, path.id, user_of(request).id)
    return json_response(object_json(row))


@routes.post(ITEM + "/break-link", params=ModuleItem, body=EmptyBody, response=ref("Object"))
async def break_link(request: web.Request, path: ModuleItem, body: EmptyBody) -> web.Response:
    """Turn a placeholder into an ordinary object (history `update`)."""
    row = await object_moves.break_link(database(request), path.module_id, path.id, user_of(request).id)
    return json_response(object_json(row))


@routes.post("/api/v1/modules/{module_id}/sync-placeholders", params=InModule, body=EmptyBody,
             response=obj(["synced"], synced=INT))
async def sync_placeholders(request: web.Request, path: InModule, body: EmptyBody) -> web.Response:
    """Sync every placeholder of the module whose source changed."""
    synced = await object_moves.sync_all(database(request), path.module_id, user_of(request).id)
    return json_response({"synced": synced})


@routes.get(ITEM + "/history", params=ModuleItem, query=LongPaged, response=envelope("ObjectHistory"))
async def object_history(request: web.Request, path: ModuleItem, query: LongPaged) -> web.Response:
    """Full snapshots, newest first; kept after soft delete and module deletion."""
    return await page_response(request, query.page,
                               lambda conn, page: objects.history(conn, path.module_id, path.id, page))
