"""Lifecycle models (spec §2): the rows, their whole-model checks inside the write's transaction, and the
lookups object and module writes make (a model must be of the same module)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

import asyncpg

from req1_server.domain.lifecycle import LifecycleError, Model, normalized
from req1_server.errors import bad_request
from req1_server.store import crud

COLUMNS = "id, module_id, name, description, initial_state, states, transitions, created_at, updated_at"
TABLE = crud.Table("lifecycle_model", "lifecycle model", COLUMNS, "created_at, id", parent="module_id",
                   nullable=frozenset({"description"}), touch=True)
IN_MODULE = "SELECT name, initial_state, states, transitions FROM lifecycle_model WHERE id = $1 AND module_id = $2"
SHAPE = ("initial_state", "states", "transitions")


def checked(values: Mapping[str, Any]) -> dict[str, Any]:
    """``values`` with the model's shape validated and normalized (400 on the first problem)."""
    try:
        return {**values, **normalized(values["initial_state"], values["states"], values["transitions"])}
    except LifecycleError as exc:
        raise bad_request(str(exc)) from None


def checked_update(row: Mapping[str, Any], updates: Mapping[str, Any]) -> dict[str, Any]:
    """A PATCH (arrays replace) checked against the model it produces."""
    if not any(key in updates for key in SHAPE):
        return dict(updates)
    whole = checked({**{key: row[key] for key in SHAPE}, **updates})
    return {**updates, **{key: whole[key] for key in SHAPE}}


async def in_module(conn: asyncpg.Connection, model_id: uuid.UUID, module_id: uuid.UUID) -> Model:
    """The module's model ``model_id``, else 400 ``lifecycle model '<id>' not found``."""
    row = await conn.fetchrow(IN_MODULE, model_id, module_id)
    if row is None:
        raise bad_request(f"lifecycle model '{model_id}' not found")
    return Model.of(row)
