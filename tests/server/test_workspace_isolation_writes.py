"""Per-workspace access for writes: a member of workspace A (an admin there) calls every POST, PUT, PATCH and DELETE
route of the route registry that names workspace B (in its path or its body) and gets 404; B is unchanged after.

Every write route must be classified below; a new one fails ``test_every_write_route_is_classified`` until it is.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from aiohttp import web
from conftest import USER_PASSWORD
from domain_api import Api
from workspace_world import WORKSPACE_ENV, two_worlds

from req1_server.appkeys import ROUTE_SPECS
from req1_server.scope import PARAM

# Routes whose path names the workspace: path → what its `{id}` is (None: no `{id}`).
IN_PATH: dict[str, str | None] = {
    "/api/v1/workspaces/{id}": "workspace",
    "/api/v1/workspaces/{workspace_id}/members/{user_id}": None,
    "/api/v1/workspaces/{ws}/projects": None,
    "/api/v1/workspaces/{ws}/projects/{id}": "project",
    "/api/v1/modules/{id}": "module",
    "/api/v1/modules/{module_id}/objects": None,
    "/api/v1/modules/{module_id}/objects/{id}": "object",
    "/api/v1/modules/{module_id}/objects/{id}/move": "object",
    "/api/v1/modules/{module_id}/objects/{id}/sync": "object",
    "/api/v1/modules/{module_id}/objects/{id}/break-link": "object",
    "/api/v1/modules/{module_id}/sync-placeholders": None,
    "/api/v1/modules/{module_id}/attribute-definitions": None,
    "/api/v1/modules/{module_id}/attribute-definitions/{id}": "attribute_definition",
    "/api/v1/links/{id}": "link",
    "/api/v1/modules/{module_id}/baselines": None,
    "/api/v1/modules/{module_id}/baselines/{id}": "baseline",
    "/api/v1/modules/{module_id}/views": None,
    "/api/v1/modules/{module_id}/views/{id}": "view",
    "/api/v1/objects/{object_id}/comments": None,
    "/api/v1/objects/{object_id}/comments/{id}": "comment",
    "/api/v1/objects/{object_id}/attachments": None,
    "/api/v1/objects/{object_id}/attachments/{id}": "attachment",
    "/api/v1/modules/{module_id}/import/csv": None,
    "/api/v1/projects/{project_id}/reqif/import": None,
    "/api/v1/object-types/{id}": "object_type",
    "/api/v1/modules/{module_id}/lifecycle-models": None,
    "/api/v1/modules/{module_id}/lifecycle-models/{id}": "lifecycle_model",
    "/api/v1/modules/{module_id}/webhooks": None,
    "/api/v1/modules/{module_id}/webhooks/{id}": "webhook",
    "/api/v1/modules/{module_id}/webhooks/{id}/deliveries/{delivery_id}/redeliver": "webhook",
    "/api/v1/review-packages/{package_id}/assignments": None,
    "/api/v1/review-packages/{package_id}/assignments/{id}": "assignment",
    "/api/v1/review-packages/{package_id}/comments": None,
    "/api/v1/review-packages/{package_id}/comments/{id}": "review_comment",
    "/api/v1/modules/{module_id}/review-packages": None,
    "/api/v1/modules/{module_id}/review-packages/{id}": "package",
    "/api/v1/modules/{module_id}/review-packages/{id}/transition": "package",
    "/api/v1/modules/{module_id}/change-proposals": None,
    "/api/v1/modules/{module_id}/change-proposals/{id}": "proposal",
    "/api/v1/modules/{module_id}/change-proposals/{id}/apply": "proposal",
    "/api/v1/modules/{module_id}/test-cases": None,
    "/api/v1/modules/{module_id}/test-cases/{id}": "test_case",
    "/api/v1/test-cases/{test_case_id}/executions": None,
    "/api/v1/test-cases/{test_case_id}/executions/{id}": "test_execution",
    "/api/v1/modules/{module_id}/diagrams": None,
    "/api/v1/modules/{module_id}/diagrams/{id}": "diagram",
    "/api/v1/users/{id}": "user",  # PATCH: a user who belongs to B only
}
# Routes whose body names the workspace: (method, path) → body, filled from A's and B's ids.
IN_BODY: dict[tuple[str, str], dict[str, str]] = {
    ("POST", "/api/v1/modules"): {"name": "x", "project_id": "{b_project}"},
    ("POST", "/api/v1/modules/from-template"): {"name": "x", "project_id": "{a_project}",
                                                "template_module_id": "{b_module}"},
    ("POST", "/api/v1/links"): {"source_object_id": "{a_object}", "target_object_id": "{b_object}",
                                "link_type_id": "{link_type}"},
    ("POST", "/api/v1/object-types"): {"module_id": "{b_module}", "name": "x"},
    ("POST", "/api/v1/e-signatures"): {"entity_type": "object", "entity_id": "{b_object}",
                                       "password": USER_PASSWORD, "meaning": "m"},
    ("POST", "/api/v1/project-templates/{id}/instantiate"): {"workspace_id": "{b_workspace}", "project_name": "x"},
    ("POST", "/api/v1/modules/{module_id}/objects"): {"heading": "x", "source_object_id": "{b_object}"},
}
# Not inside a workspace, with the reason.
OUTSIDE = {
    "/api/v1/auth/change-password": "the caller's own account",
    "/api/v1/auth/logout": "the caller's own session",
    "/api/v1/auth/link-token": "a token for the caller; the route it is used on checks the workspace",
    "/api/v1/users": "global admins only",
    "/api/v1/dashboards": "501 stub", "/api/v1/dashboards/{id}": "501 stub",
    "/api/v1/workspaces": "creating a workspace: global admins only",
    "/api/v1/link-types": "global", "/api/v1/link-types/{id}": "global",
    "/api/v1/baseline-sets": "global", "/api/v1/baseline-sets/{id}": "global",
    "/api/v1/project-templates": "global", "/api/v1/project-templates/{id}": "global",
    "/api/v1/notifications/{id}/read": "the caller's own (filtered: test_workspace_isolation.py)",
    "/api/v1/notifications/read-all": "the caller's own (filtered by workspace)",
}
# Single routes outside a workspace whose path is classified above for other methods.
OUTSIDE_ROUTES = {("DELETE", "/api/v1/users/{id}"): "global admins only: 403 before anything is looked up"}
FILL = {"ws": "workspace", "workspace_id": "workspace", "project_id": "project", "module_id": "module",
        "object_id": "object", "package_id": "package", "test_case_id": "test_case"}


@pytest.fixture
def server_env(server_env: dict[str, str]) -> dict[str, str]:
    return {**server_env, **WORKSPACE_ENV}


@pytest.fixture
async def worlds(client: Any, admin_token: str, make_user: Any) -> dict[str, Any]:
    return await two_worlds(client, admin_token, make_user)


def write_routes(app: web.Application) -> list[Any]:
    return [s for s in app[ROUTE_SPECS] if s.method not in ("GET", "HEAD") and s.auth]


def test_every_write_route_is_classified(app: web.Application) -> None:
    unclassified = {(s.method, s.path) for s in write_routes(app)
                    if s.path not in IN_PATH and (s.method, s.path) not in IN_BODY and s.path not in OUTSIDE
                    and (s.method, s.path) not in OUTSIDE_ROUTES}
    assert not unclassified, f"classify these write routes for the isolation walk: {sorted(unclassified)}"


def path_for(path: str, id_key: str | None, ids: dict[str, str]) -> str:
    def value(name: str) -> str:
        if name == "id":
            return ids[id_key] if id_key else str(uuid.uuid4())
        return ids[FILL[name]] if name in FILL else ids.get("user", str(uuid.uuid4()))

    return PARAM.sub(lambda m: value(m.group(1)), path)


async def test_member_of_a_cannot_touch_b(client: Any, app: web.Application, admin_token: str,
                                         worlds: dict[str, Any]) -> None:
    a, b, api = worlds["a"], worlds["b"], Api(client, worlds["token"])
    admin = Api(client, admin_token)
    before = [await admin.get(f"/modules/{b['module']}/objects"), await admin.get(f"/workspaces/{b['workspace']}")]
    names = {f"{side}_{key}": value for side, ids in (("a", a), ("b", b)) for key, value in ids.items()}
    names["link_type"] = (await admin.get("/link-types"))[0]["id"]
    problems, walked = [], 0
    for spec in write_routes(app):
        if (spec.method, spec.path) in OUTSIDE_ROUTES:
            continue
        if (spec.method, spec.path) in IN_BODY:
            body = {k: v.format(**names) for k, v in IN_BODY[spec.method, spec.path].items()}
            url = path_for(spec.path, None, a)
        elif spec.path in IN_PATH:
            body, url = {}, path_for(spec.path, IN_PATH[spec.path], b)
        else:
            continue
        result = await api.call(spec.method, url, body)
        walked += 1
        if api.last_status != 404 or set(result or {}) != {"error"}:
            problems.append(f"{spec.method} {spec.path}: {api.last_status} {str(result)[:200]}")
    assert problems == [], "\n".join(problems)
    assert walked > 60
    assert [await admin.get(f"/modules/{b['module']}/objects"), await admin.get(f"/workspaces/{b['workspace']}")] \
        == before
