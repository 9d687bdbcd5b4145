"""Per-workspace access (#13): the members routes, the role a member has inside a workspace, and migration 0070's
backfill of existing deployments."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from domain_api import Api
from workspace_world import WORKSPACE_ENV, member

sys.path.insert(0, str(Path(__file__).parents[1] / "web"))
from openapi_check import OpenApiChecker

from req1_server.config import Settings
from req1_server.migrate import MIGRATIONS_DIR, migrate
from req1_server.routing import ROLE_NAMES

NOBODY = "01a239b9-889f-7285-9afe-a1b7ff1f3f3f"


@pytest.fixture
def server_env(server_env: dict[str, str]) -> dict[str, str]:
    return {**server_env, **WORKSPACE_ENV}


class Recording(Api):
    """An Api that keeps every response, to check them against the served OpenAPI document."""

    responses: list[tuple[str, str, int, Any]]

    async def call(self, method: str, path: str, json: Any = None, **kw: Any) -> Any:
        body = await super().call(method, path, json, **kw)
        url = path if path.startswith("/api/") else "/api/v1" + path
        self.responses.append((method, url, self.last_status, body))
        return body


async def test_members_routes(client: Any, admin_token: str, make_user: Any) -> None:
    api = Recording(client, admin_token)
    api.responses = []
    ws = (await api.post("/workspaces", {"name": "Team"}))["id"]
    base = f"/workspaces/{ws}/members"
    listing = await api.get(base)
    assert set(listing) == {"items", "total", "limit", "offset"} and listing["total"] == 1
    assert listing["items"][0]["role"] == "admin" and listing["items"][0]["email"] == "admin@localhost"
    ed, ed_token = await make_user("editor")
    vi, vi_token = await make_user("viewer")
    out, out_token = await make_user("editor")

    item = await member(api, ws, ed["id"], "admin")
    assert set(item) == {"user_id", "email", "display_name", "role", "created_at"}
    assert (item["user_id"], item["email"], item["role"]) == (ed["id"], ed["email"], "admin")
    assert (await member(api.as_(ed_token), ws, vi["id"], "viewer"))["role"] == "viewer"
    assert (await member(api.as_(ed_token), ws, vi["id"], "reviewer"))["role"] == "reviewer"  # changes the role
    audited = (await api.get("/audit-log?entity_type=workspace_member&limit=200"))["items"]
    created = [e["details"]["after"] for e in audited if e["action"] == "create"]
    assert any(c["workspace_id"] == ws and c["user_id"] == vi["id"] and c["role"] == "viewer" for c in created)
    assert any(e["action"] == "update" and e["details"]["after"] == {"role": "reviewer"} for e in audited)
    await api.error("PUT", f"{base}/{out['id']}", {"role": "editor"}, status=403, token=vi_token,
                    message="insufficient role: requires admin")
    await api.error("PUT", f"{base}/{out['id']}", {"role": "editor"}, status=404, token=out_token,
                    message=f"workspace {ws} not found")
    await api.error("GET", base, status=404, token=out_token, message=f"workspace {ws} not found")
    seen = await api.get(base, token=vi_token)
    assert [(m["email"], m["role"]) for m in seen["items"]] == sorted(
        [("admin@localhost", "admin"), (ed["email"], "admin"), (vi["email"], "reviewer")])

    await api.error("PUT", f"{base}/{NOBODY}", {"role": "viewer"}, status=404, message=f"user {NOBODY} not found")
    await api.error("PUT", f"/workspaces/{NOBODY}/members/{vi['id']}", {"role": "viewer"}, status=404,
                    message=f"workspace {NOBODY} not found")
    await api.error("PUT", f"{base}/{vi['id']}", {"role": "boss"}, status=400,
                    message=f"invalid role 'boss', must be one of: {ROLE_NAMES}")
    await api.error("PUT", f"{base}/{vi['id']}", {"role": 3}, status=400)
    await api.error("PUT", f"{base}/{vi['id']}", {}, status=400, message="missing required field 'role'")
    await api.error("PUT", f"{base}/xyz", {"role": "viewer"}, status=400,
                    message="invalid UUID 'xyz' for parameter 'user_id'")

    # the last admin member: only a global admin may remove or demote it
    await api.delete(f"{base}/00000000-0000-0000-0000-000000000002", token=ed_token)
    await api.error("DELETE", f"{base}/{ed['id']}", status=409, token=ed_token,
                    message="only a global admin may remove or demote the workspace's last admin member")
    await api.error("PUT", f"{base}/{ed['id']}", {"role": "editor"}, status=409, token=ed_token)
    await api.error("DELETE", f"{base}/{out['id']}", status=404, message=f"member {out['id']} not found")
    await api.delete(f"{base}/{ed['id']}")
    assert [m["user_id"] for m in (await api.get(base))["items"]] == [vi["id"]]
    await api.error("GET", f"/workspaces/{ws}", status=404, token=ed_token)  # no longer a member

    document = await (await client.get("/api/docs/openapi.json")).json()
    checker = OpenApiChecker(document)
    problems = [p for method, url, status, body in api.responses for p in checker.problems(method, url, status, body)]
    assert problems == [] and checker.checked >= 15


async def test_the_role_inside_a_workspace_replaces_the_global_role(client: Any, admin_token: str,
                                                                    make_user: Any) -> None:
    api = Api(client, admin_token)
    ws = (await api.post("/workspaces", {"name": "A"}))["id"]
    project = (await api.post(f"/workspaces/{ws}/projects", {"name": "P"}))["id"]
    m = (await api.post("/modules", {"name": "M", "project_id": project}))["id"]
    obj = await api.obj(m, heading="h")
    global_editor, ge_token = await make_user("editor")
    global_viewer, gv_token = await make_user("viewer")
    plain_viewer, pv_token = await make_user("viewer")
    await member(api, ws, global_editor["id"], "viewer")
    await member(api, ws, global_viewer["id"], "editor")
    await member(api, ws, plain_viewer["id"], "viewer")

    # a viewer member cannot edit there, even an editor globally
    for token in (ge_token, pv_token):
        await api.error("POST", f"/modules/{m}/objects", {"heading": "x"}, status=403, token=token,
                        message="insufficient role: requires editor")
        await api.error("PATCH", f"/modules/{m}/objects/{obj['id']}", {"heading": "x"}, status=403, token=token)
        await api.error("POST", "/modules", {"name": "N", "project_id": project}, status=403, token=token)
        await api.error("POST", f"/objects/{obj['id']}/comments", {"body": "c"}, status=403, token=token)
    # the member's role is checked before the body when the path names the workspace (403 before 400)
    await api.error("POST", f"/modules/{m}/objects", {"heading": 5}, status=403, token=ge_token)
    # an editor member can, even a viewer globally (the body's project_id names the workspace too)
    await api.post(f"/modules/{m}/objects", {"heading": "by a member"}, token=gv_token)
    await api.patch(f"/modules/{m}/objects/{obj['id']}", {"heading": "edited"}, token=gv_token)
    await api.post("/modules", {"name": "N", "project_id": project}, token=gv_token)
    # an editor member is no admin there
    await api.error("PATCH", f"/workspaces/{ws}", {"name": "x"}, status=403, token=gv_token)
    await member(api, ws, global_viewer["id"], "admin")
    await api.patch(f"/workspaces/{ws}", {"description": "renamed by its admin member"}, token=gv_token)
    # creating a workspace stays with global admins
    await api.error("POST", "/workspaces", {"name": "x"}, status=403, token=gv_token)
    # bad input inside a workspace is still the route's 400, not a 404
    await api.error("GET", f"/e-signatures/entity/thing/{obj['id']}", status=400, token=gv_token)
    await api.error("GET", "/links?module_id=nope", status=400, token=gv_token)
    # a global admin needs no membership
    _, other_admin = await make_user("admin")
    assert (await api.get(f"/modules/{m}", token=other_admin))["id"] == m


async def test_migration_makes_existing_users_members_of_existing_workspaces(pg_dsn: str, tmp_path: Path) -> None:
    before = tmp_path / "before"
    before.mkdir()
    for path in MIGRATIONS_DIR.glob("*.sql"):
        if path.name < "0070":
            shutil.copy(path, before / path.name)
    settings = Settings.from_env({"DATABASE_URL": pg_dsn, "ADMIN_PASSWORD": "admin-password-for-tests",
                                  "JWT_SECRET": "x" * 40})
    await migrate(pg_dsn, settings, before)
    conn = await asyncpg.connect(pg_dsn)
    try:
        await conn.execute("""
            INSERT INTO app_user (id, email, display_name, role) VALUES
              ('01a239b9-0000-7000-8000-000000000001', 'ed@example.com', 'Ed', 'editor'),
              ('01a239b9-0000-7000-8000-000000000002', 'vi@example.com', 'Vi', 'viewer');
            INSERT INTO workspace (id, name) VALUES
              ('01a239b9-0000-7000-8000-0000000000a1', 'One'), ('01a239b9-0000-7000-8000-0000000000a2', 'Two');
            INSERT INTO project (id, workspace_id, name) VALUES
              ('01a239b9-0000-7000-8000-0000000000b1', '01a239b9-0000-7000-8000-0000000000a2', 'P');
        """)
        assert not await conn.fetchval("SELECT to_regclass('workspace_member') IS NOT NULL")
        report = await migrate(pg_dsn, settings)
        assert report.applied[0] == "0070_workspace_members.sql"  # later migrations follow
        rows = await conn.fetch("""
            SELECT w.name, u.email, m.role FROM workspace_member m JOIN workspace w ON w.id = m.workspace_id
            JOIN app_user u ON u.id = m.user_id ORDER BY 1, 2""")
        users = (("admin@localhost", "admin"), ("ed@example.com", "editor"), ("vi@example.com", "viewer"))
        assert [tuple(r) for r in rows] == [(ws, email, role) for ws in ("One", "Two") for email, role in users]
        assert str(await conn.fetchval("SELECT req1_workspace_of('project', '01a239b9-0000-7000-8000-0000000000b1')")) \
            == "01a239b9-0000-7000-8000-0000000000a2"
        assert await conn.fetchval("SELECT count(*) FROM audit_log WHERE entity_type = 'workspace_member'") == 0
    finally:
        await conn.close()
