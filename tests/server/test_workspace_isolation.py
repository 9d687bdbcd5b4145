"""#13 acceptance, per-workspace access: a member of workspace A walks every GET route of the app's route registry
with the ids of workspace B and gets 404 (or, for a list or search over every workspace, nothing of B); with A's
ids the same routes answer 200.

Every GET route must be classified below. A new GET route fails ``test_every_get_route_is_classified`` until it is
put in one of the tables, so no route escapes the walk unnoticed.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from domain_api import Api
from workspace_world import WORKSPACE_ENV, two_worlds, world

from req1_server.appkeys import ROUTE_SPECS
from req1_server.db import DATABASE
from req1_server.scope import PARAM

# Routes inside one workspace: path → (what its `{id}` is, query strings to try; "" is no query). Placeholders in
# a query string are filled from the same workspace.
INSIDE: dict[str, tuple[str | None, tuple[str, ...]]] = {
    "/api/v1/workspaces/{id}": ("workspace", ("",)),
    "/api/v1/workspaces/{ws}/projects": (None, ("",)),
    "/api/v1/workspaces/{ws}/projects/{id}": ("project", ("",)),
    "/api/v1/workspaces/{workspace_id}/members": (None, ("",)),
    "/api/v1/modules/{module_id}/scripts": (None, ("",)),
    "/api/v1/modules/{id}": ("module", ("",)),
    "/api/v1/modules/{module_id}/objects": (None, ("", "search=needle", "include_deleted=true")),
    "/api/v1/modules/{module_id}/objects/{id}": ("object", ("",)),
    "/api/v1/modules/{module_id}/objects/{id}/history": ("object", ("",)),
    "/api/v1/modules/{module_id}/attribute-definitions": (None, ("",)),
    "/api/v1/modules/{module_id}/attribute-definitions/{id}": ("attribute_definition", ("",)),
    "/api/v1/modules/{module_id}/attribute-definitions/{id}/allowed-values": ("attribute_definition", ("",)),
    "/api/v1/links/{id}": ("link", ("",)),
    "/api/v1/modules/{module_id}/baselines": (None, ("",)),
    "/api/v1/modules/{module_id}/baselines/{id}": ("baseline", ("",)),
    "/api/v1/modules/{module_id}/baseline-diff": (None, ("a={baseline}&b=current",)),
    "/api/v1/baseline-diff": (None, ("a={baseline}&b=current", "a={baseline}&b={baseline}")),
    "/api/v1/modules/{module_id}/views": (None, ("",)),
    "/api/v1/modules/{module_id}/views/{id}": ("view", ("",)),
    "/api/v1/objects/{object_id}/comments": (None, ("",)),
    "/api/v1/objects/{object_id}/comments/{id}": ("comment", ("",)),
    "/api/v1/objects/{object_id}/attachments": (None, ("",)),
    "/api/v1/objects/{object_id}/attachments/{id}/download": ("attachment", ("",)),
    "/api/v1/objects/{object_id}/attachments/{id}/verify": ("attachment", ("",)),
    "/api/v1/traceability-matrix": (None, ("source_module_id={module}&target_module_id={module}",)),
    "/api/v1/modules/{module_id}/coverage": (None, ("",)),
    "/api/v1/object-impact/{id}": ("object", ("",)),
    "/api/v1/modules/{module_id}/validate": (None, ("",)),
    "/api/v1/modules/{module_id}/publish": (None, ("", "format=csv")),
    "/api/v1/modules/{module_id}/reqif/export": (None, ("",)),
    "/api/v1/modules/{module_id}/indicators": (None, ("",)),
    "/api/v1/object-types": (None, ("module_id={module}",)),
    "/api/v1/object-types/{id}": ("object_type", ("",)),
    "/api/v1/modules/{module_id}/lifecycle-models": (None, ("",)),
    "/api/v1/modules/{module_id}/lifecycle-models/{id}": ("lifecycle_model", ("",)),
    "/api/v1/modules/{module_id}/webhooks": (None, ("",)),
    "/api/v1/modules/{module_id}/webhooks/{id}": ("webhook", ("",)),
    "/api/v1/modules/{module_id}/webhooks/{id}/deliveries": ("webhook", ("",)),
    "/api/v1/review-packages/{package_id}/assignments": (None, ("",)),
    "/api/v1/review-packages/{package_id}/assignments/{id}": ("assignment", ("",)),
    "/api/v1/review-packages/{package_id}/comments": (None, ("",)),
    "/api/v1/review-packages/{package_id}/comments/{id}": ("review_comment", ("",)),
    "/api/v1/modules/{module_id}/review-packages/voting-summary": (None, ("",)),
    "/api/v1/modules/{module_id}/review-packages": (None, ("",)),
    "/api/v1/modules/{module_id}/review-packages/{id}": ("package", ("",)),
    "/api/v1/e-signatures/entity/{entity_type}/{entity_id}": (None, ("",)),
    "/api/v1/e-signatures/{id}/verify": ("signature", ("",)),
    "/api/v1/modules/{module_id}/change-proposals": (None, ("",)),
    "/api/v1/modules/{module_id}/change-proposals/{id}": ("proposal", ("",)),
    "/api/v1/modules/{module_id}/events": (None, ("",)),
    "/api/v1/modules/{module_id}/test-cases": (None, ("",)),
    "/api/v1/modules/{module_id}/test-cases/{id}": ("test_case", ("",)),
    "/api/v1/test-cases/{test_case_id}/executions": (None, ("",)),
    "/api/v1/test-cases/{test_case_id}/executions/{id}": ("test_execution", ("",)),
    "/api/v1/modules/{module_id}/test-coverage": (None, ("",)),
    "/api/v1/modules/{module_id}/test-dashboard": (None, ("",)),
    "/api/v1/modules/{module_id}/diagrams": (None, ("",)),
    "/api/v1/modules/{module_id}/diagrams/{id}": ("diagram", ("",)),
    "/api/v1/users/{id}": ("user", ("",)),  # a user who belongs to that workspace only
    "/api/v1/links": (None, ("module_id={module}", "source_object_id={object}", "target_object_id={object2}")),
    "/api/v1/modules": (None, ("project_id={project}",)),
}
# Lists and searches over every workspace: 200 for the member, never with anything of B in them.
EVERYWHERE: dict[str, tuple[str, ...]] = {
    "/api/v1/workspaces": ("",),
    "/api/v1/modules": ("",),
    "/api/v1/links": ("",),
    "/api/v1/baselines": ("",),
    "/api/v1/search": ("q=needle",),
    "/api/v1/notifications": ("",),
    "/api/v1/notifications/unread-count": ("",),
    "/api/v1/users": ("",),
    "/api/v1/auth/me": ("",),
}
# Not inside any workspace, with the reason; those without path parameters are still called and must not show B.
OUTSIDE: dict[str, str] = {
    "/api/v1/dashboards": "501 stub of a feature req1 does not have",
    "/api/v1/dashboards/{id}": "501 stub of a feature req1 does not have",
    "/api/v1/link-types": "link types are global (no workspace column)",
    "/api/v1/link-types/{id}": "link types are global (no workspace column)",
    "/api/v1/baseline-sets": "baseline sets are global named groups (no workspace column)",
    "/api/v1/baseline-sets/{id}": "baseline sets are global named groups (no workspace column)",
    "/api/v1/project-templates": "project templates are global",
    "/api/v1/project-templates/{id}": "project templates are global",
    "/api/v1/audit-log": "global admins only (403 for everyone else)",
    "/api/v1/audit-log/verify": "global admins only (403 for everyone else)",
    "/api/v1/_test/read": "test-only route (REQ1_TEST_ROUTES), reads no workspace data",
    "/api/v1/_test/read-fn": "test-only route (REQ1_TEST_ROUTES), reads no workspace data",
    "/api/v1/_test/download": "test-only route (REQ1_TEST_ROUTES), reads no workspace data",
}
FILL = {"ws": "workspace", "workspace_id": "workspace", "project_id": "project", "module_id": "module",
        "object_id": "object", "package_id": "package", "entity_id": "object", "test_case_id": "test_case"}
UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@pytest.fixture
def server_env(server_env: dict[str, str]) -> dict[str, str]:
    return {**server_env, **WORKSPACE_ENV}


def get_routes(app: web.Application) -> list[Any]:
    return [s for s in app[ROUTE_SPECS] if s.method == "GET" and s.auth]


def test_every_get_route_is_classified(app: web.Application) -> None:
    paths = {s.path for s in get_routes(app)}
    unclassified = paths - set(INSIDE) - set(EVERYWHERE) - set(OUTSIDE)
    assert not unclassified, f"classify these GET routes for the isolation walk: {sorted(unclassified)}"
    assert not (set(OUTSIDE) & (set(INSIDE) | set(EVERYWHERE)))


def url_for(path: str, id_key: str | None, query: str, ids: dict[str, str]) -> str:
    def value(name: str) -> str:
        if name == "id":
            assert id_key is not None, path
            return ids[id_key]
        if name == "entity_type":
            return "object"
        return ids[FILL[name]]

    filled = PARAM.sub(lambda m: value(m.group(1)), path)
    return filled + ("?" + query.format(**ids) if query else "")


async def fetch(client: TestClient[web.Request, web.Application], url: str, token: str) -> tuple[int, str]:
    """(status, body text); an event stream is not read (it does not end)."""
    headers = {"Authorization": f"Bearer {token}"}
    if url.split("?")[0].endswith("/events"):
        headers["Accept"] = "text/event-stream"
    resp = await client.get(url, headers=headers, allow_redirects=False)
    try:
        if resp.content_type == "text/event-stream":
            return resp.status, ""
        return resp.status, (await resp.read()).decode("utf-8", "replace")
    finally:
        resp.close()


@pytest.fixture
async def worlds(client: Any, admin_token: str, make_user: Any) -> dict[str, Any]:
    return await two_worlds(client, admin_token, make_user)


def ids_of(world_ids: dict[str, str]) -> set[str]:
    return set(world_ids.values())


async def test_member_of_a_sees_nothing_of_b(client: Any, app: web.Application, worlds: dict[str, Any]) -> None:
    a, b, token = worlds["a"], worlds["b"], worlds["token"]
    b_ids, problems, walked = ids_of(b) - ids_of(a), [], 0
    for spec in get_routes(app):
        if spec.path in INSIDE:
            id_key, queries = INSIDE[spec.path]
            for query in queries:
                status, text = await fetch(client, url_for(spec.path, id_key, query, b), token)
                walked += 1
                if status != 404 or '"error"' not in text:
                    problems.append(f"B {spec.path}?{query}: {status} {text[:200]}")
                status, text = await fetch(client, url_for(spec.path, id_key, query, a), token)
                if status != 200:
                    problems.append(f"A {spec.path}?{query}: {status} {text[:200]}")
                if id_key is not None and len(PARAM.findall(spec.path)) > 1:  # A's parent, B's {id}
                    status, text = await fetch(client, url_for(spec.path, id_key, query, {**a, id_key: b[id_key]}),
                                               token)
                    if status != 404:
                        problems.append(f"A+B {spec.path}?{query}: {status} {text[:200]}")
        if spec.path in EVERYWHERE or (spec.path in OUTSIDE and "{" not in spec.path):
            for query in EVERYWHERE.get(spec.path, ("",)):
                status, text = await fetch(client, url_for(spec.path, None, query, a), token)
                walked += 1
                leaked = b_ids & set(UUID_RE.findall(text))
                if leaked or status in (500, 502, 503) or (spec.path in EVERYWHERE and status != 200):
                    problems.append(f"everywhere {spec.path}?{query}: {status}, B ids {sorted(leaked)}")
    assert problems == [], "\n".join(problems)
    assert walked > 60


async def test_lists_show_what_is_in_a(client: Any, worlds: dict[str, Any]) -> None:
    """The lists over every workspace are not simply empty: A's rows are there, B's are not."""
    api = Api(client, worlds["token"])
    a, b = worlds["a"], worlds["b"]
    assert [w["id"] for w in (await api.get("/workspaces"))["items"]] == [a["workspace"]]
    assert [m["id"] for m in (await api.get("/modules"))["items"]] == [a["module"]]
    assert [link["id"] for link in (await api.get("/links"))["items"]] == [a["link"]]
    assert [x["id"] for x in (await api.get("/baselines"))["items"]] == [a["baseline"]]
    assert [hit["id"] for hit in (await api.get("/search?q=needle"))["items"]] == [a["object"]]
    notes = (await api.get("/notifications"))["items"]
    assert [n["entity_id"] for n in notes] == [a["comment"]]
    assert (await api.get("/notifications/unread-count"))["count"] == 1
    await api.error("POST", f"/notifications/{(await b_notification(client, worlds))}/read", {}, status=404)
    users = {u["id"] for u in (await api.get("/users?limit=200"))["items"]}
    assert a["user"] in users and worlds["uma"]["id"] in users and b["user"] not in users
    me = await api.get("/auth/me")
    assert me["workspaces"] == [{"workspace_id": a["workspace"], "role": "admin"}]
    # a link from A into B (made by a global admin) is neither listed nor walked for a member of A only
    admin = Api(client, worlds["admin_token"])
    link_type = (await admin.get("/link-types"))[0]["id"]
    across = await admin.post("/links", {"source_object_id": a["object"], "target_object_id": b["object"],
                                         "link_type_id": link_type})
    assert across["id"] in {x["id"] for x in (await admin.get("/links"))["items"]}
    assert [link["id"] for link in (await api.get("/links"))["items"]] == [a["link"]]
    assert [link["id"] for link in (await api.get(f"/links?module_id={a['module']}"))["items"]] == [a["link"]]
    impact = await api.get(f"/object-impact/{a['object']}")
    assert [o["id"] for o in impact["objects"]] == [a["object2"]]
    assert len((await admin.get(f"/object-impact/{a['object']}"))["objects"]) == 3  # B's two objects too
    # coverage counts only links whose other end the caller sees: without A's own link, A's object links into B only
    await admin.delete(f"/links/{a['link']}")
    assert (await api.get(f"/modules/{a['module']}/coverage"))["with_downstream"] == 0
    assert (await admin.get(f"/modules/{a['module']}/coverage"))["with_downstream"] == 1


async def b_notification(client: Any, worlds: dict[str, Any]) -> str:
    """The id of U's notification from B's comment (read from the database: U cannot list it)."""
    async with client.app[DATABASE].acquire() as conn:
        return str(await conn.fetchval("SELECT id FROM notification WHERE entity_id = $1",
                                       uuid.UUID(worlds["b"]["comment"])))


async def test_global_model_keeps_the_original_behaviour(client_for: Any, server_env: dict[str, str]) -> None:
    """ACCESS_MODEL=global: no membership checks; a user who belongs to no workspace sees them all."""
    other = await client_for({**server_env, "ACCESS_MODEL": "global"})
    admin = Api(other, (await (await other.post("/api/v1/auth/login", json={
        "email": "admin@localhost", "password": "admin-password-for-tests"})).json())["token"])
    b = await world(admin, "B", mention="nobody")
    await admin.post("/users", {"email": "outsider@example.com", "display_name": "Out", "role": "viewer",
                                "password": "user-password-123"})
    token = (await (await other.post("/api/v1/auth/login", json={
        "email": "outsider@example.com", "password": "user-password-123"})).json())["token"]
    outsider = Api(other, token)
    assert (await outsider.get(f"/modules/{b['module']}"))["id"] == b["module"]
    assert [w["id"] for w in (await outsider.get("/workspaces"))["items"]] == [b["workspace"]]
    assert [hit["id"] for hit in (await outsider.get("/search?q=needle"))["items"]] == [b["object"]]
    assert (await outsider.get(f"/objects/{b['object']}/attachments"))[0]["id"] == b["attachment"]
    assert "workspaces" not in await outsider.get("/auth/me")  # the original shape
