"""Link types (spec §4.6): global, plain-array list; a type in use cannot be deleted; the seeded types are
renamed or deleted only by an admin."""

from __future__ import annotations

import uuid

import asyncpg

from req1_server.errors import conflict
from req1_server.resources.crud import Described, DescribedPatch, Resource, Values, declare
from req1_server.routing import CurrentUser, Role, Routes, require_role
from req1_server.store.crud import Table

routes = Routes(tag="link-types")

IN_USE = "SELECT count(*) FROM link WHERE link_type_id = $1"


# the types every installation starts with (migration 0010): clients refer to them by these ids and names
SEEDED = frozenset(uuid.UUID(f"00000000-0000-0000-0000-0000000000{n}") for n in range(10, 15))


def seeded_needs_admin(user: CurrentUser, row: asyncpg.Record) -> None:
    if row["id"] in SEEDED:
        require_role(user, Role.ADMIN)


async def keep_seeded_names(conn: asyncpg.Connection, user: CurrentUser, row: asyncpg.Record,
                            updates: Values) -> Values:
    """Renaming a seeded type is an admin's decision; describing it is anyone's with write access."""
    if updates.get("name", row["name"]) != row["name"]:
        seeded_needs_admin(user, row)
    return updates


async def refuse_in_use(conn: asyncpg.Connection, user: CurrentUser, row: asyncpg.Record) -> None:
    seeded_needs_admin(user, row)
    used = await conn.fetchval(IN_USE, row["id"])
    if used:
        raise conflict(f"link type {row['id']} is still referenced by {used} links")


LINK_TYPES = Table("link_type", "link type", "id, name, description, created_at", "name, id",
                   nullable=frozenset({"description"}))
declare(routes, "/api/v1/link-types", Resource(
    LINK_TYPES, Described, DescribedPatch, "link type", "link types", "LinkType", paging=None,
    on_update=keep_seeded_names, on_delete=refuse_in_use,
    docs={"list": "All link types by name (plain array).", "update": "Rename or describe a link type.",
          "delete": "Delete an unused link type (409 while links use it)."},
), __name__)
