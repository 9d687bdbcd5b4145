"""Baseline sets (spec §4.7): named, versioned groups of baselines; deleting one detaches its baselines."""

from __future__ import annotations

import asyncpg

from req1_server.resources.crud import Resource, Values, declare
from req1_server.routing import CurrentUser, Routes
from req1_server.store.crud import Table
from req1_server.typed import BodyModel, Name, OptName, OptText

routes = Routes(tag="baselines")


class SetCreate(BodyModel):
    name: Name
    version: OptName = "1.0"
    description: OptText = None


class SetPatch(BodyModel):
    name: OptName = None
    version: OptName = None
    description: OptText = None


async def created_by(conn: asyncpg.Connection, user: CurrentUser, values: Values) -> Values:
    return {**values, "created_by": user.id}


SETS = Table("baseline_set", "baseline set", "id, name, version, description, created_by, created_at",
             "created_at DESC, id DESC", nullable=frozenset({"description"}))
declare(routes, "/api/v1/baseline-sets", Resource(
    SETS, SetCreate, SetPatch, "set", "sets", "BaselineSet", on_create=created_by,
    docs={"list": "Baseline sets, newest first.", "create": "Create a baseline set.",
          "update": "Update name, version or description.",
          "delete": "Delete a set; its baselines are detached, not deleted."},
), "req1_server.resources.baselines")  # the operation ids these routes had beside the baselines
