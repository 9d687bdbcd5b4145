"""Review packages of a module (extended contract §3.1): CRUD, the status graph with its signature rule
(`transition`, and PATCH `status` under the same rules), and the voting summary.

Who may: GET any role; create and delete editor+; `transition` and PATCH `status` reviewer+ (name and
description editor+). A signed transition checks the password before the transaction that moves the status and
stores the signature, so a refused password costs no lock and leaves only its `sign_failed` entry.
"""

from __future__ import annotations

from typing import Annotated, Any

from aiohttp import web

from req1_server.apischema import COMPONENTS, INT, STR, TIME, UUID, array, envelope, nullable, obj, ref
from req1_server.db import database
from req1_server.domain.ids import new_id
from req1_server.domain.reviews import PACKAGE_STATUSES, ReviewError, Signing, package_status
from req1_server.http import json_response, no_content, page_envelope
from req1_server.resources.esignatures import OptMeaning
from req1_server.resources.esignatures_reauth import reauthenticate, signer_of
from req1_server.routing import Role, Routes, user_of
from req1_server.store import crud
from req1_server.store import review_packages as store
from req1_server.store.patch import changes
from req1_server.store.rows import require_module
from req1_server.typed import (
    BodyModel,
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

routes = Routes(tag="review packages")
COLLECTION = "/api/v1/modules/{module_id}/review-packages"
ITEM = COLLECTION + "/{id}"
STATUS = {"type": "string", "enum": list(PACKAGE_STATUSES)}

COMPONENTS.update({  # this feature's response shapes, kept beside it
    "ReviewPackage": obj(["id", "module_id", "name", "description", "status", "created_by", "created_at",
                          "updated_at"], id=UUID, module_id=UUID, name=STR, description=nullable(STR), status=STATUS,
                         created_by=nullable(UUID), created_at=TIME, updated_at=TIME),
    "VotingSummary": obj(["package_id", "package_name", "package_status", "total_assignments", "approved",
                          "rejected", "abstained", "pending"], package_id=UUID, package_name=STR,
                         package_status=STATUS, total_assignments=INT, approved=INT, rejected=INT, abstained=INT,
                         pending=INT),
})


def _status(value: Any, name: str) -> str:
    as_str(value, name)
    try:
        return package_status(value)
    except ReviewError as exc:
        raise reject(str(exc)) from None


Status = Annotated[str, checked(_status, required=True)]
OptStatus = Annotated[str | None, checked(_status)]


class PackageCreate(BodyModel):
    name: Name
    description: OptText = None


class PackagePatch(BodyModel):
    """`status` moves along the graph like `transition`, without a signature (a transition that needs one is
    refused); name and description are editor+."""

    field_roles = {"name": "editor", "description": "editor"}
    name: OptName = None
    description: OptText = None
    status: OptStatus = None


class Transition(BodyModel):
    check_order = ("status", "meaning")
    status: Status
    password: OptText = None
    meaning: OptMeaning = None


@routes.get(COLLECTION + "/voting-summary", params=InModule, response=array(ref("VotingSummary")))
async def voting_summary(request: web.Request, path: InModule) -> web.Response:
    """Vote counts per package of the module, newest package first (a plain array)."""
    async with database(request).acquire() as conn:
        return json_response(await store.voting_summary(conn, path.module_id))


@routes.get(COLLECTION, params=InModule, query=LongPaged, response=envelope("ReviewPackage"))
async def list_review_packages(request: web.Request, path: InModule, query: LongPaged) -> web.Response:
    """The module's review packages, newest first."""
    async with database(request).acquire() as conn:
        await require_module(conn, path.module_id)
        rows, total = await crud.page(conn, store.TABLE, path.module_id, query.page)
    return json_response(page_envelope(rows, total, query.page))


@routes.post(COLLECTION, params=InModule, body=PackageCreate, status=201, response=ref("ReviewPackage"))
async def create_review_package(request: web.Request, path: InModule, body: PackageCreate) -> web.Response:
    """A package in `draft`, created by the caller."""
    values = {"id": new_id(), "module_id": path.module_id, "name": body.name, "description": body.description,
              "created_by": user_of(request).id}

    async def create(conn: Any) -> Any:
        await require_module(conn, path.module_id)
        return await crud.insert(conn, store.TABLE, values)

    return json_response(await database(request).transaction(create), status=201)


@routes.get(ITEM, params=ModuleItem, response=ref("ReviewPackage"))
async def get_review_package(request: web.Request, path: ModuleItem) -> web.Response:
    """One package of the module."""
    async with database(request).acquire() as conn:
        await require_module(conn, path.module_id)
        return json_response(await crud.get(conn, store.TABLE, path.id, path.module_id))


@routes.patch(ITEM, role=Role.REVIEWER, params=ModuleItem, body=PackagePatch, response=ref("ReviewPackage"))
async def update_review_package(request: web.Request, path: ModuleItem, body: PackagePatch) -> web.Response:
    """Name and description (editor+); `status` (reviewer+) as an unsigned transition."""
    updates = changes(body, store.TABLE.nullable, skip=("status",))
    ask = store.Move(path.module_id, path.id, body.status or "", Signing(), signer_of(request, user_of(request)))

    async def update(conn: Any) -> Any:
        row = await store.package_with_config(conn, path.module_id, path.id, lock=True)
        if body.status is not None and body.status != row["status"]:
            await store.move(conn, ask)
        return await crud.update(conn, store.TABLE, path.id, path.module_id, updates) if updates else \
            await crud.get(conn, store.TABLE, path.id, path.module_id)

    return json_response(await database(request).transaction(update))


@routes.delete(ITEM, params=ModuleItem)
async def delete_review_package(request: web.Request, path: ModuleItem) -> web.Response:
    """Delete a package with its assignments and comments; one that was signed is kept (409)."""
    async def delete(conn: Any) -> None:
        row = await store.package_with_config(conn, path.module_id, path.id, lock=True)
        await store.refuse_signed(conn, row)
        await crud.delete(conn, store.TABLE, path.id, path.module_id)

    await database(request).transaction(delete)
    return no_content()


@routes.post(ITEM + "/transition", role=Role.REVIEWER, params=ModuleItem, body=Transition,
             response=ref("ReviewPackage"))
async def transition_review_package(request: web.Request, path: ModuleItem, body: Transition) -> web.Response:
    """Move the package along its graph; a listed transition (module `signature_config`) needs password and
    meaning, which sign it (§3.4) in the same transaction. Audited as `transition`."""
    user = user_of(request)
    signing = Signing(body.password, body.meaning)
    async with database(request).acquire() as conn:  # refuse what cannot happen before hashing a password
        signs = store.planned(await store.package_with_config(conn, path.module_id, path.id), body.status, signing,
                              user.id)
    signer = signer_of(request, user)
    if signs:
        assert body.password is not None
        signer = await reauthenticate(request, user, body.password, "review_package", path.id)
    ask = store.Move(path.module_id, path.id, body.status, signing, signer)
    return json_response(await database(request).transaction(lambda conn: store.move(conn, ask)))
