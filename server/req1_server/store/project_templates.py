"""Project templates (extended contract §11, migration 0040): the rows, the checks a write makes against the
database (a unique name, global attribute names), and instantiation — a whole project from a template in the
caller's one transaction.

Instantiation creates every part through the store function its own route uses (modules, attribute definitions,
object types, lifecycle models; seed objects through ``object_writes.create``, so they are sanitized,
fingerprinted, placed, given levels, history and their model's initial state exactly like API-created objects).
Any failure rolls the whole project back.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar, cast

import asyncpg

from req1_server.db import Database
from req1_server.domain.ids import new_id
from req1_server.domain.templates import TemplateError, check_template, link_type_key
from req1_server.errors import bad_request, conflict
from req1_server.store import crud, definitions, lifecycle, object_types, object_writes
from req1_server.store.modules import MODULES
from req1_server.store.rows import WORKSPACE_EXISTS, require_row

T = TypeVar("T")
COLUMNS = ("id, name, description, standard, version, template_data, is_builtin, created_by, created_at, "
           "updated_at")
TABLE = crud.Table("project_template", "project template", COLUMNS, "is_builtin DESC, name, id",
                   nullable=frozenset({"description", "standard", "version"}), touch=True)
PROJECTS = crud.Table("project", "project", "id, workspace_id, name, description, created_at, updated_at", "name, id")
LINK_TYPES = crud.Table("link_type", "link type", "id, name, description, created_at", "name, id")
GLOBAL_ATTRIBUTES = "SELECT name FROM attribute_definition WHERE module_id IS NULL"
DUPLICATE = "SELECT 1 FROM project_template WHERE name = $1 AND id IS DISTINCT FROM $2"
EXISTING_LINK_TYPES = "SELECT id, name FROM link_type ORDER BY created_at, id"
RECORD = """
INSERT INTO audit_log (user_id, action, entity_type, entity_id, details, ip_address)
VALUES ($1, 'instantiate', 'project_template', $2, $3, nullif(current_setting('req1.ip', true), ''))
"""


async def checked_data(conn: asyncpg.Connection, data: Any) -> dict[str, Any]:
    """``template_data`` normalized, or 400 ``invalid template_data: <detail>``."""
    global_names = [r["name"] for r in await conn.fetch(GLOBAL_ATTRIBUTES)]
    try:
        return check_template(data, global_names)
    except TemplateError as exc:
        raise bad_request(str(exc)) from None


async def refuse_duplicate(conn: asyncpg.Connection, name: str, row_id: uuid.UUID | None = None) -> None:
    if await conn.fetchval(DUPLICATE, name, row_id):
        raise conflict(f"project template '{name}' already exists")


@dataclass(frozen=True)
class Instantiation:
    """What a client asks of ``POST /project-templates/{id}/instantiate``."""

    workspace_id: uuid.UUID
    project_name: str
    project_description: str | None
    include_seed_objects: bool
    user_id: uuid.UUID


class _InThisTransaction:
    """Stands in for the Database that ``object_writes.create`` runs its work through: the work joins the
    instantiation's transaction instead of opening its own, so the API's create path is reused unchanged."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn

    async def transaction(self, fn: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
        return await fn(self.conn)


class Instantiator:
    """One instantiation: the counts it reports and the writes that make them."""

    def __init__(self, conn: asyncpg.Connection, ask: Instantiation) -> None:
        self.conn, self.ask = conn, ask
        self.writes = cast(Database, _InThisTransaction(conn))
        self.module_ids: list[uuid.UUID] = []
        self.objects_created = 0
        self.link_types_created = 0

    async def run(self, template_id: uuid.UUID) -> dict[str, Any]:
        row = await crud.get(self.conn, TABLE, template_id)
        await require_row(self.conn, WORKSPACE_EXISTS, "workspace", self.ask.workspace_id)
        data = await checked_data(self.conn, row["template_data"])  # stored ones may predate the checks
        project = await crud.insert(self.conn, PROJECTS, {
            "id": new_id(), "workspace_id": self.ask.workspace_id, "name": self.ask.project_name,
            "description": self.ask.project_description})
        await self.link_types(data["link_types"])
        for module in data["modules"]:
            await self.module(project["id"], module)
        result = {"project_id": project["id"], "modules_created": len(self.module_ids), "module_ids": self.module_ids,
                  "objects_created": self.objects_created, "link_types_created": self.link_types_created}
        details = {"template_name": row["name"], "workspace_id": str(self.ask.workspace_id),
                   "project_id": str(project["id"]), "modules_created": len(self.module_ids),
                   "objects_created": self.objects_created, "link_types_created": self.link_types_created}
        await self.conn.execute(RECORD, self.ask.user_id, template_id, details)
        return result

    async def link_types(self, wanted: list[Mapping[str, Any]]) -> None:
        """Each template link type is a global one of the same name (``Derives From`` = ``derives-from``), or new."""
        existing = {link_type_key(r["name"]) for r in await self.conn.fetch(EXISTING_LINK_TYPES)}
        for link_type in wanted:
            if link_type_key(link_type["name"]) not in existing:
                await crud.insert(self.conn, LINK_TYPES, {"id": new_id(), "name": link_type["name"],
                                                          "description": link_type["description"]})
                existing.add(link_type_key(link_type["name"]))
                self.link_types_created += 1

    async def module(self, project_id: uuid.UUID, spec: Mapping[str, Any]) -> None:
        settings = {k: spec[k] for k in ("name", "prefix", "separator", "digits", "default_classification")}
        module_id = (await crud.insert(self.conn, MODULES, {"id": new_id(), "project_id": project_id,
                                                            **settings}))["id"]
        self.module_ids.append(module_id)
        for definition in spec["attribute_definitions"]:
            await definitions.insert(self.conn, module_id, {
                "id": new_id(), **definition, "default_value": None, "multi_select": False, "depends_on": None,
                "dependency_mapping": None})
        for object_type in spec["object_types"]:
            await object_types.insert(self.conn, {"id": new_id(), "module_id": module_id, "description": None,
                                                  "attribute_schema": {}, **object_type})
        if spec["lifecycle_model"] is not None:
            model = await crud.insert(self.conn, lifecycle.TABLE, lifecycle.checked({
                "id": new_id(), "module_id": module_id, "description": None, **spec["lifecycle_model"]}))
            await crud.update(self.conn, MODULES, module_id, None, {"default_lifecycle_model_id": model["id"]})
        if self.ask.include_seed_objects:
            await self.seeds(module_id, None, spec["seed_objects"])

    async def seeds(self, module_id: uuid.UUID, parent_id: uuid.UUID | None, seeds: list[Mapping[str, Any]]) -> None:
        """Seed objects in document order, each appended under its parent (any depth)."""
        for seed in seeds:
            draft = object_writes.Draft(parent_id=parent_id, heading=seed["heading"], body=seed["body"],
                                        classification=seed["classification"])
            created = await object_writes.create(self.writes, module_id, draft, self.ask.user_id)
            self.objects_created += 1
            await self.seeds(module_id, created["id"], seed["children"])


async def instantiate(conn: asyncpg.Connection, template_id: uuid.UUID, ask: Instantiation) -> dict[str, Any]:
    """Project, link types, then per module: module, definitions, object types, lifecycle model (the module's
    default) and, when asked, seed objects — in ``conn``'s transaction. Audited as ``instantiate``."""
    return await Instantiator(conn, ask).run(template_id)
