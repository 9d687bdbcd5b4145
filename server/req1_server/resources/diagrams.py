"""Diagrams of a module (extended contract §9): Mermaid source with the objects it shows, stored for the web UI
to render. Plain CRUD declared with the generic resource: the paging envelope newest first (1000 without a
limit), GET any role, writes editor+, ``created_by`` the caller."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from pydantic import Field

from req1_server.apischema import COMPONENTS, STR, TIME, UUID, UUID_LIST, nullable, obj
from req1_server.resources.crud import Resource, Values, declare
from req1_server.routing import CurrentUser, Routes
from req1_server.store import diagrams as store
from req1_server.store.rows import require_module
from req1_server.typed import (
    BodyModel,
    LongPaged,
    Name,
    OptName,
    OptText,
    as_str,
    checked,
    member_of,
    reject,
    uuid_list,
)

routes = Routes(tag="diagrams")
DIAGRAM_TYPES = ("use_case", "sequence", "class", "flowchart", "state", "er")
MAX_SOURCE = 1024 * 1024  # bytes of UTF-8

COMPONENTS.update({  # this feature's response shapes, kept beside it
    "Diagram": obj(["id", "module_id", "name", "description", "diagram_type", "source_code", "linked_object_ids",
                    "created_by", "created_at", "updated_at"],
                   id=UUID, module_id=UUID, name=STR, description=nullable(STR),
                   diagram_type={"type": "string", "enum": list(DIAGRAM_TYPES)}, source_code=STR,
                   linked_object_ids=UUID_LIST, created_by=nullable(UUID), created_at=TIME, updated_at=TIME),
})


def _source(value: Any, name: str) -> str:
    as_str(value, name)
    if len(value.encode("utf-8", "surrogatepass")) > MAX_SOURCE:
        raise reject("source_code must be at most 1 MiB")
    return str(value)


DiagramType = Annotated[str | None, member_of(DIAGRAM_TYPES, "diagram_type")]
Source = Annotated[str | None, checked(_source)]
ObjectIds = Annotated[list[uuid.UUID] | None, checked(uuid_list)]


class DiagramCreate(BodyModel):
    name: Name
    description: OptText = None
    diagram_type: DiagramType = "use_case"
    source_code: Source = Field("", description="Mermaid text, at most 1 MiB")
    linked_object_ids: ObjectIds = Field(None, description="live objects of the module's workspace")


class DiagramPatch(BodyModel):
    """Any field; null clears only ``description``."""

    name: OptName = None
    description: OptText = None
    diagram_type: DiagramType = None
    source_code: Source = None
    linked_object_ids: ObjectIds = None


async def created(conn: Any, user: CurrentUser, values: Values) -> Values:
    values["linked_object_ids"] = values.get("linked_object_ids") or []
    values["created_by"] = user.id
    await store.check_linked(conn, values["module_id"], values["linked_object_ids"])
    return values


async def updated(conn: Any, user: CurrentUser, row: Any, updates: Values) -> Values:
    if "linked_object_ids" in updates:
        await store.check_linked(conn, row["module_id"], updates["linked_object_ids"])
    return updates


declare(routes, "/api/v1/modules/{module_id}/diagrams", Resource(
    store.TABLE, DiagramCreate, DiagramPatch, "diagram", "diagrams", "Diagram", parent_param="module_id",
    parent_check=require_module, parent_checked_on=frozenset({"list", "create", "get", "update", "delete"}),
    paging=LongPaged, on_create=created, on_update=updated,
    docs={"list": "Diagrams of a module, newest first.",
          "create": "A diagram (Mermaid source); the caller is its creator."},
), __name__)
