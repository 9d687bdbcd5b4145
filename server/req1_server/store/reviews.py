"""Assignments (votes) and comments of a review package (extended contract §3.2, §3.3, migration 0050).

Assigning a reviewer notifies them (``review_assignment``, §6) in the assignment's transaction; a vote sets or
clears ``signed_at`` and is audited as ``vote``. Comment mentions notify through the trigger of 0035.
"""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg

from req1_server.domain.ids import new_id
from req1_server.errors import conflict, forbidden, not_found
from req1_server.routing import CurrentUser, Role, require_role
from req1_server.store import audit, crud
from req1_server.store.review_packages import require_package

ASSIGNMENTS = crud.Table("review_assignment", "review_assignment",
                         "id, package_id, reviewer_id, status, comment, signed_at, created_at", "created_at, id",
                         parent="package_id", nullable=frozenset({"comment"}))
COMMENTS = crud.Table("review_comment", "review_comment",
                      "id, package_id, author_id, body, mentioned_user_ids, created_at, updated_at", "created_at, id",
                      parent="package_id", touch=True)
HOLD_PACKAGE = "SELECT id, name FROM review_package WHERE id = $1 FOR KEY SHARE"  # not deleted under us
ACTIVE_USER = "SELECT id FROM app_user WHERE id = $1 AND active"
ASSIGNED = "SELECT 1 FROM review_assignment WHERE package_id = $1 AND reviewer_id = $2"
NOTIFY = """
INSERT INTO notification (id, user_id, notification_type, title, entity_type, entity_id)
VALUES (req1_uuid7(), $1, 'review_assignment', $2, 'review_package', $3)
"""
NOT_THE_REVIEWER = "only the assigned reviewer or an admin may vote"
NOT_THE_AUTHOR = "only the author or an admin may do this"


def already_assigned(reviewer_id: uuid.UUID) -> Exception:
    return conflict(f"user {reviewer_id} is already assigned to this package")


async def assign(conn: asyncpg.Connection, package_id: uuid.UUID, reviewer_id: uuid.UUID | None,
                 assigner: CurrentUser) -> asyncpg.Record:
    """A pending assignment; the reviewer (an active user, once per package) is notified unless they assigned
    themselves."""
    package = await conn.fetchrow(HOLD_PACKAGE, package_id)
    if package is None:
        raise not_found("review_package", package_id)
    if reviewer_id is not None:
        if await conn.fetchval(ACTIVE_USER, reviewer_id) is None:
            raise not_found("user", reviewer_id)
        if await conn.fetchval(ASSIGNED, package_id, reviewer_id):
            raise already_assigned(reviewer_id)
    try:
        row = await crud.insert(conn, ASSIGNMENTS, {"id": new_id(), "package_id": package_id,
                                                    "reviewer_id": reviewer_id})
    except asyncpg.UniqueViolationError:  # a concurrent assignment of the same reviewer won
        assert reviewer_id is not None
        raise already_assigned(reviewer_id) from None
    if reviewer_id is not None and reviewer_id != assigner.id:
        await conn.execute(NOTIFY, reviewer_id, f"You were assigned to review '{package['name']}'", package_id)
    return row


def may_vote(user: CurrentUser, row: Any) -> None:
    """The assigned reviewer or an admin; an assignment without a reviewer: any reviewer+."""
    if row["reviewer_id"] is None:
        require_role(user, Role.REVIEWER)
    elif row["reviewer_id"] != user.id and not user.role.at_least(Role.ADMIN):
        raise forbidden(NOT_THE_REVIEWER)


async def vote(conn: asyncpg.Connection, user: CurrentUser, package_id: uuid.UUID, assignment_id: uuid.UUID,
               updates: dict[str, Any]) -> asyncpg.Record:
    """``status`` and/or ``comment`` by whoever may vote; a status is a vote (``signed_at`` now, or cleared by
    ``pending``), audited as ``vote``."""
    await require_package(conn, package_id)
    row = await crud.get(conn, ASSIGNMENTS, assignment_id, package_id, lock=True)
    may_vote(user, row)
    if "status" in updates:
        pending = updates["status"] == "pending"
        signed_at = None if pending else await conn.fetchval("SELECT now()")
        updates = {**updates, "signed_at": signed_at}
        await audit.record(conn, "vote", "review_assignment", assignment_id, user_id=user.id,
                           details={"status": updates["status"], "package_id": str(package_id)})
    if not updates:
        return row
    return await crud.update(conn, ASSIGNMENTS, assignment_id, package_id, updates)


def own_or_admin(user: CurrentUser, row: Any) -> None:
    if row["author_id"] != user.id and not user.role.at_least(Role.ADMIN):
        raise forbidden(NOT_THE_AUTHOR)
