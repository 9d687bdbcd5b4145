"""Change proposals of a module (extended contract §4): CRUD, the status graph (PATCH `status`) and `apply`,
which edits every object of the proposal in one transaction through the normal object update path.

Who may (§0.3): GET any role; create reviewer+ (the caller is the author); status moves to submitted, in_review,
approved or rejected reviewer+, to applied and `apply` editor+; every other change (title, description,
diff_data, back to draft) and DELETE the author or an editor+.
"""

from __future__ import annotations

from typing import Annotated, Any

from aiohttp import web

from req1_server.apischema import COMPONENTS, INT, JSON_OBJ, STR, TIME, UUID, envelope, nullable, obj, ref
from req1_server.config import SETTINGS
from req1_server.db import database
from req1_server.domain.change_proposals import (
    STATUSES,
    ProposalError,
    parse_diff,
    proposal_status,
    role_needed_for_move,
)
from req1_server.domain.ids import new_id
from req1_server.errors import forbidden
from req1_server.http import json_response, no_content, page_envelope
from req1_server.net import client_ip
from req1_server.routing import CurrentUser, Role, Routes, user_of
from req1_server.store import change_proposals as store
from req1_server.store import crud
from req1_server.store.patch import changes
from req1_server.store.reviews import NOT_THE_AUTHOR
from req1_server.store.rows import require_module
from req1_server.typed import (
    BodyModel,
    EmptyBody,
    InModule,
    LongPaged,
    ModuleItem,
    Name,
    OptName,
    OptText,
    as_str,
    checked,
    reject,
)

routes = Routes(tag="change proposals")
COLLECTION = "/api/v1/modules/{module_id}/change-proposals"
ITEM = COLLECTION + "/{id}"
STATUS = {"type": "string", "enum": list(STATUSES)}
DIFF = {"anyOf": [{"type": "array", "items": JSON_OBJ}, JSON_OBJ]}

COMPONENTS.update({  # this feature's response shapes, kept beside it
    "ChangeProposal": obj(["id", "module_id", "title", "description", "status", "author_id", "diff_data",
                           "created_at", "updated_at"], id=UUID, module_id=UUID, title=STR,
                          description=nullable(STR), status=STATUS, author_id=nullable(UUID), diff_data=DIFF,
                          created_at=TIME, updated_at=TIME),
    "AppliedProposal": obj(["proposal", "objects_updated"], proposal=ref("ChangeProposal"), objects_updated=INT),
})


def _status(value: Any, name: str) -> str:
    as_str(value, name)
    try:
        return proposal_status(value)
    except ProposalError as exc:
        raise reject(str(exc)) from None


def _diff(value: Any, name: str) -> Any:
    try:
        parse_diff(value)
    except ProposalError as exc:
        raise reject(str(exc)) from None
    return value


OptStatus = Annotated[str | None, checked(_status)]
OptDiff = Annotated[list[Any] | dict[str, Any] | None, checked(_diff)]


class ProposalCreate(BodyModel):
    title: Name
    description: OptText = None
    diff_data: OptDiff = None


class ProposalPatch(BodyModel):
    title: OptName = None
    description: OptText = None
    status: OptStatus = None
    diff_data: OptDiff = None


def actor_of(request: web.Request) -> store.Actor:
    return store.Actor(user_of(request), client_ip(request, request.app[SETTINGS].trust_proxy))


def author_or_editor(user: CurrentUser, row: Any) -> None:
    if row["author_id"] != user.id and not user.role.at_least(Role.EDITOR):
        raise forbidden(NOT_THE_AUTHOR)


def may_move(user: CurrentUser, row: Any, wanted: str) -> None:
    needed = role_needed_for_move(wanted)
    if needed is None:
        author_or_editor(user, row)
    elif not user.role.at_least(Role(needed)):
        raise forbidden(f"insufficient role: requires {needed}")


@routes.get(COLLECTION, params=InModule, query=LongPaged, response=envelope("ChangeProposal"))
async def list_change_proposals(request: web.Request, path: InModule, query: LongPaged) -> web.Response:
    """The module's change proposals, newest first."""
    async with database(request).acquire() as conn:
        await require_module(conn, path.module_id)
        rows, total = await crud.page(conn, store.TABLE, path.module_id, query.page)
    return json_response(page_envelope(rows, total, query.page))


@routes.post(COLLECTION, role=Role.REVIEWER, params=InModule, body=ProposalCreate, status=201,
             response=ref("ChangeProposal"))
async def create_change_proposal(request: web.Request, path: InModule, body: ProposalCreate) -> web.Response:
    """A proposal in `draft`, authored by the caller; its objects must be live objects of the module."""
    diff = {} if body.diff_data is None else body.diff_data
    values = {"id": new_id(), "module_id": path.module_id, "title": body.title, "description": body.description,
              "author_id": user_of(request).id, "diff_data": diff}

    async def create(conn: Any) -> Any:
        await require_module(conn, path.module_id)
        await store.check_diff(conn, path.module_id, diff)
        return await crud.insert(conn, store.TABLE, values)

    return json_response(await database(request).transaction(create), status=201)


@routes.get(ITEM, params=ModuleItem, response=ref("ChangeProposal"))
async def get_change_proposal(request: web.Request, path: ModuleItem) -> web.Response:
    """One proposal of the module."""
    async with database(request).acquire() as conn:
        await require_module(conn, path.module_id)
        return json_response(await crud.get(conn, store.TABLE, path.id, path.module_id))


@routes.patch(ITEM, role=Role.REVIEWER, params=ModuleItem, body=ProposalPatch, response=ref("ChangeProposal"))
async def update_change_proposal(request: web.Request, path: ModuleItem, body: ProposalPatch) -> web.Response:
    """Fields (author or editor+; approved diff_data is frozen) and `status` along the graph (role per move)."""
    actor = actor_of(request)
    updates = changes(body, store.TABLE.nullable, skip=("status",))

    async def update(conn: Any) -> Any:
        await require_module(conn, path.module_id)
        row = await crud.get(conn, store.TABLE, path.id, path.module_id, lock=True)
        moves = body.status is not None and body.status != row["status"]
        if moves:
            may_move(actor.user, row, str(body.status))
        if updates:
            author_or_editor(actor.user, row)
            store.refuse_frozen(row, updates)
            if "diff_data" in updates:
                await store.check_diff(conn, path.module_id, updates["diff_data"])
            row = await crud.update(conn, store.TABLE, path.id, path.module_id, updates)
        return await store.move(conn, row, str(body.status), actor) if moves else row

    return json_response(await database(request).transaction(update))


@routes.delete(ITEM, role=Role.REVIEWER, params=ModuleItem)
async def delete_change_proposal(request: web.Request, path: ModuleItem) -> web.Response:
    """Delete a proposal (its author or an editor+)."""
    user = user_of(request)

    async def delete(conn: Any) -> None:
        await require_module(conn, path.module_id)
        author_or_editor(user, await crud.get(conn, store.TABLE, path.id, path.module_id, lock=True))
        await crud.delete(conn, store.TABLE, path.id, path.module_id)

    await database(request).transaction(delete)
    return no_content()


@routes.post(ITEM + "/apply", params=ModuleItem, body=EmptyBody, response=ref("AppliedProposal"))
async def apply_change_proposal(request: web.Request, path: ModuleItem, body: EmptyBody) -> web.Response:
    """Apply an approved proposal atomically: every object or none (409 when a value changed), then `applied`."""
    actor = actor_of(request)

    async def apply(conn: Any) -> dict[str, Any]:
        await require_module(conn, path.module_id)
        proposal, count = await store.apply(conn, path.module_id, path.id, actor)
        return {"proposal": dict(proposal), "objects_updated": count}

    return json_response(await database(request).transaction(apply))
