"""Reviews (extended contract §3): assignments with their votes and package comments here; the packages
themselves (``review_packages.py``) and e-signatures (``esignatures.py``) are registered through this module's
``routes`` too, so the feature is one entry of RESOURCE_MODULES.

Who may: GET any role; assign and unassign editor+; vote (PATCH an assignment) the assigned reviewer or an
admin — any reviewer+ when nobody is assigned; comment reviewer+, edit or delete one's own (or admin).
"""

from __future__ import annotations

from typing import Annotated, Any

import asyncpg
from aiohttp import web

from req1_server.apischema import COMPONENTS, STR, TIME, UUID, UUID_LIST, envelope, nullable, obj, ref
from req1_server.db import database
from req1_server.domain.reviews import VOTES, ReviewError, vote_status
from req1_server.errors import bad_request
from req1_server.http import json_response, no_content, page_envelope
from req1_server.resources import esignatures, review_packages
from req1_server.resources.comments import mentions
from req1_server.resources.crud import Resource, Values, declare
from req1_server.routing import CurrentUser, Role, Routes, user_of
from req1_server.store import crud
from req1_server.store import reviews as store
from req1_server.store.patch import changes
from req1_server.store.review_packages import require_package
from req1_server.typed import BodyModel, LongPaged, Name, OptId, OptText, PathId, PathModel, as_str, checked, reject

routes = Routes(tag="reviews")
ASSIGNMENTS = "/api/v1/review-packages/{package_id}/assignments"
ASSIGNMENT = ASSIGNMENTS + "/{id}"
VOTE = {"type": "string", "enum": list(VOTES)}

COMPONENTS.update({  # this feature's response shapes, kept beside it
    "ReviewAssignment": obj(["id", "package_id", "reviewer_id", "status", "comment", "signed_at", "created_at"],
                            id=UUID, package_id=UUID, reviewer_id=nullable(UUID), status=VOTE, comment=nullable(STR),
                            signed_at=nullable(TIME), created_at=TIME),
    "ReviewComment": obj(["id", "package_id", "author_id", "body", "mentioned_user_ids", "created_at", "updated_at"],
                         id=UUID, package_id=UUID, author_id=nullable(UUID), body=STR, mentioned_user_ids=UUID_LIST,
                         created_at=TIME, updated_at=TIME),
})


def _vote(value: Any, name: str) -> str:
    as_str(value, name)
    try:
        return vote_status(value)
    except ReviewError as exc:
        raise reject(str(exc)) from None


class InPackage(PathModel):
    package_id: PathId


class PackageItem(PathModel):
    package_id: PathId
    id: PathId


class AssignmentCreate(BodyModel):
    optional = True  # `{}` or no body: an assignment nobody holds yet
    reviewer_id: OptId = None


class AssignmentPatch(BodyModel):
    status: Annotated[str | None, checked(_vote)] = None
    comment: OptText = None


@routes.get(ASSIGNMENTS, params=InPackage, query=LongPaged, response=envelope("ReviewAssignment"))
async def list_assignments(request: web.Request, path: InPackage, query: LongPaged) -> web.Response:
    """The package's assignments by creation."""
    async with database(request).acquire() as conn:
        await require_package(conn, path.package_id)
        rows, total = await crud.page(conn, store.ASSIGNMENTS, path.package_id, query.page)
    return json_response(page_envelope(rows, total, query.page))


@routes.post(ASSIGNMENTS, params=InPackage, body=AssignmentCreate, status=201, response=ref("ReviewAssignment"))
async def create_assignment(request: web.Request, path: InPackage, body: AssignmentCreate) -> web.Response:
    """Assign a reviewer (an active user, once per package; notified), or create an open assignment."""
    user = user_of(request)
    row = await database(request).transaction(lambda conn: store.assign(conn, path.package_id, body.reviewer_id, user))
    return json_response(row, status=201)


@routes.get(ASSIGNMENT, params=PackageItem, response=ref("ReviewAssignment"))
async def get_assignment(request: web.Request, path: PackageItem) -> web.Response:
    """One assignment of the package."""
    async with database(request).acquire() as conn:
        await require_package(conn, path.package_id)
        return json_response(await crud.get(conn, store.ASSIGNMENTS, path.id, path.package_id))


@routes.patch(ASSIGNMENT, role=Role.VIEWER, params=PackageItem, body=AssignmentPatch, response=ref("ReviewAssignment"))
async def update_assignment(request: web.Request, path: PackageItem, body: AssignmentPatch) -> web.Response:
    """Vote (`status`; `pending` withdraws the vote) and/or comment, by the assigned reviewer or an admin."""
    user, updates = user_of(request), changes(body, store.ASSIGNMENTS.nullable)
    return json_response(await database(request).transaction(
        lambda conn: store.vote(conn, user, path.package_id, path.id, updates)))


@routes.delete(ASSIGNMENT, params=PackageItem)
async def delete_assignment(request: web.Request, path: PackageItem) -> web.Response:
    """Remove an assignment (and its vote)."""
    async def delete(conn: Any) -> None:
        await require_package(conn, path.package_id)
        await crud.delete(conn, store.ASSIGNMENTS, path.id, path.package_id)

    await database(request).transaction(delete)
    return no_content()


class CommentCreate(BodyModel):
    body: Name


class CommentPatch(BodyModel):
    body: OptText = None


async def package_exists(conn: asyncpg.Connection, package_id: Any) -> None:
    await require_package(conn, package_id)


async def on_create(conn: asyncpg.Connection, user: CurrentUser, values: Values) -> Values:
    return {**values, "author_id": user.id, "mentioned_user_ids": await mentions(conn, values["body"], user.id)}


async def on_update(conn: asyncpg.Connection, user: CurrentUser, row: asyncpg.Record, updates: Values) -> Values:
    """By the author or an admin; mentions recomputed (the newly mentioned are notified by the trigger)."""
    store.own_or_admin(user, row)
    if "body" in updates:
        if not updates["body"].strip():
            raise bad_request("body must not be empty")
        updates["mentioned_user_ids"] = await mentions(conn, updates["body"], row["author_id"] or user.id)
    return updates


async def on_delete(conn: asyncpg.Connection, user: CurrentUser, row: asyncpg.Record) -> None:
    store.own_or_admin(user, row)


declare(routes, "/api/v1/review-packages/{package_id}/comments", Resource(
    store.COMMENTS, CommentCreate, CommentPatch, "review comment", "review comments", "ReviewComment",
    write_role=Role.REVIEWER, parent_param="package_id", parent_check=package_exists,
    parent_checked_on=frozenset({"list", "create", "get", "update", "delete"}), paging=LongPaged,
    on_create=on_create, on_update=on_update, on_delete=on_delete,
    docs={"list": "The package's comments by creation.",
          "create": "Comment as the caller; `@Display Name` mentions notify those users.",
          "update": "Edit by its author or an admin; mentions recomputed, the newly mentioned notified.",
          "delete": "Delete by its author or an admin."},
), __name__)

routes.specs.extend(review_packages.routes.specs + esignatures.routes.specs)
