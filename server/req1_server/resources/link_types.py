"""Link types (spec §4.6): global, plain-array list; a type in use cannot be deleted."""

from __future__ import annotations

import asyncpg

from req1_server.errors import conflict
from req1_server.resources.crud import Described, DescribedPatch, Resource, declare
from req1_server.routing import CurrentUser, Routes
from req1_server.store.crud import Table

routes = Routes(tag="link-types")

IN_USE = "SELECT count(*) FROM link WHERE link_type_id = $1"


async def refuse_in_use(conn: asyncpg.Connection, user: CurrentUser, row: asyncpg.Record) -> None:
    used = await conn.fetchval(IN_USE, row["id"])
    if used:
        raise conflict(f"link type {row['id']} is still referenced by {used} links")


LINK_TYPES = Table("link_type", "link type", "id, name, description, created_at", "name, id",
                   nullable=frozenset({"description"}))
declare(routes, "/api/v1/link-types", Resource(
    LINK_TYPES, Described, DescribedPatch, "link type", "link types", "LinkType", paging=None,
    on_delete=refuse_in_use,
    docs={"list": "All link types by name (plain array).", "update": "Rename or describe a link type.",
          "delete": "Delete an unused link type (409 while links use it)."},
), __name__)
