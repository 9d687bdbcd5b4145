"""Workspace members (#13, per-workspace access): list, add or change a member's role, remove a member.

Any member of the workspace (or a global admin) may read the list; an admin member of the workspace or a global
admin changes it (the routes' workspace_id puts the role check inside the workspace, see access.py). The
workspace's last admin member may be removed or demoted only by a global admin (409 otherwise), so a workspace
never loses its admins by the hand of one of them.
"""

from __future__ import annotations

from typing import Annotated, Any

from aiohttp import web
from pydantic import Field

from req1_server.access import memberships_changed
from req1_server.apischema import COMPONENTS, ROLE, STR, TIME, UUID, envelope, obj, ref
from req1_server.db import database
from req1_server.http import json_response, no_content, page_envelope
from req1_server.routing import ROLE_NAMES, Role, Routes, user_of
from req1_server.store import members as store
from req1_server.typed import BodyModel, Paged, PathId, PathModel, checked, reject

routes = Routes(tag="workspaces")
MEMBERS = "/api/v1/workspaces/{workspace_id}/members"

COMPONENTS.update({  # this feature's response shape, kept beside it
    "WorkspaceMember": obj(["user_id", "email", "display_name", "role", "created_at"], user_id=UUID, email=STR,
                           display_name=STR, role=ROLE, created_at=TIME),
})


def _role(value: Any, name: str) -> str:
    if not isinstance(value, str) or value not in Role.__members__.values():
        raise reject(f"invalid role '{value}', must be one of: {ROLE_NAMES}")
    return value


class InWorkspace(PathModel):
    workspace_id: PathId


class MemberPath(PathModel):
    workspace_id: PathId
    user_id: PathId


class MemberPut(BodyModel):
    role: Annotated[str, checked(_role, required=True), Field(json_schema_extra={"enum": [r.value for r in Role]})]


@routes.get(MEMBERS, params=InWorkspace, query=Paged, response=envelope("WorkspaceMember"))
async def list_members(request: web.Request, path: InWorkspace, query: Paged) -> web.Response:
    """The workspace's members by email, with their role there."""
    async with database(request).acquire() as conn:
        rows, total = await store.page(conn, path.workspace_id, query.page)
    return json_response(page_envelope(rows, total, query.page))


@routes.put(MEMBERS + "/{user_id}", role=Role.ADMIN, params=MemberPath, body=MemberPut,
            response=ref("WorkspaceMember"))
async def put_member(request: web.Request, path: MemberPath, body: MemberPut) -> web.Response:
    """Make a user a member with this role, or change their role (an unknown user is 404)."""
    global_admin = user_of(request).global_admin
    row = await database(request).transaction(
        lambda conn: store.put(conn, path.workspace_id, path.user_id, body.role, global_admin))
    memberships_changed(request)
    return json_response(row)


@routes.delete(MEMBERS + "/{user_id}", role=Role.ADMIN, params=MemberPath)
async def delete_member(request: web.Request, path: MemberPath) -> web.Response:
    """End a membership; the last admin member only by a global admin."""
    global_admin = user_of(request).global_admin
    await database(request).transaction(
        lambda conn: store.remove(conn, path.workspace_id, path.user_id, global_admin))
    memberships_changed(request)
    return no_content()
