"""Change proposals of a module (extended contract §4, migration 0060): rows, status moves with their audit
entry, the check that ``diff_data`` names objects of the module, and ``apply`` — every object edited through the
normal object update path (version, history, fingerprint, suspect links, webhook deliveries) in the caller's one
transaction, after every ``old_value`` was found current."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import asyncpg

from req1_server.domain.change_proposals import (
    FROZEN,
    NOT_APPROVED,
    Change,
    ProposalError,
    check_move,
    grouped,
    object_updates,
    parse_diff,
)
from req1_server.errors import bad_request, conflict
from req1_server.routing import CurrentUser
from req1_server.store import audit, crud
from req1_server.store.object_writes import Edit, Editor

COLUMNS = "id, module_id, title, description, status, author_id, diff_data, created_at, updated_at"
TABLE = crud.Table("change_proposal", "change_proposal", COLUMNS, "created_at DESC, id DESC", parent="module_id",
                   nullable=frozenset({"description"}), touch=True)
MOVE = f"UPDATE change_proposal SET status = $2, updated_at = now() WHERE id = $1 RETURNING {COLUMNS}"
LIVE_IN_MODULE = "SELECT id FROM object WHERE id = ANY($1::uuid[]) AND module_id = $2 AND deleted_at IS NULL"
LOCK_OBJECTS = """
SELECT id, heading, body, classification, lifecycle_state, attributes FROM object
WHERE id = ANY($1::uuid[]) AND module_id = $2 AND deleted_at IS NULL ORDER BY id FOR UPDATE
"""


def changes_of(raw: Any) -> list[Change]:
    try:
        return parse_diff(raw)
    except ProposalError as exc:
        raise bad_request(str(exc)) from None


async def check_diff(conn: asyncpg.Connection, module_id: uuid.UUID, raw: Any) -> None:
    """400 unless ``raw`` is a valid ``diff_data`` whose objects are live objects of the module."""
    wanted = [c.object_id for c in changes_of(raw)]
    found = {r["id"] for r in await conn.fetch(LIVE_IN_MODULE, wanted, module_id)} if wanted else set()
    for object_id in wanted:
        if object_id not in found:
            raise bad_request(f"object {object_id} is not in this module")


def refuse_frozen(row: Any, updates: dict[str, Any]) -> None:
    if "diff_data" in updates and row["status"] == "approved" and updates["diff_data"] != row["diff_data"]:
        raise conflict(FROZEN)


@dataclass(frozen=True)
class Actor:
    """Who writes: the caller and their client IP (audit entries written explicitly)."""

    user: CurrentUser
    ip: str | None


async def move(conn: asyncpg.Connection, row: Any, wanted: str, actor: Actor) -> asyncpg.Record:
    """Status along the graph (400 otherwise) with its `transition` entry; ``row`` is locked by the caller."""
    try:
        check_move(row["status"], wanted)
    except ProposalError as exc:
        raise bad_request(str(exc)) from None
    moved = await conn.fetchrow(MOVE, row["id"], wanted)
    await audit.record(conn, "transition", "change_proposal", row["id"], user_id=actor.user.id, ip=actor.ip,
                       details={"from": row["status"], "to": wanted, "signature_id": None})
    return moved


async def apply(conn: asyncpg.Connection, module_id: uuid.UUID, proposal_id: uuid.UUID,
                actor: Actor) -> tuple[asyncpg.Record, int]:
    """Apply an approved proposal: all objects or none (409 on a stale ``old_value``), then `applied`."""
    row = await crud.get(conn, TABLE, proposal_id, module_id, lock=True)
    if row["status"] != "approved":
        raise conflict(NOT_APPROVED)
    per_object = grouped(changes_of(row["diff_data"]))
    current = {r["id"]: r for r in await conn.fetch(LOCK_OBJECTS, list(per_object), module_id)}
    edits: list[tuple[uuid.UUID, dict[str, Any]]] = []
    for object_id, changes in per_object.items():  # decide everything before the first write
        if object_id not in current:
            raise conflict(f"object {object_id} is not in this module")
        try:
            edits.append((object_id, object_updates(current[object_id], changes)))
        except ProposalError as exc:
            raise conflict(str(exc)) from None
    for object_id, updates in edits:
        edit = Edit(updates, role=actor.user.role.value)
        await Editor(module_id, object_id, edit, actor.user.id).content_locked(conn)
    await audit.record(conn, "apply", "change_proposal", proposal_id, user_id=actor.user.id, ip=actor.ip,
                       details={"objects_updated": len(edits)})
    return await move(conn, row, "applied", actor), len(edits)
