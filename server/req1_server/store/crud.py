"""Rows of a simple table (workspaces, projects, link types, views, comments, baseline sets…): list, get,
insert, partial update and delete, optionally scoped by the parent named in the path."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from req1_server.errors import not_found
from req1_server.http import Page
from req1_server.store.access import in_workspaces
from req1_server.store.patch import update_sql
from req1_server.store.rows import paged


@dataclass(frozen=True)
class Table:
    """What the generic statements need to know about a table."""

    name: str
    entity: str  # as messages name it: "link type"
    columns: str
    order: str
    parent: str | None = None  # the column that scopes rows to the parent in the path
    nullable: frozenset[str] = field(default_factory=frozenset)
    touch: bool = False  # has updated_at
    workspace: str | None = None  # the column naming the row's workspace: lists show the caller's workspaces only

    def where(self, scoped: bool) -> str:
        return f"id = $1 AND {self.parent} = $2" if scoped and self.parent else "id = $1"

    def keys(self, row_id: uuid.UUID, parent_id: uuid.UUID | None) -> list[Any]:
        return [row_id, parent_id] if self.parent else [row_id]


def scoped(table: Table, parent_id: uuid.UUID | None, within: list[uuid.UUID] | None,
           parent_required: bool = True) -> tuple[str, list[Any]]:
    """The WHERE clause and its arguments: the parent in the path, the caller's workspaces."""
    terms: list[str] = []
    args: list[Any] = []
    if table.parent and (parent_required or parent_id is not None):
        args.append(parent_id)
        terms.append(f"{table.parent} = ${len(args)}")
    if table.workspace:
        args.append(within)
        terms.append(in_workspaces(table.workspace, len(args)))
    return ("WHERE " + " AND ".join(terms) if terms else ""), args


async def page(conn: asyncpg.Connection, table: Table, parent_id: uuid.UUID | None,
               window: Page, within: list[uuid.UUID] | None = None) -> tuple[list[asyncpg.Record], int]:
    """One page of the parent's rows (``within``: the caller's workspaces, None for all)."""
    scope, args = scoped(table, parent_id, within)
    n = len(args)
    list_sql = (f"SELECT {table.columns} FROM {table.name} {scope} ORDER BY {table.order} "
                f"OFFSET ${n + 1} LIMIT ${n + 2}")
    return await paged(conn, list_sql, f"SELECT count(*) FROM {table.name} {scope}", args, window)


async def every(conn: asyncpg.Connection, table: Table, parent_id: uuid.UUID | None = None,
                within: list[uuid.UUID] | None = None) -> list[asyncpg.Record]:
    """Every row (of the parent in the path, when the table has one; of the caller's workspaces)."""
    scope, args = scoped(table, parent_id, within, parent_required=False)
    return await conn.fetch(f"SELECT {table.columns} FROM {table.name} {scope} ORDER BY {table.order}", *args)


async def get(conn: asyncpg.Connection, table: Table, row_id: uuid.UUID, parent_id: uuid.UUID | None = None,
              lock: bool = False) -> asyncpg.Record:
    sql = f"SELECT {table.columns} FROM {table.name} WHERE {table.where(True)}" + (" FOR UPDATE" if lock else "")
    row = await conn.fetchrow(sql, *table.keys(row_id, parent_id))
    if row is None:
        raise not_found(table.entity, row_id)
    return row


async def insert(conn: asyncpg.Connection, table: Table, values: Mapping[str, Any]) -> asyncpg.Record:
    names = ", ".join(values)
    params = ", ".join(f"${i + 1}" for i in range(len(values)))
    sql = f"INSERT INTO {table.name} ({names}) VALUES ({params}) RETURNING {table.columns}"
    return await conn.fetchrow(sql, *values.values())


async def update(conn: asyncpg.Connection, table: Table, row_id: uuid.UUID, parent_id: uuid.UUID | None,
                 updates: Mapping[str, Any]) -> asyncpg.Record:
    where = ["id", table.parent] if table.parent else ["id"]
    sql, args = update_sql(table.name, updates, where, table.columns, touch=table.touch)
    row = await conn.fetchrow(sql, *table.keys(row_id, parent_id), *args)
    if row is None:
        raise not_found(table.entity, row_id)
    return row


async def delete(conn: asyncpg.Connection, table: Table, row_id: uuid.UUID, parent_id: uuid.UUID | None) -> None:
    status = await conn.execute(f"DELETE FROM {table.name} WHERE {table.where(True)}",
                                *table.keys(row_id, parent_id))
    if status == "DELETE 0":
        raise not_found(table.entity, row_id)
