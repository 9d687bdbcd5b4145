"""Saved views of a module (spec §4.10): opaque configs; at most one default per module."""

from __future__ import annotations

from typing import Any

import asyncpg
from pydantic import Field

from req1_server.resources.crud import Resource, Values, declare
from req1_server.routing import CurrentUser, Routes
from req1_server.store.crud import Table
from req1_server.store.rows import require_module
from req1_server.typed import BodyModel, LongPaged, Name, OptBool, OptConfig, OptName

routes = Routes(tag="views")

# default-setters of one module take turns (the module row), so each clears the default the previous one made;
# the partial unique index of migration 0015 backs it
DEFAULT_TURN = "SELECT 1 FROM module WHERE id = $1 FOR NO KEY UPDATE"
CLEAR_DEFAULT = """
UPDATE view SET is_default = false, updated_at = now() WHERE module_id = $1 AND is_default AND id <> $2
"""


class ViewCreate(BodyModel):
    """Configs are the UI's own JSON (arrays or objects); the server keeps them as they are."""

    check_order = ("name", "is_default")

    name: Name
    column_config: OptConfig = []
    filter_config: OptConfig = {}
    sort_config: OptConfig = []
    is_default: OptBool = Field(False, description="the module's default view (only one is)")


class ViewPatch(BodyModel):
    check_order = ("name", "is_default")

    name: OptName = None
    column_config: OptConfig = None
    filter_config: OptConfig = None
    sort_config: OptConfig = None
    is_default: OptBool = Field(None, description="true takes the default from the module's other view")


async def one_default(conn: asyncpg.Connection, values: dict[str, Any], row_id: Any, module_id: Any) -> None:
    """A view that becomes the default takes that place from the module's other views."""
    if values.get("is_default"):
        await conn.execute(DEFAULT_TURN, module_id)
        await conn.execute(CLEAR_DEFAULT, module_id, row_id)


async def on_create(conn: asyncpg.Connection, user: CurrentUser, values: Values) -> Values:
    await one_default(conn, values, values["id"], values["module_id"])
    return values


async def on_update(conn: asyncpg.Connection, user: CurrentUser, row: asyncpg.Record, updates: Values) -> Values:
    await one_default(conn, {"is_default": updates.get("is_default", row["is_default"])}, row["id"], row["module_id"])
    return updates


VIEWS = Table("view", "view", "id, module_id, name, is_default, column_config, filter_config, sort_config, "
              "created_at, updated_at", "created_at, id", parent="module_id", touch=True)
declare(routes, "/api/v1/modules/{module_id}/views", Resource(
    VIEWS, ViewCreate, ViewPatch, "view", "views", "View", parent_param="module_id", parent_check=require_module,
    paging=LongPaged, on_create=on_create, on_update=on_update,
    docs={"list": "Views of a module, by creation.",
          "create": "Create a view; `is_default:true` clears the module's other default."},
), __name__)
