"""Users CRUD (§2.4) with roles enforced by the route table and last-admin protection."""

from __future__ import annotations

import asyncio
from typing import Any

ADMIN_ID = "00000000-0000-0000-0000-000000000002"


async def test_crud_and_listing(client: Any, admin_token: str, make_user: Any, auth: Any) -> None:
    resp = await client.post("/api/v1/users", json={"email": "Zed@Example.com", "display_name": "Zed",
                                                    "role": "editor", "password": "password-123"},
                             headers=auth(admin_token))
    zed = await resp.json()
    assert resp.status == 201, zed
    assert zed["role"] == "editor" and zed["active"] is True and zed["email"] == "Zed@Example.com"
    _viewer, viewer_token = await make_user("viewer", email="amy@example.com")
    listing = await (await client.get("/api/v1/users", headers=auth(viewer_token))).json()
    assert [u["email"] for u in listing["items"]] == ["admin@localhost", "amy@example.com", "Zed@Example.com"]
    assert listing["total"] == 3 and listing["offset"] == 0 and listing["limit"] == 50
    page = await (await client.get("/api/v1/users?limit=1&offset=1", headers=auth(viewer_token))).json()
    assert [u["email"] for u in page["items"]] == ["amy@example.com"] and page["total"] == 3
    clamp = await (await client.get("/api/v1/users?limit=5000", headers=auth(viewer_token))).json()
    assert clamp["limit"] == 1000
    one = await (await client.get(f"/api/v1/users/{zed['id']}", headers=auth(viewer_token))).json()
    assert one == zed
    resp = await client.patch(f"/api/v1/users/{zed['id']}", json={"active": False}, headers=auth(admin_token))
    assert resp.status == 200 and (await resp.json())["active"] is False
    inactive = await (await client.get("/api/v1/users?active=false", headers=auth(viewer_token))).json()
    assert [u["email"] for u in inactive["items"]] == ["Zed@Example.com"]
    dup = await client.post("/api/v1/users", json={"email": "zed@example.com", "display_name": "Z2"},
                            headers=auth(admin_token))
    assert dup.status == 409
    assert (await client.delete(f"/api/v1/users/{zed['id']}", headers=auth(admin_token))).status == 204
    gone = await client.get(f"/api/v1/users/{zed['id']}", headers=auth(admin_token))
    assert gone.status == 404
    assert (await gone.json())["error"]["message"] == f"user {zed['id']} not found"


async def test_roles(client: Any, make_user: Any, auth: Any) -> None:
    editor, editor_token = await make_user("editor")
    other, _ = await make_user("viewer")
    denied = await client.post("/api/v1/users", json={"email": "q@x", "display_name": "Q"}, headers=auth(editor_token))
    assert denied.status == 403
    assert (await denied.json())["error"]["message"] == "insufficient role: requires admin"
    # own display_name: allowed; own role or someone else's name: admin only
    mine = await client.patch(f"/api/v1/users/{editor['id']}", json={"display_name": "Renamed"},
                              headers=auth(editor_token))
    assert mine.status == 200 and (await mine.json())["display_name"] == "Renamed"
    escalate = await client.patch(f"/api/v1/users/{editor['id']}", json={"role": "admin"}, headers=auth(editor_token))
    assert escalate.status == 403
    theirs = await client.patch(f"/api/v1/users/{other['id']}", json={"display_name": "X"}, headers=auth(editor_token))
    assert theirs.status == 403
    assert (await client.delete(f"/api/v1/users/{other['id']}", headers=auth(editor_token))).status == 403


async def test_last_admin_protection(client: Any, admin_token: str, make_user: Any, auth: Any) -> None:
    for change in ({"role": "editor"}, {"active": False}):
        resp = await client.patch(f"/api/v1/users/{ADMIN_ID}", json=change, headers=auth(admin_token))
        assert resp.status == 409
        assert (await resp.json())["error"]["message"] == "cannot remove the last active admin"
    resp = await client.delete(f"/api/v1/users/{ADMIN_ID}", headers=auth(admin_token))
    assert resp.status == 409
    second, second_token = await make_user("admin")
    # two admins demoting each other at once: exactly one wins
    results = await asyncio.gather(
        client.patch(f"/api/v1/users/{ADMIN_ID}", json={"role": "viewer"}, headers=auth(second_token)),
        client.patch(f"/api/v1/users/{second['id']}", json={"role": "viewer"}, headers=auth(admin_token)),
    )
    statuses = sorted(r.status for r in results)
    assert statuses in ([200, 403], [200, 409]), statuses
    admins = await (await client.get("/api/v1/users", headers=auth(second_token))).json()
    assert any(u["role"] == "admin" and u["active"] for u in admins["items"])


async def test_new_password_revokes_sessions(client: Any, admin_token: str, make_user: Any, auth: Any) -> None:
    user, token = await make_user("viewer")
    resp = await client.patch(f"/api/v1/users/{user['id']}", json={"password": "brand-new-password"},
                              headers=auth(admin_token))
    assert resp.status == 200
    assert (await client.get("/api/v1/auth/me", headers=auth(token))).status == 401
    bad_pw = await client.patch(f"/api/v1/users/{user['id']}", json={"password": "short"}, headers=auth(admin_token))
    assert bad_pw.status == 400


async def test_patch_null_is_ignored_for_non_nullable(client: Any, admin_token: str, make_user: Any,
                                                      auth: Any) -> None:
    user, _ = await make_user("viewer", display_name="Keep Me")
    resp = await client.patch(f"/api/v1/users/{user['id']}", json={"display_name": None, "role": None},
                              headers=auth(admin_token))
    body = await resp.json()
    assert resp.status == 200, body
    assert body["display_name"] == "Keep Me" and body["role"] == "viewer"
    assert body["updated_at"] >= user["updated_at"]
