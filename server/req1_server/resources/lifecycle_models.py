"""Lifecycle models of a module (spec §2): a plain array by creation, editor+ writes; objects move between their
states only along the transitions (store/object_writes.py). Deleting one unsets it on objects and the module."""

from __future__ import annotations

from typing import Any

import asyncpg
from pydantic import Field

from req1_server.resources.crud import Resource, Values, declare
from req1_server.routing import CurrentUser, Routes
from req1_server.store import lifecycle
from req1_server.store.rows import require_module
from req1_server.typed import BodyModel, Name, OptList, OptName, OptText

routes = Routes(tag="lifecycle models")


class ModelCreate(BodyModel):
    check_order = ("name", "initial_state", "states", "transitions")
    name: Name
    description: OptText = None
    initial_state: OptText = "new"
    states: OptList = Field([], description="[{name, color?, description?}]")
    transitions: OptList = Field([], description="[{from, to, required_role?}]")


class ModelPatch(BodyModel):
    """Any field; arrays replace; null clears only ``description``."""

    check_order = ("name", "initial_state", "states", "transitions")
    name: OptName = None
    description: OptText = None
    initial_state: OptText = None
    states: OptList = None
    transitions: OptList = None


async def on_create(conn: asyncpg.Connection, user: CurrentUser, values: Values) -> Values:
    return lifecycle.checked(values)


async def on_update(conn: asyncpg.Connection, user: CurrentUser, row: asyncpg.Record, updates: Values) -> Values:
    return lifecycle.checked_update(row, updates)


async def module_exists(conn: asyncpg.Connection, module_id: Any) -> None:
    await require_module(conn, module_id)


declare(routes, "/api/v1/modules/{module_id}/lifecycle-models", Resource(
    lifecycle.TABLE, ModelCreate, ModelPatch, "lifecycle model", "lifecycle models", "LifecycleModel",
    parent_param="module_id", parent_check=module_exists, paging=None, on_create=on_create, on_update=on_update,
    docs={"list": "The module's lifecycle models by creation (a plain array).",
          "delete": "Delete a model: objects and the module default lose it; states stay as text."},
), __name__)
